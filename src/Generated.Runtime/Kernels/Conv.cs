using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Float convolution, NCHW. y[n, o, oy, ox] = epi(bias[o] + sum_{ci, ky, kx} w[o, ci, ky, kx] *
/// x[n, g*C/group + ci, oy*strideH - padTop + ky*dilH, ox*strideW - padLeft + kx*dilW]) with g = o / (M/group);
/// positions outside the input read as 0 (bottom/right padding is implied by oh/ow).
/// </summary>
[SkipLocalsInit]
public static unsafe class Conv
{
    /// <summary>
    /// Number of floats of scratch <see cref="Run2D"/> needs for this geometry (0 for 1x1 stride-1 unpadded,
    /// the phase planes of one channel for depthwise convolutions (<see cref="ConvDepthwise.ScratchFloats"/>),
    /// otherwise the im2col buffer (C/group)*kh*kw*oh*ow).
    /// </summary>
    public static long ScratchFloats2D(int n, int c, int h, int wIn, int m, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, int group)
    {
        if (IsDepthwise(c, m, group))
            return kh * kw <= ConvDepthwise.MaxTaps ? ConvDepthwise.ScratchFloats(oh, ow, kh, kw, strideH, strideW, dilH, dilW) : 0;
        if (IsPointwise(h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft)) return 0;
        return (long)(c / group) * kh * kw * oh * ow;
    }

    /// <summary>
    /// 2-D convolution. x: [n, c, h, wIn]; w: [m, c/group, kh, kw]; bias: [m] or null; y: [n, m, oh, ow].
    /// scratch: at least <see cref="ScratchFloats2D"/> floats (may be null when that is 0).
    /// </summary>
    public static void Run2D(float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        int group, float* scratch, Epilogue epi)
    {
        Run2DWidth(Gemm.PreferredWidth, x, w, bias, y, n, c, h, wIn, m, kh, kw, oh, ow, strideH, strideW,
            padTop, padLeft, dilH, dilW, group, scratch, epi);
    }

    /// <summary>
    /// 2-D convolution, one group, with the weights packed ahead of time by <see cref="ConvPointwise.PackWeights"/> as an
    /// [m, c*kh*kw] matrix: im2col of a band of output rows into scratch (<see cref="ScratchFloatsPacked"/> floats), then the pointwise tile over the
    /// columns (each output a sum over k in order, then bias and epilogue).
    /// </summary>
    public static void Run2DPacked(float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        float* scratch, Epilogue epi)
    {
        if (n <= 0 || m <= 0 || oh <= 0 || ow <= 0) return;
        int kk = c * kh * kw, ohw = oh * ow;
        int bandRows = PackedBandRows(kk, oh, ow);
        for (int ni = 0; ni < n; ni++)
        {
            float* xn = x + (long)ni * c * h * wIn;
            float* yn = y + (long)ni * m * ohw;
            for (int oy0 = 0; oy0 < oh; oy0 += bandRows)
            {
                int rows = Math.Min(bandRows, oh - oy0);
                int px = rows * ow;
                // The band is a convolution of the same input with the top padding moved up by oy0 output rows.
                Im2Col(xn, scratch, c, h, wIn, kh, kw, rows, ow, strideH, strideW, padTop - oy0 * strideH, padLeft, dilH, dilW);
                ConvPointwise.RunStrided(Gemm.PreferredWidth, scratch, px, wPacked, bias, yn + (long)oy0 * ow, ohw, kk, px, m, epi);
            }
        }
    }

    /// <summary>Output rows per im2col band of <see cref="Run2DPacked"/>: its columns (kk x band) stay within ~512 KB of cache.</summary>
    private static int PackedBandRows(int kk, int oh, int ow) => Math.Max(1, Math.Min(oh, (1 << 17) / Math.Max(1, kk) / Math.Max(1, ow)));

    /// <summary>Number of floats of scratch <see cref="Run2DPacked"/> needs (one band of im2col columns).</summary>
    public static long ScratchFloatsPacked(int c, int kh, int kw, int oh, int ow)
    {
        int kk = c * kh * kw;
        return (long)kk * PackedBandRows(kk, oh, ow) * ow;
    }

    /// <summary>Number of floats of scratch <see cref="Run1D"/> needs.</summary>
    public static long ScratchFloats1D(int n, int c, int len, int m, int k, int outLen, int stride, int padLeft, int dil, int group)
        => ScratchFloats2D(n, c, 1, len, m, 1, k, 1, outLen, 1, stride, 0, padLeft, 1, dil, group);

    /// <summary>
    /// 1-D convolution (2-D with height 1). x: [n, c, len]; w: [m, c/group, k]; bias: [m] or null; y: [n, m, outLen].
    /// </summary>
    public static void Run1D(float* x, float* w, float* bias, float* y, int n, int c, int len, int m, int k, int outLen,
        int stride, int padLeft, int dil, int group, float* scratch, Epilogue epi)
    {
        Run2D(x, w, bias, y, n, c, 1, len, m, 1, k, 1, outLen, 1, stride, 0, padLeft, 1, dil, group, scratch, epi);
    }

    private static bool IsDepthwise(int c, int m, int group) => group == c && group == m && group > 1;

    private static bool IsPointwise(int h, int wIn, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft)
        => kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && oh == h && ow == wIn;

    /// <summary>Run2D with an explicit SIMD width (512/256/128/0) for the GEMM and depthwise paths.</summary>
    internal static void Run2DWidth(int width, float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        int group, float* scratch, Epilogue epi)
    {
        Debug.Assert(group > 0 && c % group == 0 && m % group == 0);
        if (n <= 0 || m <= 0 || oh <= 0 || ow <= 0) return;
        if (IsDepthwise(c, m, group) && kh * kw <= ConvDepthwise.MaxTaps)
        {
            ConvDepthwise.Run2DWidth(width, x, w, bias, y, n, c, h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW, scratch, epi);
            return;
        }
        if (IsDepthwise(c, m, group))
        {
            Depthwise(width, x, w, bias, y, n, c, h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW, epi);
            return;
        }
        int cg = c / group, mg = m / group;
        int kk = cg * kh * kw;
        int ohw = oh * ow;
        bool pointwise = IsPointwise(h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft);
        int packedFloats = (int)Math.Min(int.MaxValue, ConvPointwise.PackedWeightFloats(mg, kk));
        float* packed = null;
        if (width >= 256 && Vector256.IsHardwareAccelerated && ohw >= 8 && packedFloats <= MaxStackPackFloats)
        {
            float* buf = stackalloc float[packedFloats];
            packed = buf;
        }
        for (int ni = 0; ni < n; ni++)
        {
            for (int g = 0; g < group; g++)
            {
                float* xg = x + ((long)ni * c + (long)g * cg) * h * wIn;
                float* yg = y + ((long)ni * m + (long)g * mg) * ohw;
                float* wg = w + (long)g * mg * kk;
                float* bg = bias == null ? null : bias + (long)g * mg;
                float* col;
                if (pointwise)
                {
                    col = xg;
                }
                else
                {
                    Debug.Assert(scratch != null);
                    Im2Col(xg, scratch, cg, h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW);
                    col = scratch;
                }
                if (packed != null)
                {
                    // Small weights: pack them for the pointwise tile, which reads the columns in place (no B packing).
                    ConvPointwise.PackWeights(new ReadOnlySpan<float>(wg, mg * kk), new Span<float>(packed, packedFloats), mg, kk);
                    ConvPointwise.RunWidth(width, col, packed, bg, yg, 1, kk, ohw, mg, epi);
                }
                else
                {
                    Gemm.Core(width, mg, ohw, kk, wg, kk, false, col, ohw, false, yg, ohw, 1f, 0f, bg, true, epi);
                }
            }
        }
    }

    /// <summary>Weights of a group up to this many floats are packed on the stack for <see cref="ConvPointwise"/>.</summary>
    private const int MaxStackPackFloats = 8192;

    /// <summary>Valid output range [lo, hi) such that 0 &lt;= o*stride + off &lt; size.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void ValidRange(int off, int stride, int size, int outSize, out int lo, out int hi)
    {
        lo = off >= 0 ? 0 : (-off + stride - 1) / stride;
        hi = off >= size ? 0 : Math.Min(outSize, (size - 1 - off) / stride + 1);
        if (lo > outSize) lo = outSize;
        if (hi < lo) hi = lo;
    }

    /// <summary>col[(ci*kh + ky)*kw + kx, oy*ow + ox] = x[ci, oy*sh - pt + ky*dh, ox*sw - pl + kx*dw] (0 outside).</summary>
    internal static void Im2Col(float* x, float* col, int cg, int h, int wIn, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW)
    {
        float* dst = col;
        for (int ci = 0; ci < cg; ci++)
        {
            float* xc = x + (long)ci * h * wIn;
            for (int ky = 0; ky < kh; ky++)
            {
                for (int kx = 0; kx < kw; kx++)
                {
                    int xoff = kx * dilW - padLeft;
                    ValidRange(xoff, strideW, wIn, ow, out int lo, out int hi);
                    for (int oy = 0; oy < oh; oy++, dst += ow)
                    {
                        int iy = oy * strideH - padTop + ky * dilH;
                        if ((uint)iy >= (uint)h)
                        {
                            new Span<float>(dst, ow).Clear();
                            continue;
                        }
                        float* src = xc + (long)iy * wIn + xoff;
                        if (lo > 0) new Span<float>(dst, lo).Clear();
                        if (strideW == 1)
                        {
                            if (hi > lo) new ReadOnlySpan<float>(src + lo, hi - lo).CopyTo(new Span<float>(dst + lo, hi - lo));
                        }
                        else if (strideW == 2 && Vector256.IsHardwareAccelerated)
                        {
                            int ox = lo;
                            for (; ox + 8 < hi; ox += 8) // the 16-float load stays inside the row
                                Vector256.Store(ConvDepthwise.Even(Vector256.Load(src + 2L * ox), Vector256.Load(src + 2L * ox + 8)), dst + ox);
                            for (; ox < hi; ox++) dst[ox] = src[(long)ox * 2];
                        }
                        else
                        {
                            for (int ox = lo; ox < hi; ox++) dst[ox] = src[(long)ox * strideW];
                        }
                        if (hi < ow) new Span<float>(dst + hi, ow - hi).Clear();
                    }
                }
            }
        }
    }

    private static void Depthwise(int width, float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, Epilogue epi)
    {
        for (int ni = 0; ni < n; ni++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                float* xc = x + ((long)ni * c + ch) * h * wIn;
                float* yc = y + ((long)ni * c + ch) * oh * ow;
                float* wc = w + (long)ch * kh * kw;
                float b = bias == null ? 0f : bias[ch];
                for (int oy = 0; oy < oh; oy++)
                {
                    float* yr = yc + (long)oy * ow;
                    new Span<float>(yr, ow).Fill(b);
                    for (int ky = 0; ky < kh; ky++)
                    {
                        int iy = oy * strideH - padTop + ky * dilH;
                        if ((uint)iy >= (uint)h) continue;
                        float* xr = xc + (long)iy * wIn;
                        for (int kx = 0; kx < kw; kx++)
                        {
                            float wv = wc[ky * kw + kx];
                            int xoff = kx * dilW - padLeft;
                            ValidRange(xoff, strideW, wIn, ow, out int lo, out int hi);
                            if (hi <= lo) continue;
                            if (strideW == 1)
                            {
                                Axpy(width, yr + lo, xr + lo + xoff, wv, hi - lo);
                            }
                            else
                            {
                                float* xs = xr + xoff;
                                for (int ox = lo; ox < hi; ox++) yr[ox] += wv * xs[(long)ox * strideW];
                            }
                        }
                    }
                    EpilogueOps.ApplyRow(yr, ow, null, 0f, epi);
                }
            }
        }
    }

    /// <summary>y[i] += a * x[i], i in [0, len).</summary>
    private static void Axpy(int width, float* y, float* x, float a, int len)
    {
        int i = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
        {
            var va = Vector512.Create(a);
            for (; i <= len - 16; i += 16)
                Vector512.Store(Vector512.FusedMultiplyAdd(va, Vector512.Load(x + i), Vector512.Load(y + i)), y + i);
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i <= len - 8; i += 8)
                Vector256.Store(Vector256.MultiplyAddEstimate(va, Vector256.Load(x + i), Vector256.Load(y + i)), y + i);
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated)
        {
            var va = Vector128.Create(a);
            for (; i <= len - 4; i += 4)
                Vector128.Store(Vector128.MultiplyAddEstimate(va, Vector128.Load(x + i), Vector128.Load(y + i)), y + i);
        }
        for (; i < len; i++) y[i] += a * x[i];
    }

    /// <summary>Plain scalar reference with the same contract as <see cref="Run2D"/> (scratch unused).</summary>
    internal static void RunScalar2D(float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        int group, float* scratch, Epilogue epi)
    {
        int cg = c / group, mg = m / group;
        for (int ni = 0; ni < n; ni++)
        for (int o = 0; o < m; o++)
        {
            int g = o / mg;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                float s = 0f;
                for (int ci = 0; ci < cg; ci++)
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * strideH - padTop + ky * dilH;
                    if (iy < 0 || iy >= h) continue;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ox * strideW - padLeft + kx * dilW;
                        if (ix < 0 || ix >= wIn) continue;
                        s += w[(((long)o * cg + ci) * kh + ky) * kw + kx] * x[(((long)ni * c + g * cg + ci) * h + iy) * wIn + ix];
                    }
                }
                if (bias != null) s += bias[o];
                y[(((long)ni * m + o) * oh + oy) * ow + ox] = EpilogueOps.Apply(s, epi);
            }
        }
    }
}
