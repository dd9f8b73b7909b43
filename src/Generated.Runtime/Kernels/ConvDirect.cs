using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Direct 2-D convolution (no im2col) for stride 1, dilation 1, group 1, NCHW, with weights packed ahead of time.
/// y[n, o, oy, ox] = epi(bias[o] + sum_{ci, ky, kx} w[o, ci, ky, kx] * x[n, ci, oy - padTop + ky, ox - padLeft + kx]),
/// positions outside the input read as 0 (bottom/right padding is implied by oh/ow).
/// <para>
/// Packed weight layout (see <see cref="PackWeights"/>): output channels in blocks of <see cref="OcBlock"/>;
/// wp[(((ob*c + ci)*kh + ky)*kw + kx)*OcBlock + j] = w[ob*OcBlock + j, ci, ky, kx], zero for channels &gt;= m.
/// The microkernel keeps an <see cref="OcBlock"/> x 3 register tile: 4 output channels by 3 vectors of output
/// pixels (each vector a run of consecutive pixels of one output row; a row's last vector overlaps the previous
/// one instead of running past the row end, so every store is a full vector).
/// </para>
/// <para>
/// When padding is needed the input is copied into scratch as a zero-bordered [c, oh+kh-1, ow+kw-1] image;
/// otherwise it is read in place.
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvDirect
{
    /// <summary>Output channels per packed weight block (and per register tile).</summary>
    public const int OcBlock = 4;

    /// <summary>True when the geometry is one this kernel handles (stride 1, dilation 1, one group).</summary>
    public static bool Supports(int strideH, int strideW, int dilH, int dilW, int group)
        => strideH == 1 && strideW == 1 && dilH == 1 && dilW == 1 && group == 1;

    /// <summary>Number of floats of the packed weights for an [m, c, kh, kw] weight.</summary>
    public static long PackedWeightFloats(int m, int c, int kh, int kw)
        => (long)((m + OcBlock - 1) / OcBlock) * OcBlock * c * kh * kw;

    /// <summary>
    /// Packs w [m, c, kh, kw] into the blocked layout described on the class (dst: <see cref="PackedWeightFloats"/> floats).
    /// </summary>
    public static void PackWeights(ReadOnlySpan<float> w, Span<float> dst, int m, int c, int kh, int kw)
    {
        int taps = c * kh * kw;
        int blocks = (m + OcBlock - 1) / OcBlock;
        for (int ob = 0; ob < blocks; ob++)
        for (int t = 0; t < taps; t++)
        for (int j = 0; j < OcBlock; j++)
        {
            int o = ob * OcBlock + j;
            dst[(ob * taps + t) * OcBlock + j] = o < m ? w[o * taps + t] : 0f;
        }
    }

    /// <summary>True when the input must be copied into a zero-bordered scratch image (some tap reads outside it).</summary>
    public static bool NeedsPadding(int h, int w, int kh, int kw, int oh, int ow, int padTop, int padLeft)
        => !(padTop == 0 && padLeft == 0 && oh + kh - 1 <= h && ow + kw - 1 <= w);

    /// <summary>Number of floats of scratch <see cref="Run2D"/> needs (0 when the input is read in place).</summary>
    public static long ScratchFloats(int c, int h, int w, int kh, int kw, int oh, int ow, int padTop, int padLeft)
        => NeedsPadding(h, w, kh, kw, oh, ow, padTop, padLeft) ? (long)c * (oh + kh - 1) * (ow + kw - 1) : 0;

    /// <summary>
    /// Direct convolution. x: [n, c, h, w]; wPacked: <see cref="PackWeights"/> of [m, c, kh, kw]; bias: [m] or null;
    /// y: [n, m, oh, ow]; scratch: at least <see cref="ScratchFloats"/> floats (may be null when that is 0).
    /// </summary>
    public static void Run2D(float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int w, int m,
        int kh, int kw, int oh, int ow, int padTop, int padLeft, float* scratch, Epilogue epi)
        => Run2DWidth(Gemm.PreferredWidth, x, wPacked, bias, y, n, c, h, w, m, kh, kw, oh, ow, padTop, padLeft, scratch, epi);

    /// <summary>Run2D with an explicit SIMD width (512/256/128, or 0 for the scalar path).</summary>
    internal static void Run2DWidth(int width, float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int w, int m,
        int kh, int kw, int oh, int ow, int padTop, int padLeft, float* scratch, Epilogue epi)
    {
        if (n <= 0 || m <= 0 || oh <= 0 || ow <= 0) return;
        bool pad = NeedsPadding(h, w, kh, kw, oh, ow, padTop, padLeft);
        int hp = pad ? oh + kh - 1 : h, wp = pad ? ow + kw - 1 : w;
        int lanes =
            width >= 512 && Vector512.IsHardwareAccelerated && ow >= 16 ? 16 :
            width >= 256 && Vector256.IsHardwareAccelerated && ow >= 8 ? 8 :
            width >= 128 && Vector128.IsHardwareAccelerated && ow >= 4 ? 4 : 0;
        int ohw = oh * ow;
        int blocks = (m + OcBlock - 1) / OcBlock;
        long blockFloats = (long)c * kh * kw * OcBlock;
        int plane = hp * wp;
        int chunks = lanes == 0 ? 0 : (ow + lanes - 1) / lanes;
        int total = oh * chunks;
        for (int ni = 0; ni < n; ni++)
        {
            float* xi = x + (long)ni * c * h * w;
            float* yi = y + (long)ni * m * ohw;
            float* src = xi;
            if (pad)
            {
                Debug.Assert(scratch != null);
                PadInput(xi, scratch, c, h, w, hp, wp, padTop, padLeft);
                src = scratch;
            }
            if (lanes == 0)
            {
                DirectScalar(src, wPacked, bias, yi, c, plane, wp, m, kh, kw, oh, ow, epi);
                continue;
            }
            if (lanes == 8 && ow == 8 && oh >= 2 && width >= 512 && Vector512.IsHardwareAccelerated && Avx512F.IsSupported)
            {
                RowPairs512(src, wPacked, bias, yi, c, plane, wp, m, kh, kw, oh, epi);
                continue;
            }
            for (int g = 0; g < total; g += 3)
            {
                // Three vector positions (the last group repeats its final position; storing it twice is harmless).
                Position(g, total, chunks, lanes, ow, wp, out int in0, out int out0);
                Position(g + 1, total, chunks, lanes, ow, wp, out int in1, out int out1);
                Position(g + 2, total, chunks, lanes, ow, wp, out int in2, out int out2);
                for (int ob = 0; ob < blocks; ob++)
                {
                    float* wb = wPacked + ob * blockFloats;
                    float* bb = bias == null ? null : bias + ob * OcBlock;
                    float* yb = yi + (long)ob * OcBlock * ohw;
                    int mv = Math.Min(OcBlock, m - ob * OcBlock);
                    // A last group with only two distinct positions takes the two-position tile (no repeated work).
                    bool two = g + 2 >= total && g + 1 < total;
                    if (lanes == 16 && two)
                        Tile512<N2>(src + in0, in1 - in0, 0, wb, c, kh, kw, plane, wp, yb + out0, out1 - out0, 0, ohw, mv, bb, epi);
                    else if (lanes == 16)
                        Tile512<N3>(src + in0, in1 - in0, in2 - in0, wb, c, kh, kw, plane, wp, yb + out0, out1 - out0, out2 - out0, ohw, mv, bb, epi);
                    else if (lanes == 8 && two)
                        Tile256<N2>(src + in0, in1 - in0, 0, wb, c, kh, kw, plane, wp, yb + out0, out1 - out0, 0, ohw, mv, bb, epi);
                    else if (lanes == 8)
                        Tile256<N3>(src + in0, in1 - in0, in2 - in0, wb, c, kh, kw, plane, wp, yb + out0, out1 - out0, out2 - out0, ohw, mv, bb, epi);
                    else
                        Tile128(src + in0, in1 - in0, in2 - in0, wb, c, kh, kw, plane, wp, yb + out0, out1 - out0, out2 - out0, ohw, mv, bb, epi);
                }
            }
        }
    }

    /// <summary>
    /// Output rows exactly 8 pixels wide on AVX-512: each 16-lane vector holds two output rows (oy, oy + 1), so no lane
    /// is wasted; four such row pairs by <see cref="OcBlock"/> channels per tile. An odd last row is covered by a pair
    /// overlapping the previous one (its row is computed and stored twice, identically).
    /// </summary>
    private static void RowPairs512(float* src, float* wPacked, float* bias, float* y, int c, int plane, int pitch, int m,
        int kh, int kw, int oh, Epilogue epi)
    {
        int pairs = (oh + 1) / 2, blocks = (m + OcBlock - 1) / OcBlock, ohw = oh * 8;
        long blockFloats = (long)c * kh * kw * OcBlock;
        for (int g = 0; g < pairs; g += 4)
        {
            int r0 = PairRow(g, pairs, oh), r1 = PairRow(g + 1, pairs, oh), r2 = PairRow(g + 2, pairs, oh), r3 = PairRow(g + 3, pairs, oh);
            for (int ob = 0; ob < blocks; ob++)
            {
                float* bb = bias == null ? null : bias + ob * OcBlock;
                Tile512Pairs(src + (long)r0 * pitch, (r1 - r0) * pitch, (r2 - r0) * pitch, (r3 - r0) * pitch, wPacked + ob * blockFloats,
                    c, kh, kw, plane, pitch, y + (long)ob * OcBlock * ohw + r0 * 8, (r1 - r0) * 8, (r2 - r0) * 8, (r3 - r0) * 8,
                    ohw, Math.Min(OcBlock, m - ob * OcBlock), bb, epi);
            }
        }
    }

    /// <summary>First output row of row pair p (clamped to the last pair, which ends at row oh - 1).</summary>
    private static int PairRow(int p, int pairs, int oh) => Math.Min(Math.Min(p, pairs - 1) * 2, oh - 2);

    private static void Tile512Pairs(float* x0, long d1, long d2, long d3, float* wp, int c, int kh, int kw, int plane, int pitch,
        float* y0, long e1, long e2, long e3, int ohw, int mv, float* bias, Epilogue epi)
    {
        LoadBias(bias, mv, out float b0, out float b1, out float b2, out float b3);
        Vector512<float> a00 = Vector512.Create(b0), a01 = a00, a02 = a00, a03 = a00;
        Vector512<float> a10 = Vector512.Create(b1), a11 = a10, a12 = a10, a13 = a10;
        Vector512<float> a20 = Vector512.Create(b2), a21 = a20, a22 = a20, a23 = a20;
        Vector512<float> a30 = Vector512.Create(b3), a31 = a30, a32 = a30, a33 = a30;
        for (int ci = 0; ci < c; ci++)
        {
            float* rc = x0 + (long)ci * plane;
            for (int ky = 0; ky < kh; ky++)
            {
                float* r = rc + (long)ky * pitch;
                float* rEnd = r + kw;
                for (; r < rEnd; r++, wp += OcBlock)
                {
                    var i0 = Pair(r, pitch);
                    var i1 = Pair(r + d1, pitch);
                    var i2 = Pair(r + d2, pitch);
                    var i3 = Pair(r + d3, pitch);
                    var w = Vector512.Create(wp[0]);
                    a00 = Vector512.FusedMultiplyAdd(w, i0, a00);
                    a01 = Vector512.FusedMultiplyAdd(w, i1, a01);
                    a02 = Vector512.FusedMultiplyAdd(w, i2, a02);
                    a03 = Vector512.FusedMultiplyAdd(w, i3, a03);
                    w = Vector512.Create(wp[1]);
                    a10 = Vector512.FusedMultiplyAdd(w, i0, a10);
                    a11 = Vector512.FusedMultiplyAdd(w, i1, a11);
                    a12 = Vector512.FusedMultiplyAdd(w, i2, a12);
                    a13 = Vector512.FusedMultiplyAdd(w, i3, a13);
                    w = Vector512.Create(wp[2]);
                    a20 = Vector512.FusedMultiplyAdd(w, i0, a20);
                    a21 = Vector512.FusedMultiplyAdd(w, i1, a21);
                    a22 = Vector512.FusedMultiplyAdd(w, i2, a22);
                    a23 = Vector512.FusedMultiplyAdd(w, i3, a23);
                    w = Vector512.Create(wp[3]);
                    a30 = Vector512.FusedMultiplyAdd(w, i0, a30);
                    a31 = Vector512.FusedMultiplyAdd(w, i1, a31);
                    a32 = Vector512.FusedMultiplyAdd(w, i2, a32);
                    a33 = Vector512.FusedMultiplyAdd(w, i3, a33);
                }
            }
        }
        Store4(y0, e1, e2, e3, a00, a01, a02, a03, epi);
        if (mv > 1) Store4(y0 + ohw, e1, e2, e3, a10, a11, a12, a13, epi);
        if (mv > 2) Store4(y0 + 2L * ohw, e1, e2, e3, a20, a21, a22, a23, epi);
        if (mv > 3) Store4(y0 + 3L * ohw, e1, e2, e3, a30, a31, a32, a33, epi);
    }

    /// <summary>[p[0..8), p[pitch..pitch+8)]: the same 8 columns of two consecutive rows.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Pair(float* p, int pitch)
        => Avx512F.InsertVector256(Vector256.Load(p).ToVector512Unsafe(), Vector256.Load(p + pitch), 1);

    /// <summary>Stores four row-pair vectors (rows y and y + 8 are contiguous, so each is one 16-float store).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(float* y, long e1, long e2, long e3, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2,
        Vector512<float> v3, Epilogue epi)
    {
        Vector512.Store(EpilogueOps.Apply(v0, epi), y);
        Vector512.Store(EpilogueOps.Apply(v1, epi), y + e1);
        Vector512.Store(EpilogueOps.Apply(v2, epi), y + e2);
        Vector512.Store(EpilogueOps.Apply(v3, epi), y + e3);
    }

    /// <summary>Input and output offsets of vector position p (clamped to the last one) in row-major chunk order.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Position(int p, int total, int chunks, int lanes, int ow, int wp, out int inOff, out int outOff)
    {
        if (p >= total) p = total - 1;
        int oy = p / chunks;
        int ox = Math.Min((p - oy * chunks) * lanes, ow - lanes);
        inOff = oy * wp + ox;
        outOff = oy * ow + ox;
    }

    /// <summary>dst[ci, py, px] = x[ci, py - padTop, px - padLeft] (0 outside x), dst: [c, hp, wp].</summary>
    private static void PadInput(float* x, float* dst, int c, int h, int w, int hp, int wp, int padTop, int padLeft)
    {
        int lo = Math.Max(0, padLeft), hi = Math.Min(wp, w + padLeft); // dst columns with a source column
        for (int ci = 0; ci < c; ci++)
        {
            float* xc = x + (long)ci * h * w;
            float* dc = dst + (long)ci * hp * wp;
            for (int py = 0; py < hp; py++)
            {
                float* d = dc + (long)py * wp;
                int iy = py - padTop;
                if ((uint)iy >= (uint)h || hi <= lo)
                {
                    new Span<float>(d, wp).Clear();
                    continue;
                }
                if (lo > 0) new Span<float>(d, lo).Clear();
                new ReadOnlySpan<float>(xc + (long)iy * w + (lo - padLeft), hi - lo).CopyTo(new Span<float>(d + lo, hi - lo));
                if (hi < wp) new Span<float>(d + hi, wp - hi).Clear();
            }
        }
    }

    /// <summary>Scalar path over the same packed weights and (padded) source; src: [c, plane] rows of pitch wp.</summary>
    private static void DirectScalar(float* src, float* wPacked, float* bias, float* y, int c, int plane, int wp, int m,
        int kh, int kw, int oh, int ow, Epilogue epi)
    {
        int taps = c * kh * kw;
        for (int o = 0; o < m; o++)
        {
            float* wb = wPacked + (long)(o / OcBlock) * taps * OcBlock + o % OcBlock;
            float b = bias == null ? 0f : bias[o];
            float* yo = y + (long)o * oh * ow;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                float s = 0f;
                float* wt = wb;
                for (int ci = 0; ci < c; ci++)
                for (int ky = 0; ky < kh; ky++)
                {
                    float* r = src + (long)ci * plane + (long)(oy + ky) * wp + ox;
                    for (int kx = 0; kx < kw; kx++, wt += OcBlock) s += *wt * r[kx];
                }
                yo[(long)oy * ow + ox] = EpilogueOps.Apply(s + b, epi);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Microkernels: 4 output channels x 3 vectors of output pixels (2 when the type constant TP is 2, for a last
    // group with only two positions left). x0 points at the first position's
    // top-left input; d1/d2 are the other positions' input offsets from it (likewise e1/e2 for outputs).
    // Accumulators start from the bias, so the result is epi(bias + sum).
    // ------------------------------------------------------------------------------------------

    private static void Tile256<TP>(float* x0, long d1, long d2, float* wp, int c, int kh, int kw, int plane, int pitch,
        float* y0, long e1, long e2, int ohw, int mv, float* bias, Epilogue epi) where TP : struct, IConstInt
    {
        bool three = TP.Value > 2; // the third position (d2/e2) is live
        LoadBias(bias, mv, out float b0, out float b1, out float b2, out float b3);
        Vector256<float> a00 = Vector256.Create(b0), a01 = a00, a02 = a00;
        Vector256<float> a10 = Vector256.Create(b1), a11 = a10, a12 = a10;
        Vector256<float> a20 = Vector256.Create(b2), a21 = a20, a22 = a20;
        Vector256<float> a30 = Vector256.Create(b3), a31 = a30, a32 = a30;
        for (int ci = 0; ci < c; ci++)
        {
            float* rc = x0 + (long)ci * plane;
            for (int ky = 0; ky < kh; ky++)
            {
                float* r = rc + (long)ky * pitch;
                float* rEnd = r + kw;
                for (; r < rEnd; r++, wp += OcBlock)
                {
                    var i0 = Vector256.Load(r);
                    var i1 = Vector256.Load(r + d1);
                    var i2 = three ? Vector256.Load(r + d2) : default;
                    var w = Vector256.Create(wp[0]);
                    a00 = Vector256.MultiplyAddEstimate(w, i0, a00);
                    a01 = Vector256.MultiplyAddEstimate(w, i1, a01);
                    if (three) a02 = Vector256.MultiplyAddEstimate(w, i2, a02);
                    w = Vector256.Create(wp[1]);
                    a10 = Vector256.MultiplyAddEstimate(w, i0, a10);
                    a11 = Vector256.MultiplyAddEstimate(w, i1, a11);
                    if (three) a12 = Vector256.MultiplyAddEstimate(w, i2, a12);
                    w = Vector256.Create(wp[2]);
                    a20 = Vector256.MultiplyAddEstimate(w, i0, a20);
                    a21 = Vector256.MultiplyAddEstimate(w, i1, a21);
                    if (three) a22 = Vector256.MultiplyAddEstimate(w, i2, a22);
                    w = Vector256.Create(wp[3]);
                    a30 = Vector256.MultiplyAddEstimate(w, i0, a30);
                    a31 = Vector256.MultiplyAddEstimate(w, i1, a31);
                    if (three) a32 = Vector256.MultiplyAddEstimate(w, i2, a32);
                }
            }
        }
        Store3(three, y0, e1, e2, a00, a01, a02, epi);
        if (mv > 1) Store3(three, y0 + ohw, e1, e2, a10, a11, a12, epi);
        if (mv > 2) Store3(three, y0 + 2L * ohw, e1, e2, a20, a21, a22, epi);
        if (mv > 3) Store3(three, y0 + 3L * ohw, e1, e2, a30, a31, a32, epi);
    }

    private static void Tile512<TP>(float* x0, long d1, long d2, float* wp, int c, int kh, int kw, int plane, int pitch,
        float* y0, long e1, long e2, int ohw, int mv, float* bias, Epilogue epi) where TP : struct, IConstInt
    {
        bool three = TP.Value > 2; // the third position (d2/e2) is live
        LoadBias(bias, mv, out float b0, out float b1, out float b2, out float b3);
        Vector512<float> a00 = Vector512.Create(b0), a01 = a00, a02 = a00;
        Vector512<float> a10 = Vector512.Create(b1), a11 = a10, a12 = a10;
        Vector512<float> a20 = Vector512.Create(b2), a21 = a20, a22 = a20;
        Vector512<float> a30 = Vector512.Create(b3), a31 = a30, a32 = a30;
        for (int ci = 0; ci < c; ci++)
        {
            float* rc = x0 + (long)ci * plane;
            for (int ky = 0; ky < kh; ky++)
            {
                float* r = rc + (long)ky * pitch;
                float* rEnd = r + kw;
                for (; r < rEnd; r++, wp += OcBlock)
                {
                    var i0 = Vector512.Load(r);
                    var i1 = Vector512.Load(r + d1);
                    var i2 = three ? Vector512.Load(r + d2) : default;
                    var w = Vector512.Create(wp[0]);
                    a00 = Vector512.FusedMultiplyAdd(w, i0, a00);
                    a01 = Vector512.FusedMultiplyAdd(w, i1, a01);
                    if (three) a02 = Vector512.FusedMultiplyAdd(w, i2, a02);
                    w = Vector512.Create(wp[1]);
                    a10 = Vector512.FusedMultiplyAdd(w, i0, a10);
                    a11 = Vector512.FusedMultiplyAdd(w, i1, a11);
                    if (three) a12 = Vector512.FusedMultiplyAdd(w, i2, a12);
                    w = Vector512.Create(wp[2]);
                    a20 = Vector512.FusedMultiplyAdd(w, i0, a20);
                    a21 = Vector512.FusedMultiplyAdd(w, i1, a21);
                    if (three) a22 = Vector512.FusedMultiplyAdd(w, i2, a22);
                    w = Vector512.Create(wp[3]);
                    a30 = Vector512.FusedMultiplyAdd(w, i0, a30);
                    a31 = Vector512.FusedMultiplyAdd(w, i1, a31);
                    if (three) a32 = Vector512.FusedMultiplyAdd(w, i2, a32);
                }
            }
        }
        Store3(three, y0, e1, e2, a00, a01, a02, epi);
        if (mv > 1) Store3(three, y0 + ohw, e1, e2, a10, a11, a12, epi);
        if (mv > 2) Store3(three, y0 + 2L * ohw, e1, e2, a20, a21, a22, epi);
        if (mv > 3) Store3(three, y0 + 3L * ohw, e1, e2, a30, a31, a32, epi);
    }

    private static void Tile128(float* x0, long d1, long d2, float* wp, int c, int kh, int kw, int plane, int pitch,
        float* y0, long e1, long e2, int ohw, int mv, float* bias, Epilogue epi)
    {
        LoadBias(bias, mv, out float b0, out float b1, out float b2, out float b3);
        Vector128<float> a00 = Vector128.Create(b0), a01 = a00, a02 = a00;
        Vector128<float> a10 = Vector128.Create(b1), a11 = a10, a12 = a10;
        Vector128<float> a20 = Vector128.Create(b2), a21 = a20, a22 = a20;
        Vector128<float> a30 = Vector128.Create(b3), a31 = a30, a32 = a30;
        for (int ci = 0; ci < c; ci++)
        {
            float* rc = x0 + (long)ci * plane;
            for (int ky = 0; ky < kh; ky++)
            {
                float* r = rc + (long)ky * pitch;
                float* rEnd = r + kw;
                for (; r < rEnd; r++, wp += OcBlock)
                {
                    var i0 = Vector128.Load(r);
                    var i1 = Vector128.Load(r + d1);
                    var i2 = Vector128.Load(r + d2);
                    var w = Vector128.Create(wp[0]);
                    a00 = Vector128.MultiplyAddEstimate(w, i0, a00);
                    a01 = Vector128.MultiplyAddEstimate(w, i1, a01);
                    a02 = Vector128.MultiplyAddEstimate(w, i2, a02);
                    w = Vector128.Create(wp[1]);
                    a10 = Vector128.MultiplyAddEstimate(w, i0, a10);
                    a11 = Vector128.MultiplyAddEstimate(w, i1, a11);
                    a12 = Vector128.MultiplyAddEstimate(w, i2, a12);
                    w = Vector128.Create(wp[2]);
                    a20 = Vector128.MultiplyAddEstimate(w, i0, a20);
                    a21 = Vector128.MultiplyAddEstimate(w, i1, a21);
                    a22 = Vector128.MultiplyAddEstimate(w, i2, a22);
                    w = Vector128.Create(wp[3]);
                    a30 = Vector128.MultiplyAddEstimate(w, i0, a30);
                    a31 = Vector128.MultiplyAddEstimate(w, i1, a31);
                    a32 = Vector128.MultiplyAddEstimate(w, i2, a32);
                }
            }
        }
        Store3(y0, e1, e2, a00, a01, a02, epi);
        if (mv > 1) Store3(y0 + ohw, e1, e2, a10, a11, a12, epi);
        if (mv > 2) Store3(y0 + 2L * ohw, e1, e2, a20, a21, a22, epi);
        if (mv > 3) Store3(y0 + 3L * ohw, e1, e2, a30, a31, a32, epi);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void LoadBias(float* bias, int mv, out float b0, out float b1, out float b2, out float b3)
    {
        b0 = b1 = b2 = b3 = 0f;
        if (bias == null) return;
        b0 = bias[0];
        if (mv > 1) b1 = bias[1];
        if (mv > 2) b2 = bias[2];
        if (mv > 3) b3 = bias[3];
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(float* y, long e1, long e2, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Epilogue epi)
    {
        Vector256.Store(EpilogueOps.Apply(v0, epi), y);
        Vector256.Store(EpilogueOps.Apply(v1, epi), y + e1);
        Vector256.Store(EpilogueOps.Apply(v2, epi), y + e2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(bool three, float* y, long e1, long e2, Vector256<float> v0, Vector256<float> v1, Vector256<float> v2, Epilogue epi)
    {
        Vector256.Store(EpilogueOps.Apply(v0, epi), y);
        Vector256.Store(EpilogueOps.Apply(v1, epi), y + e1);
        if (three) Vector256.Store(EpilogueOps.Apply(v2, epi), y + e2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(float* y, long e1, long e2, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Epilogue epi)
    {
        Vector512.Store(EpilogueOps.Apply(v0, epi), y);
        Vector512.Store(EpilogueOps.Apply(v1, epi), y + e1);
        Vector512.Store(EpilogueOps.Apply(v2, epi), y + e2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(bool three, float* y, long e1, long e2, Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Epilogue epi)
    {
        Vector512.Store(EpilogueOps.Apply(v0, epi), y);
        Vector512.Store(EpilogueOps.Apply(v1, epi), y + e1);
        if (three) Vector512.Store(EpilogueOps.Apply(v2, epi), y + e2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store3(float* y, long e1, long e2, Vector128<float> v0, Vector128<float> v1, Vector128<float> v2, Epilogue epi)
    {
        Vector128.Store(EpilogueOps.Apply(v0, epi), y);
        Vector128.Store(EpilogueOps.Apply(v1, epi), y + e1);
        Vector128.Store(EpilogueOps.Apply(v2, epi), y + e2);
    }
}
