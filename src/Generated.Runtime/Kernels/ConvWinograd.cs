using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// 3x3 convolution, stride 1, dilation 1, one group, NCHW, by Winograd F(2x2, 3x3): y = epi(bias + conv(x, w)) computed per
/// 2x2 output tile as Aᵀ[(G w Gᵀ) ⊙ (Bᵀ d B)]A from the 4x4 input patch d, with 16 multiplications per tile and channel pair
/// instead of 36 (2.25x fewer). The weights are transformed at compile time (<see cref="PackWeights"/>): for each of the 16
/// positions ξ an [m, c] matrix in <see cref="ConvPointwise"/> layout, so the 16 products are pointwise-tile GEMMs.
/// Tiles are processed in bands of tile rows (input transform → 16 GEMMs → output transform) that stay in cache; tile rows
/// are padded to a multiple of 8 tiles so the transforms run 8 tiles per vector.
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvWinograd
{
    private const int V = 8;

    /// <summary>Floats of the transformed, packed weights for an [m, c, 3, 3] weight.</summary>
    public static long PackedWeightFloats(int m, int c) => 16 * ConvPointwise.PackedWeightFloats(m, c);

    /// <summary>U_ξ = (G w Gᵀ)[ξ] for ξ = 4i + j, each [m, c] packed by <see cref="ConvPointwise.PackWeights"/>, one after another.</summary>
    public static void PackWeights(ReadOnlySpan<float> w, Span<float> dst, int m, int c)
    {
        long per = ConvPointwise.PackedWeightFloats(m, c);
        var u = new float[16][];
        for (int xi = 0; xi < 16; xi++) u[xi] = new float[m * c];
        double* g = stackalloc double[9];
        double* tile = stackalloc double[16];
        for (int o = 0; o < m; o++)
            for (int ci = 0; ci < c; ci++)
            {
                int b = (o * c + ci) * 9;
                for (int k = 0; k < 9; k++) g[k] = w[b + k];
                FilterTile(g, tile);
                for (int xi = 0; xi < 16; xi++) u[xi][o * c + ci] = (float)tile[xi];
            }
        for (int xi = 0; xi < 16; xi++) ConvPointwise.PackWeights(u[xi], dst.Slice((int)(xi * per), (int)per), m, c);
    }

    /// <summary>
    /// The 4x4 Winograd tile G g Gᵀ of one 3x3 filter g (row-major, 9 values), row-major into <paramref name="tile"/> (16),
    /// in double. Rows of G: [1,0,0], [.5,.5,.5], [.5,-.5,.5], [0,0,1].
    /// </summary>
    internal static void FilterTile(double* g, double* tile)
    {
        double* gw = stackalloc double[12]; // G g: 4x3
        for (int k = 0; k < 3; k++)
        {
            double g0 = g[k], g1 = g[3 + k], g2 = g[6 + k];
            gw[k] = g0;
            gw[3 + k] = 0.5 * (g0 + g1 + g2);
            gw[6 + k] = 0.5 * (g0 - g1 + g2);
            gw[9 + k] = g2;
        }
        for (int i = 0; i < 4; i++)
        {
            double h0 = gw[3 * i], h1 = gw[3 * i + 1], h2 = gw[3 * i + 2];
            tile[4 * i + 0] = h0;
            tile[4 * i + 1] = 0.5 * (h0 + h1 + h2);
            tile[4 * i + 2] = 0.5 * (h0 - h1 + h2);
            tile[4 * i + 3] = h2;
        }
    }

    private static int TileCols(int ow) => ((ow + 1) / 2 + V - 1) / V * V;

    private static int BandTileRows(int c, int m, int oh, int ow)
        => Math.Max(1, Math.Min((oh + 1) / 2, (1 << 16) / (16 * (c + m) * TileCols(ow))));

    /// <summary>Floats of scratch <see cref="Run"/> needs.</summary>
    public static long ScratchFloats(int c, int m, int oh, int ow)
    {
        long tb = (long)BandTileRows(c, m, oh, ow) * TileCols(ow);
        return 16 * (c + m) * tb + 8L * (TileCols(ow) + V);
    }

    /// <summary>
    /// x: [n, c, h, w]; wPacked: <see cref="PackWeights"/>; bias: [m] or null; y: [n, m, oh, ow] (3x3 window, stride 1,
    /// padding padTop/padLeft, bottom/right padding implied by oh/ow); scratch: <see cref="ScratchFloats"/> floats.
    /// Requires Vector256 hardware acceleration.
    /// </summary>
    public static void Run(float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int w, int m,
        int oh, int ow, int padTop, int padLeft, float* scratch, Epilogue epi)
    {
        int th = (oh + 1) / 2, twp = TileCols(ow);
        int tbRows = BandTileRows(c, m, oh, ow);
        long tb = (long)tbRows * twp;
        long per = ConvPointwise.PackedWeightFloats(m, c);
        float* vbuf = scratch;                       // 16 x [c, tb]
        float* mbuf = vbuf + 16 * c * tb;            // 16 x [m, tb]
        float* rows = mbuf + 16 * m * tb;            // 4 rows x (even, odd) x (twp + V)
        int rl = twp + V;
        for (int ni = 0; ni < n; ni++)
        {
            float* xn = x + (long)ni * c * h * w;
            float* yn = y + (long)ni * m * oh * ow;
            for (int ty0 = 0; ty0 < th; ty0 += tbRows)
            {
                int nty = Math.Min(tbRows, th - ty0);
                int tiles = nty * twp;
                for (int ci = 0; ci < c; ci++)
                {
                    float* xc = xn + (long)ci * h * w;
                    for (int t = 0; t < nty; t++)
                    {
                        int iy0 = 2 * (ty0 + t) - padTop;
                        for (int r = 0; r < 4; r++)
                            FillRow(xc, h, w, iy0 + r, padLeft, rows + (2 * r) * rl, rows + (2 * r + 1) * rl, twp + 1);
                        InputTransform(rows, rl, twp, vbuf + (long)ci * tb + t * twp, c * tb);
                    }
                }
                for (int xi = 0; xi < 16; xi++)
                    ConvPointwise.RunStrided(256, vbuf + xi * c * tb, tb, wPacked + xi * per, null, mbuf + xi * m * tb, tb, c, tiles, m, Epilogue.None);
                for (int o = 0; o < m; o++)
                {
                    float b = bias == null ? 0f : bias[o];
                    for (int t = 0; t < nty; t++)
                        OutputTransform(mbuf + (long)o * tb + t * twp, m * tb, twp, yn + (long)o * oh * ow, oh, ow, ty0 + t, b, epi);
                }
            }
        }
    }

    /// <summary>even[j] = x[iy, 2j - pl], odd[j] = x[iy, 2j + 1 - pl] for j &lt; len (0 outside x).</summary>
    private static void FillRow(float* xc, int h, int w, int iy, int pl, float* even, float* odd, int len)
    {
        if ((uint)iy >= (uint)h)
        {
            new Span<float>(even, len).Clear();
            new Span<float>(odd, len).Clear();
            return;
        }
        float* xr = xc + (long)iy * w;
        int j = 0;
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            // Scalar up to the first j whose even column is inside the row, then 8 pairs per step while 16 columns fit.
            for (; j < len && 2 * j - pl < 0; j++)
            {
                int ix = 2 * j - pl;
                even[j] = (uint)ix < (uint)w ? xr[ix] : 0f;
                odd[j] = (uint)(ix + 1) < (uint)w ? xr[ix + 1] : 0f;
            }
            for (; j + V <= len && 2 * j - pl + 2 * V <= w; j += V)
            {
                float* s = xr + 2 * j - pl;
                var a = Vector256.Load(s);
                var b = Vector256.Load(s + V);
                var ev = System.Runtime.Intrinsics.X86.Avx.Shuffle(a, b, 0b10_00_10_00);
                var od = System.Runtime.Intrinsics.X86.Avx.Shuffle(a, b, 0b11_01_11_01);
                Vector256.Store(System.Runtime.Intrinsics.X86.Avx2.Permute4x64(ev.AsDouble(), 0b11_01_10_00).AsSingle(), even + j);
                Vector256.Store(System.Runtime.Intrinsics.X86.Avx2.Permute4x64(od.AsDouble(), 0b11_01_10_00).AsSingle(), odd + j);
            }
        }
        for (; j < len; j++)
        {
            int ix = 2 * j - pl;
            even[j] = (uint)ix < (uint)w ? xr[ix] : 0f;
            odd[j] = (uint)(ix + 1) < (uint)w ? xr[ix + 1] : 0f;
        }
    }

    /// <summary>V[ξ] for the twp tiles of one tile row: Bᵀ d B with d from the four even/odd row pairs.</summary>
    private static void InputTransform(float* rows, int rl, int twp, float* v, long xiStride)
    {
        for (int tx = 0; tx < twp; tx += V)
        {
            // d[r][k]: row r, column 2tx + k for 8 tiles.
            Vector256<float> t00, t01, t02, t03, t10, t11, t12, t13, t20, t21, t22, t23, t30, t31, t32, t33;
            {
                Load4(rows, rl, 0, tx, out var d00, out var d01, out var d02, out var d03);
                Load4(rows, rl, 1, tx, out var d10, out var d11, out var d12, out var d13);
                Load4(rows, rl, 2, tx, out var d20, out var d21, out var d22, out var d23);
                Load4(rows, rl, 3, tx, out var d30, out var d31, out var d32, out var d33);
                // Bᵀ d: rows (d0 - d2, d1 + d2, d2 - d1, d1 - d3).
                t00 = d00 - d20; t01 = d01 - d21; t02 = d02 - d22; t03 = d03 - d23;
                t10 = d10 + d20; t11 = d11 + d21; t12 = d12 + d22; t13 = d13 + d23;
                t20 = d20 - d10; t21 = d21 - d11; t22 = d22 - d12; t23 = d23 - d13;
                t30 = d10 - d30; t31 = d11 - d31; t32 = d12 - d32; t33 = d13 - d33;
            }
            float* p = v + tx;
            // (Bᵀ d) B: columns (t0 - t2, t1 + t2, t2 - t1, t1 - t3) of each row.
            Store4(p, xiStride, 0, t00, t01, t02, t03);
            Store4(p, xiStride, 4, t10, t11, t12, t13);
            Store4(p, xiStride, 8, t20, t21, t22, t23);
            Store4(p, xiStride, 12, t30, t31, t32, t33);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Load4(float* rows, int rl, int r, int tx, out Vector256<float> c0, out Vector256<float> c1, out Vector256<float> c2, out Vector256<float> c3)
    {
        float* e = rows + (2 * r) * rl + tx;
        float* o = rows + (2 * r + 1) * rl + tx;
        c0 = Vector256.Load(e);
        c1 = Vector256.Load(o);
        c2 = Vector256.Load(e + 1);
        c3 = Vector256.Load(o + 1);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* p, long xiStride, int xi0, Vector256<float> t0, Vector256<float> t1, Vector256<float> t2, Vector256<float> t3)
    {
        Vector256.Store(t0 - t2, p + xi0 * xiStride);
        Vector256.Store(t1 + t2, p + (xi0 + 1) * xiStride);
        Vector256.Store(t2 - t1, p + (xi0 + 2) * xiStride);
        Vector256.Store(t1 - t3, p + (xi0 + 3) * xiStride);
    }

    /// <summary>Aᵀ M A (+ bias, epilogue) for one output channel and tile row, written to y rows 2ty and 2ty + 1.</summary>
    private static void OutputTransform(float* mm, long xiStride, int twp, float* yc, int oh, int ow, int ty, float b, Epilogue epi)
    {
        int oy = 2 * ty;
        float* y0 = yc + (long)oy * ow;
        float* y1 = y0 + ow;
        bool second = oy + 1 < oh;
        var vb = Vector256.Create(b);
        int tw = (ow + 1) / 2;
        for (int tx = 0; tx < tw; tx += V)
        {
            float* p = mm + tx;
            Vector256<float> M(int xi) => Vector256.Load(p + xi * xiStride);
            // Aᵀ M: rows (m0 + m1 + m2, m1 - m2 - m3).
            var s0 = M(0) + M(4) + M(8);
            var s1 = M(1) + M(5) + M(9);
            var s2 = M(2) + M(6) + M(10);
            var s3 = M(3) + M(7) + M(11);
            var r0 = M(4) - M(8) - M(12);
            var r1 = M(5) - M(9) - M(13);
            var r2 = M(6) - M(10) - M(14);
            var r3 = M(7) - M(11) - M(15);
            // (Aᵀ M) A: columns (s0 + s1 + s2, s1 - s2 - s3).
            var y00 = EpilogueOps.Apply(s0 + s1 + s2 + vb, epi);
            var y01 = EpilogueOps.Apply(s1 - s2 - s3 + vb, epi);
            var y10 = EpilogueOps.Apply(r0 + r1 + r2 + vb, epi);
            var y11 = EpilogueOps.Apply(r1 - r2 - r3 + vb, epi);
            int ox = 2 * tx;
            if (ox + 2 * V <= ow && System.Runtime.Intrinsics.X86.Avx.IsSupported)
            {
                StoreInterleaved(y0 + ox, y00, y01);
                if (second) StoreInterleaved(y1 + ox, y10, y11);
            }
            else
            {
                for (int k = 0; k < V && ox + 2 * k < ow; k++)
                {
                    y0[ox + 2 * k] = y00.GetElement(k);
                    if (ox + 2 * k + 1 < ow) y0[ox + 2 * k + 1] = y01.GetElement(k);
                    if (second)
                    {
                        y1[ox + 2 * k] = y10.GetElement(k);
                        if (ox + 2 * k + 1 < ow) y1[ox + 2 * k + 1] = y11.GetElement(k);
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreInterleaved(float* y, Vector256<float> a, Vector256<float> b)
    {
        var lo = System.Runtime.Intrinsics.X86.Avx.UnpackLow(a, b);
        var hi = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(a, b);
        Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x20), y);
        Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x31), y + 8);
    }
}
