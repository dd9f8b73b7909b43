using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// 1x1 convolution (stride 1, no padding, one group), NCHW, with weights packed ahead of time:
/// y[n, o, p] = epi(bias[o] + Σ_c w[o, c] · x[n, c, p]) over the hw pixels p.
/// <para>
/// Packed weight layout (see <see cref="PackWeights"/>): output channels in blocks of <see cref="OcBlock"/>;
/// wp[(ob·c + ci)·OcBlock + j] = w[ob·OcBlock + j, ci], zero for channels &gt;= m. The microkernel keeps an
/// <see cref="OcBlock"/> x 16-pixel register tile and reads the input rows in place (16 consecutive pixels of one
/// channel are contiguous in NCHW), so nothing is packed per call; pixels are walked in blocks whose c x block slice
/// of the input stays in L1 while every output-channel block is computed from it. A row's last tile overlaps the
/// previous one rather than running past the end.
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvPointwise
{
    /// <summary>Output channels per packed weight block (and per register tile).</summary>
    public const int OcBlock = 6;

    /// <summary>Number of floats of the packed weights for an [m, c] weight.</summary>
    public static long PackedWeightFloats(int m, int c) => (long)((m + OcBlock - 1) / OcBlock) * OcBlock * c;

    /// <summary>Packs w [m, c] into the blocked layout described on the class (dst: <see cref="PackedWeightFloats"/> floats).</summary>
    public static void PackWeights(ReadOnlySpan<float> w, Span<float> dst, int m, int c)
    {
        int blocks = (m + OcBlock - 1) / OcBlock;
        for (int ob = 0; ob < blocks; ob++)
            for (int ci = 0; ci < c; ci++)
                for (int j = 0; j < OcBlock; j++)
                {
                    int o = ob * OcBlock + j;
                    dst[(ob * c + ci) * OcBlock + j] = o < m ? w[o * c + ci] : 0f;
                }
    }

    /// <summary>
    /// Pointwise convolution. x: [n, c, hw]; wPacked: <see cref="PackWeights"/> of [m, c]; bias: [m] or null; y: [n, m, hw].
    /// </summary>
    public static void Run(float* x, float* wPacked, float* bias, float* y, int n, int c, int hw, int m, Epilogue epi)
        => RunWidth(Gemm.PreferredWidth, x, wPacked, bias, y, n, c, hw, m, epi);

    /// <summary><see cref="Run"/> with an explicit SIMD width (&gt;= 256 uses 8-float vectors, 0 scalar).</summary>
    internal static void RunWidth(int width, float* x, float* wPacked, float* bias, float* y, int n, int c, int hw, int m, Epilogue epi)
    {
        for (int ni = 0; ni < n; ni++)
            RunStrided(width, x + (long)ni * c * hw, hw, wPacked, bias, y + (long)ni * m * hw, hw, c, hw, m, epi);
    }

    /// <summary>
    /// One image with explicit row strides: x rows (one per input channel) are xStride floats apart, y rows (one per output
    /// channel) yStride apart; hw pixels of each are used.
    /// </summary>
    internal static void RunStrided(int width, float* x, long xStride, float* wPacked, float* bias, float* y, long yStride,
        int c, int hw, int m, Epilogue epi)
    {
        if (m <= 0 || hw <= 0) return;
        bool v256 = width >= 256 && Vector256.IsHardwareAccelerated && hw >= 8;
        int blocks = (m + OcBlock - 1) / OcBlock;
        // Pixels per block: keep the c x block input slice within ~32 KB of L1.
        int blockPx = Math.Max(16, 8192 / Math.Max(1, c) / 16 * 16);
        if (!v256)
        {
            bool few = hw < 8 && width >= 256 && Vector256.IsHardwareAccelerated;
            for (int ob = 0; ob < blocks; ob++)
            {
                float* wp = wPacked + (long)ob * c * OcBlock;
                float* yb = y + ob * OcBlock * yStride;
                int mv = Math.Min(OcBlock, m - ob * OcBlock);
                float* bb = bias == null ? null : bias + ob * OcBlock;
                if (few) TileFewPixels(x, xStride, wp, c, hw, yb, yStride, mv, bb, ob == blocks - 1, epi);
                else TileScalar(x, xStride, wp, c, 0, hw, yb, yStride, mv, bb, epi);
            }
            return;
        }
        for (int p0 = 0; p0 < hw; p0 += blockPx)
        {
            int p1 = Math.Min(hw, p0 + blockPx);
            for (int ob = 0; ob < blocks; ob++)
            {
                float* wp = wPacked + (long)ob * c * OcBlock;
                float* yb = y + ob * OcBlock * yStride;
                int mv = Math.Min(OcBlock, m - ob * OcBlock);
                float* bb = bias == null ? null : bias + ob * OcBlock;
                int p = p0;
                while (p < p1)
                {
                    if (hw >= 16)
                    {
                        if (p > hw - 16) p = hw - 16; // overlap the previous tile at the very end
                        Tile16(x + p, xStride, wp, c, yb + p, yStride, mv, bb, epi);
                        p += 16;
                    }
                    else
                    {
                        if (p > hw - 8) p = hw - 8;
                        Tile8(x + p, xStride, wp, c, yb + p, yStride, mv, bb, epi);
                        p += 8;
                    }
                }
            }
        }
    }

    private static void Tile16(float* x, long xs, float* wp, int c, float* y, long ys, int mv, float* bias, Epilogue epi)
    {
        Vector256<float> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<float> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        for (int k = 0; k < c; k++, x += xs, wp += OcBlock)
        {
            var b0 = Vector256.Load(x);
            var b1 = Vector256.Load(x + 8);
            var w = Vector256.Create(wp[0]);
            a00 = Vector256.MultiplyAddEstimate(w, b0, a00);
            a01 = Vector256.MultiplyAddEstimate(w, b1, a01);
            w = Vector256.Create(wp[1]);
            a10 = Vector256.MultiplyAddEstimate(w, b0, a10);
            a11 = Vector256.MultiplyAddEstimate(w, b1, a11);
            w = Vector256.Create(wp[2]);
            a20 = Vector256.MultiplyAddEstimate(w, b0, a20);
            a21 = Vector256.MultiplyAddEstimate(w, b1, a21);
            w = Vector256.Create(wp[3]);
            a30 = Vector256.MultiplyAddEstimate(w, b0, a30);
            a31 = Vector256.MultiplyAddEstimate(w, b1, a31);
            w = Vector256.Create(wp[4]);
            a40 = Vector256.MultiplyAddEstimate(w, b0, a40);
            a41 = Vector256.MultiplyAddEstimate(w, b1, a41);
            w = Vector256.Create(wp[5]);
            a50 = Vector256.MultiplyAddEstimate(w, b0, a50);
            a51 = Vector256.MultiplyAddEstimate(w, b1, a51);
        }
        Store2(y, a00, a01, bias, 0, epi);
        if (mv > 1) Store2(y + ys, a10, a11, bias, 1, epi);
        if (mv > 2) Store2(y + 2 * ys, a20, a21, bias, 2, epi);
        if (mv > 3) Store2(y + 3 * ys, a30, a31, bias, 3, epi);
        if (mv > 4) Store2(y + 4 * ys, a40, a41, bias, 4, epi);
        if (mv > 5) Store2(y + 5 * ys, a50, a51, bias, 5, epi);
    }

    private static void Tile8(float* x, long xs, float* wp, int c, float* y, long ys, int mv, float* bias, Epilogue epi)
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        for (int k = 0; k < c; k++, x += xs, wp += OcBlock)
        {
            var b0 = Vector256.Load(x);
            a0 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[0]), b0, a0);
            a1 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[1]), b0, a1);
            a2 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[2]), b0, a2);
            a3 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[3]), b0, a3);
            a4 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[4]), b0, a4);
            a5 = Vector256.MultiplyAddEstimate(Vector256.Create(wp[5]), b0, a5);
        }
        Vector256.Store(EpilogueOps.Apply(a0 + Vector256.Create(bias == null ? 0f : bias[0]), epi), y);
        if (mv > 1) Vector256.Store(EpilogueOps.Apply(a1 + Vector256.Create(bias == null ? 0f : bias[1]), epi), y + ys);
        if (mv > 2) Vector256.Store(EpilogueOps.Apply(a2 + Vector256.Create(bias == null ? 0f : bias[2]), epi), y + 2 * ys);
        if (mv > 3) Vector256.Store(EpilogueOps.Apply(a3 + Vector256.Create(bias == null ? 0f : bias[3]), epi), y + 3 * ys);
        if (mv > 4) Vector256.Store(EpilogueOps.Apply(a4 + Vector256.Create(bias == null ? 0f : bias[4]), epi), y + 4 * ys);
        if (mv > 5) Vector256.Store(EpilogueOps.Apply(a5 + Vector256.Create(bias == null ? 0f : bias[5]), epi), y + 5 * ys);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store2(float* y, Vector256<float> v0, Vector256<float> v1, float* bias, int j, Epilogue epi)
    {
        var b = Vector256.Create(bias == null ? 0f : bias[j]);
        Vector256.Store(EpilogueOps.Apply(v0 + b, epi), y);
        Vector256.Store(EpilogueOps.Apply(v1 + b, epi), y + 8);
    }

    /// <summary>
    /// Fewer than 8 pixels: the <see cref="OcBlock"/> output channels of a block are the vector lanes, accumulated over k in
    /// order (bias added after the sum, as a GEMM epilogue would).
    /// </summary>
    private static void TileFewPixels(float* x, long xs, float* wp, int c, int hw, float* y, long ys, int mv, float* bias, bool lastBlock, Epilogue epi)
    {
        for (int p0 = 0; p0 < hw; p0 += 4)
        {
            int pn = Math.Min(4, hw - p0);
            // Up to four pixels in registers; missing ones repeat the last (computed, not stored).
            int q1 = Math.Min(1, pn - 1), q2 = Math.Min(2, pn - 1), q3 = Math.Min(3, pn - 1);
            float* xp = x + p0;
            float* w = wp;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            int kEnd = lastBlock ? c - 1 : c;
            for (int k = 0; k < kEnd; k++, xp += xs, w += OcBlock)
            {
                // Lanes 6 and 7 hold the next k's weights (ignored).
                var wv = Vector256.Load(w);
                a0 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[0]), a0);
                a1 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q1]), a1);
                a2 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q2]), a2);
                a3 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q3]), a3);
            }
            if (kEnd < c)
            {
                // The very last k of the last block must not read past the packed weights.
                var wv = Vector256.Create(w[0], w[1], w[2], w[3], w[4], w[5], 0f, 0f);
                a0 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[0]), a0);
                a1 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q1]), a1);
                a2 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q2]), a2);
                a3 = Vector256.MultiplyAddEstimate(wv, Vector256.Create(xp[q3]), a3);
            }
            for (int j = 0; j < mv; j++)
            {
                float b = bias == null ? 0f : bias[j];
                float* yj = y + j * ys + p0;
                yj[0] = EpilogueOps.Apply(a0.GetElement(j) + b, epi);
                if (pn > 1) yj[1] = EpilogueOps.Apply(a1.GetElement(j) + b, epi);
                if (pn > 2) yj[2] = EpilogueOps.Apply(a2.GetElement(j) + b, epi);
                if (pn > 3) yj[3] = EpilogueOps.Apply(a3.GetElement(j) + b, epi);
            }
        }
    }

    /// <summary>Scalar tile: pixels [p0, p1) of up to <see cref="OcBlock"/> output channels.</summary>
    private static void TileScalar(float* x, long xs, float* wp, int c, int p0, int p1, float* y, long ys, int mv, float* bias, Epilogue epi)
    {
        for (int j = 0; j < mv; j++)
        {
            float b = bias == null ? 0f : bias[j];
            for (int p = p0; p < p1; p++)
            {
                float s = 0f;
                for (int k = 0; k < c; k++) s += wp[k * OcBlock + j] * x[k * xs + p];
                y[j * ys + p] = EpilogueOps.Apply(s + b, epi);
            }
        }
    }

    /// <summary>Plain scalar reference on the unpacked weight w [m, c], same contract as <see cref="Run"/>.</summary>
    internal static void RunScalar(float* x, float* w, float* bias, float* y, int n, int c, int hw, int m, Epilogue epi)
    {
        for (int ni = 0; ni < n; ni++)
            for (int o = 0; o < m; o++)
                for (int p = 0; p < hw; p++)
                {
                    float s = 0f;
                    for (int k = 0; k < c; k++) s += w[(long)o * c + k] * x[((long)ni * c + k) * hw + p];
                    if (bias != null) s += bias[o];
                    y[((long)ni * m + o) * hw + p] = EpilogueOps.Apply(s, epi);
                }
    }
}
