using System.Numerics;
using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Transposed convolution (ONNX ConvTranspose), 1-D to 3-D with spatial dims given as (d, h, w) (1 for missing leading
/// dims): every input pixel scatters x · W[c, m, k] to y at o = i·stride + k·dilation - padBegin (dropped outside
/// the output). W: [C, M/group, kd, kh, kw]; y: [N, M, od, oh, ow].
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvTranspose
{
    /// <summary>Floats of column scratch per band that <see cref="RunFloat"/> aims for (fits in L2).</summary>
    private const int BandFloats = 1 << 16;

    /// <summary>Input rows (d·h flattened) per band of <see cref="RunFloat"/>: at least 1.</summary>
    private static int BandRows(int mgK, int rows, int iw) => Math.Max(1, Math.Min(rows, BandFloats / Math.Max(1, mgK * iw)));

    /// <summary>Number of floats of scratch <see cref="RunFloat"/> needs.</summary>
    public static long ScratchFloats(int c, int m, int group, ReadOnlySpan<int> inDims, ReadOnlySpan<int> kernel)
    {
        int mgK = m / group * kernel[0] * kernel[1] * kernel[2];
        int rows = inDims[0] * inDims[1];
        return (long)mgK * BandRows(mgK, rows, inDims[2]) * inDims[2];
    }

    /// <summary>
    /// Float transposed convolution as GEMM + col2im, with y = epi(scatter + bias[m]) (same contract as
    /// <see cref="Run{T}"/> plus the epilogue). Per group and band of input rows, col[(mo, k), p] = Σ_c W[c, mo, k]·x[c, p]
    /// is one <see cref="Gemm"/> into scratch (<see cref="ScratchFloats"/> floats); col2im then scatters it to y. When the
    /// kernel tiles the output exactly (stride = kernel, no dilation, padding or output padding) every output element
    /// receives one value, so bias and epilogue are applied as it is written; otherwise y is zeroed, accumulated, and
    /// finished in one pass.
    /// </summary>
    public static void RunFloat(float* x, float* w, float* bias, float* y, int n, int c, int m, int group,
        ReadOnlySpan<int> inDims, ReadOnlySpan<int> outDims, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides,
        ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, float* scratch, Epilogue epi)
    {
        int id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        int kd = kernel[0], kh = kernel[1], kw = kernel[2];
        int sd = strides[0], sh = strides[1], sw = strides[2];
        int dd = dilations[0], dh = dilations[1], dw = dilations[2];
        int pd0 = padsBegin[0], ph0 = padsBegin[1], pw0 = padsBegin[2];
        long inSp = (long)id * ih * iw, outSp = (long)od * oh * ow;
        int kSp = kd * kh * kw;
        int cg = c / group, mg = m / group, mgK = mg * kSp;
        int rows = id * ih;
        int bandRows = BandRows(mgK, rows, iw);
        bool exact = sd == kd && sh == kh && sw == kw && dd == 1 && dh == 1 && dw == 1 && pd0 == 0 && ph0 == 0 && pw0 == 0
            && od == id * sd && oh == ih * sh && ow == iw * sw;
        if (!exact) new Span<float>(y, checked((int)((long)n * m * outSp))).Clear();
        // Small weights: W_g^T packed on the stack for the pointwise tile (reads the input band in place).
        long packedFloats = ConvPointwise.PackedWeightFloats(mgK, cg);
        float* packed = null;
        if (packedFloats <= MaxStackPackFloats && System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            float* buf = stackalloc float[(int)packedFloats];
            packed = buf;
        }
        for (int b = 0; b < n; b++)
        for (int g = 0; g < group; g++)
        {
            float* xg = x + ((long)b * c + (long)g * cg) * inSp;
            float* wg = w + (long)g * cg * mgK;
            if (packed != null) PackTransposed(wg, packed, cg, mgK);
            for (int r0 = 0; r0 < rows; r0 += bandRows)
            {
                int nr = Math.Min(bandRows, rows - r0);
                int bp = nr * iw;
                // col[(mo*kSp + k), p] for p in the band: A = W_g^T (W_g stored cg x mgK), B = x_g band (cg x bp, row stride inSp).
                if (packed != null)
                    ConvPointwise.RunStrided(Gemm.PreferredWidth, xg + (long)r0 * iw, inSp, packed, null, scratch, bp, cg, bp, mgK, Epilogue.None);
                else
                    Gemm.Core(Gemm.PreferredWidth, mgK, bp, cg, wg, mgK, true, xg + (long)r0 * iw, checked((int)inSp), false,
                        scratch, bp, 1f, 0f, null, false, Epilogue.None);
                for (int mo = 0; mo < mg; mo++)
                {
                    int o = g * mg + mo;
                    float* yc = y + ((long)b * m + o) * outSp;
                    float bo = bias == null ? 0f : bias[o];
                    if (exact && kw == 2)
                    {
                        // Each input pixel paints two adjacent output columns: interleave the two column rows.
                        for (int a = 0; a < kd; a++)
                        for (int bb = 0; bb < kh; bb++)
                        {
                            float* col0 = scratch + (long)(mo * kSp + (a * kh + bb) * 2) * bp;
                            for (int rr = 0; rr < nr; rr++)
                            {
                                int r = r0 + rr;
                                int zd = r / ih, zh = r - zd * ih;
                                float* yr = yc + ((long)(zd * sd + a) * oh + zh * sh + bb) * ow;
                                Interleave2(col0 + (long)rr * iw, col0 + bp + (long)rr * iw, yr, iw, bo, epi);
                            }
                        }
                        continue;
                    }
                    for (int a = 0; a < kd; a++)
                    for (int bb = 0; bb < kh; bb++)
                    for (int cw = 0; cw < kw; cw++)
                    {
                        float* col = scratch + (long)(mo * kSp + (a * kh + bb) * kw + cw) * bp;
                        int xoff = cw * dw - pw0;
                        ValidRange(xoff, sw, ow, iw, out int lo, out int hi);
                        if (hi <= lo) continue;
                        for (int rr = 0; rr < nr; rr++)
                        {
                            int r = r0 + rr;
                            int zd = r / ih, zh = r - zd * ih;
                            int pd = zd * sd + a * dd - pd0;
                            int ph = zh * sh + bb * dh - ph0;
                            if ((uint)pd >= (uint)od || (uint)ph >= (uint)oh) continue;
                            float* yr = yc + ((long)pd * oh + ph) * ow + xoff;
                            float* cr = col + (long)rr * iw;
                            if (exact)
                            {
                                for (int zw = lo; zw < hi; zw++) yr[(long)zw * sw] = EpilogueOps.Apply(cr[zw] + bo, epi);
                            }
                            else if (sw == 1)
                            {
                                Axpy1(yr + lo, cr + lo, hi - lo);
                            }
                            else
                            {
                                for (int zw = lo; zw < hi; zw++) yr[(long)zw * sw] += cr[zw];
                            }
                        }
                    }
                }
            }
        }
        if (!exact && (bias != null || epi.Kind != ActivationKind.None))
        {
            for (int b = 0; b < n; b++)
            for (int o = 0; o < m; o++)
            {
                float* yc = y + ((long)b * m + o) * outSp;
                float bo = bias == null ? 0f : bias[o];
                for (long i = 0; i < outSp; i += int.MaxValue / 2)
                    EpilogueOps.ApplyRow(yc + i, (int)Math.Min(outSp - i, int.MaxValue / 2), null, bo, epi);
            }
        }
    }

    private const int MaxStackPackFloats = 8192;

    /// <summary>Packs W_g^T (W_g stored cg x mgK) in <see cref="ConvPointwise.PackWeights"/> layout for an [mgK, cg] weight.</summary>
    private static void PackTransposed(float* wg, float* dst, int cg, int mgK)
    {
        int blocks = (mgK + ConvPointwise.OcBlock - 1) / ConvPointwise.OcBlock;
        for (int ob = 0; ob < blocks; ob++)
            for (int ci = 0; ci < cg; ci++)
                for (int j = 0; j < ConvPointwise.OcBlock; j++)
                {
                    int o = ob * ConvPointwise.OcBlock + j;
                    dst[((long)ob * cg + ci) * ConvPointwise.OcBlock + j] = o < mgK ? wg[(long)ci * mgK + o] : 0f;
                }
    }

    /// <summary>Valid input range [lo, hi) such that 0 &lt;= i*stride + off &lt; size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValidRange(int off, int stride, int size, int inSize, out int lo, out int hi)
    {
        lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        hi = off >= size ? 0 : Math.Min(inSize, (size - 1 - off) / stride + 1);
        if (lo > inSize) lo = inSize;
        if (hi < lo) hi = lo;
    }

    /// <summary>y[2j] = epi(c0[j] + b), y[2j + 1] = epi(c1[j] + b) for j &lt; len.</summary>
    private static void Interleave2(float* c0, float* c1, float* y, int len, float b, Epilogue epi)
    {
        int j = 0;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            var vb = System.Runtime.Intrinsics.Vector256.Create(b);
            for (; j <= len - 8; j += 8)
            {
                var v0 = EpilogueOps.Apply(System.Runtime.Intrinsics.Vector256.Load(c0 + j) + vb, epi);
                var v1 = EpilogueOps.Apply(System.Runtime.Intrinsics.Vector256.Load(c1 + j) + vb, epi);
                var lo = System.Runtime.Intrinsics.X86.Avx.UnpackLow(v0, v1);   // a0 b0 a1 b1 | a4 b4 a5 b5
                var hi = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(v0, v1);  // a2 b2 a3 b3 | a6 b6 a7 b7
                System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x20), y + 2L * j);
                System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x31), y + 2L * j + 8);
            }
        }
        for (; j < len; j++)
        {
            y[2L * j] = EpilogueOps.Apply(c0[j] + b, epi);
            y[2L * j + 1] = EpilogueOps.Apply(c1[j] + b, epi);
        }
    }

    /// <summary>y[i] += x[i].</summary>
    private static void Axpy1(float* y, float* x, int len)
    {
        int i = 0;
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
            for (; i <= len - 8; i += 8)
                System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.Vector256.Load(y + i) + System.Runtime.Intrinsics.Vector256.Load(x + i), y + i);
        for (; i < len; i++) y[i] += x[i];
    }

    /// <summary>Plain scatter form; accumulates in T.</summary>
    public static void Run<T>(T* x, T* w, T* bias, T* y, int n, int c, int m, int group,
        ReadOnlySpan<int> inDims, ReadOnlySpan<int> outDims, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides,
        ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin) where T : unmanaged, INumber<T>
    {
        int id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        int kd = kernel[0], kh = kernel[1], kw = kernel[2];
        long inSp = (long)id * ih * iw, outSp = (long)od * oh * ow, kSp = (long)kd * kh * kw;
        int cg = c / group, mg = m / group;
        new Span<T>(y, checked((int)((long)n * m * outSp))).Clear();
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
                for (int ci = 0; ci < cg; ci++)
                {
                    int cc = g * cg + ci;
                    T* xc = x + ((long)b * c + cc) * inSp;
                    for (int mo = 0; mo < mg; mo++)
                    {
                        T* wk = w + ((long)cc * mg + mo) * kSp;
                        T* yc = y + ((long)b * m + g * mg + mo) * outSp;
                        for (int zd = 0; zd < id; zd++)
                            for (int zh = 0; zh < ih; zh++)
                                for (int zw = 0; zw < iw; zw++)
                                {
                                    T xv = xc[((long)zd * ih + zh) * iw + zw];
                                    for (int a = 0; a < kd; a++)
                                    {
                                        int pd = zd * strides[0] + a * dilations[0] - padsBegin[0];
                                        if ((uint)pd >= (uint)od) continue;
                                        for (int bb = 0; bb < kh; bb++)
                                        {
                                            int ph = zh * strides[1] + bb * dilations[1] - padsBegin[1];
                                            if ((uint)ph >= (uint)oh) continue;
                                            T* yr = yc + ((long)pd * oh + ph) * ow;
                                            T* wr = wk + ((long)a * kh + bb) * kw;
                                            for (int cw = 0; cw < kw; cw++)
                                            {
                                                int pw = zw * strides[2] + cw * dilations[2] - padsBegin[2];
                                                if ((uint)pw < (uint)ow) yr[pw] += xv * wr[cw];
                                            }
                                        }
                                    }
                                }
                    }
                }
        if (bias != null)
            for (int b = 0; b < n; b++)
                for (int mo = 0; mo < m; mo++)
                {
                    T* yc = y + ((long)b * m + mo) * outSp;
                    for (long i = 0; i < outSp; i++) yc[i] += bias[mo];
                }
    }
}
