using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// NCHW pooling. Window of output (oy, ox) covers input rows oy*strideH - padTop + ky*dilH (ky &lt; kh) and
/// columns ox*strideW - padLeft + kx*dilW (kx &lt; kw); bottom/right padding is implied by oh/ow.
/// </summary>
[SkipLocalsInit]
public static unsafe class Pool
{
    private const int MaxRowBuffer = 4096;

    /// <summary>
    /// MaxPool: y[n,c,oy,ox] = max over window positions inside the input (float.MinValue if none).
    /// x: [n, c, h, w]; y: [n, c, oh, ow].
    /// </summary>
    public static void Max2D(float* x, float* y, int n, int c, int h, int w, int oh, int ow, int kh, int kw,
        int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW)
        => Pool2DWidth(Gemm.PreferredWidth, true, x, y, n, c, h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, 0, 0, dilH, dilW, false);

    /// <summary>
    /// AveragePool: y = sum over window positions inside the input / divisor. With countIncludePad the divisor
    /// counts window positions inside the padded input [-padTop, h + padBottom) x [-padLeft, w + padRight)
    /// (positions beyond that, e.g. from ceil_mode, never count); otherwise only positions inside the input.
    /// x: [n, c, h, w]; y: [n, c, oh, ow]. A window with a zero divisor yields 0.
    /// </summary>
    public static void Average2D(float* x, float* y, int n, int c, int h, int w, int oh, int ow, int kh, int kw,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilH, int dilW, bool countIncludePad)
        => Pool2DWidth(Gemm.PreferredWidth, false, x, y, n, c, h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilH, dilW, countIncludePad);

    /// <summary>y[i] = mean(x[i*spatial .. (i+1)*spatial)) for i in [0, nc).</summary>
    public static void GlobalAverage(float* x, float* y, int nc, int spatial) => GlobalWidth(Gemm.PreferredWidth, false, x, y, nc, spatial);

    /// <summary>y[i] = max(x[i*spatial .. (i+1)*spatial)) for i in [0, nc).</summary>
    public static void GlobalMax(float* x, float* y, int nc, int spatial) => GlobalWidth(Gemm.PreferredWidth, true, x, y, nc, spatial);

    // ------------------------------------------------------------------------------------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Op(bool isMax, float a, float b) => isMax ? (b > a ? b : a) : a + b;

    /// <summary>Separable pooling: reduce the window's valid rows into a row buffer, then reduce along columns.</summary>
    internal static void Pool2DWidth(int width, bool isMax, float* x, float* y, int n, int c, int h, int w, int oh, int ow,
        int kh, int kw, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilH, int dilW,
        bool countIncludePad)
    {
        if (isMax && IsTiled(h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, dilH, dilW) && (long)ow * kw <= MaxRowBuffer)
        {
            MaxTiled(width, x, y, (long)n * c, h, w, oh, ow, kh, kw);
            return;
        }
        if (w > MaxRowBuffer || width == 0)
        {
            Pool2DScalar(isMax, x, y, n, c, h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilH, dilW, countIncludePad);
            return;
        }
        float* tmp = stackalloc float[MaxRowBuffer];
        // Interior column range [lo, hi): every kx tap is inside the input (only used when strideW == 1).
        int lo = 0, hi = 0;
        if (strideW == 1)
        {
            lo = Math.Max(0, padLeft);
            hi = Math.Min(ow, w - (kw - 1) * dilW + padLeft);
            if (hi < lo) hi = lo;
        }
        long planes = (long)n * c;
        for (long pl = 0; pl < planes; pl++)
        {
            float* xp = x + pl * h * w;
            float* yp = y + pl * oh * ow;
            for (int oy = 0; oy < oh; oy++)
            {
                float* yr = yp + (long)oy * ow;
                int rowsValid = 0, rowsPad = 0;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * strideH - padTop + ky * dilH;
                    if (iy >= -padTop && iy < h + padBottom) rowsPad++;
                    if ((uint)iy >= (uint)h) continue;
                    float* xr = xp + (long)iy * w;
                    if (rowsValid == 0) new ReadOnlySpan<float>(xr, w).CopyTo(new Span<float>(tmp, w));
                    else ReduceRow(width, isMax, tmp, xr, w);
                    rowsValid++;
                }
                if (rowsValid == 0)
                {
                    new Span<float>(yr, ow).Fill(isMax ? float.MinValue : 0f);
                    continue;
                }
                // Vectorized interior (stride 1).
                if (hi > lo)
                {
                    float scale = isMax ? 1f : 1f / ((countIncludePad ? rowsPad : rowsValid) * kw);
                    InteriorRow(width, isMax, tmp + lo - padLeft, yr + lo, hi - lo, kw, dilW, scale);
                }
                for (int ox = 0; ox < ow; ox++)
                {
                    if (ox == lo && hi > lo) { ox = hi - 1; continue; }
                    float acc = isMax ? float.MinValue : 0f;
                    int colsValid = 0, colsPad = 0;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ox * strideW - padLeft + kx * dilW;
                        if (ix >= -padLeft && ix < w + padRight) colsPad++;
                        if ((uint)ix >= (uint)w) continue;
                        acc = Op(isMax, acc, tmp[ix]);
                        colsValid++;
                    }
                    if (isMax)
                    {
                        yr[ox] = acc;
                    }
                    else
                    {
                        int cnt = countIncludePad ? rowsPad * colsPad : rowsValid * colsValid;
                        yr[ox] = cnt == 0 ? 0f : acc / cnt;
                    }
                }
            }
        }
    }

    /// <summary>Non-overlapping windows (stride == kernel), no padding or dilation, every window inside the input.</summary>
    private static bool IsTiled(int h, int w, int oh, int ow, int kh, int kw, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW)
        => strideH == kh && strideW == kw && padTop == 0 && padLeft == 0 && dilH == 1 && dilW == 1
           && (long)oh * kh <= h && (long)ow * kw <= w && oh > 0 && ow > 0;

    /// <summary>
    /// MaxPool with non-overlapping windows (see <see cref="IsTiled"/>): y[p, oy, ox] = max over the kh x kw block at
    /// (oy*kh, ox*kw) of plane p. 2x2 windows with at least 8 (x86 AVX) or 4 (arm64) outputs per row max two input rows
    /// and then de-interleave even/odd columns in registers (a row's last vector overlaps the previous one);
    /// other windows max the kh rows into a row buffer and then reduce kw columns.
    /// </summary>
    internal static void MaxTiled(int width, float* x, float* y, long planes, int h, int w, int oh, int ow, int kh, int kw)
    {
        bool avx2x2 = width >= 256 && Avx2.IsSupported && kh == 2 && kw == 2 && ow >= 8;
        bool neon2x2 = width >= 128 && AdvSimd.Arm64.IsSupported && kh == 2 && kw == 2 && ow >= 4;
        float* tmp = stackalloc float[MaxRowBuffer];
        if (width >= 256 && Avx2.IsSupported && kh == 2 && kw == 2 && ow < 8 && h == 2 * oh && w == 2 * ow && w <= MaxRowBuffer
            && planes * oh * ow >= 8)
        {
            Max2x2Flat(x, y, planes * oh, w, tmp);
            return;
        }
        int used = ow * kw;
        for (long pl = 0; pl < planes; pl++)
        {
            float* xp = x + pl * h * w;
            float* yp = y + pl * oh * ow;
            for (int oy = 0; oy < oh; oy++)
            {
                float* r0 = xp + (long)oy * kh * w;
                float* yr = yp + (long)oy * ow;
                if (avx2x2)
                {
                    Max2x2RowAvx(r0, r0 + w, yr, ow);
                    continue;
                }
                if (neon2x2)
                {
                    Max2x2RowNeon(r0, r0 + w, yr, ow);
                    continue;
                }
                new ReadOnlySpan<float>(r0, used).CopyTo(new Span<float>(tmp, used));
                for (int ky = 1; ky < kh; ky++) ReduceRow(width, true, tmp, r0 + (long)ky * w, used);
                for (int ox = 0; ox < ow; ox++)
                {
                    float* t = tmp + ox * kw;
                    float acc = t[0];
                    for (int kx = 1; kx < kw; kx++) acc = Op(true, acc, t[kx]);
                    yr[ox] = acc;
                }
            }
        }
    }

    /// <summary>
    /// 2x2 windows over planes that the windows tile exactly (h = 2·oh, w = 2·ow) with rows too short for a vector:
    /// the whole tensor is <paramref name="rows"/> output rows whose two input rows are consecutive, so a band of rows
    /// is first reduced vertically into tmp (rows of w, contiguous), then horizontally in pairs as one long row, since
    /// w = 2·ow makes output j come from tmp[2j] and tmp[2j + 1]. Needs AVX2 and at least 8 outputs.
    /// </summary>
    private static void Max2x2Flat(float* x, float* y, long rows, int w, float* tmp)
    {
        int ow = w / 2;
        int band = Math.Max(1, MaxRowBuffer / w);
        for (long r0 = 0; r0 < rows; r0 += band)
        {
            int n = (int)Math.Min(band, rows - r0);
            float* a = x + r0 * 2 * w;
            for (int r = 0; r < n; r++, a += 2 * w)
            {
                float* t = tmp + (long)r * w;
                int i = 0;
                for (; i + 8 <= w; i += 8) Avx.Store(t + i, Avx.Max(Avx.LoadVector256(a + i), Avx.LoadVector256(a + w + i)));
                for (; i < w; i++) t[i] = a[w + i] > a[i] ? a[w + i] : a[i];
            }
            float* yb = y + r0 * ow;
            int outs = n * ow;
            if (outs >= 8) Max2x2RowAvx(tmp, tmp, yb, outs);
            else
                for (int j = 0; j < outs; j++) yb[j] = tmp[2 * j + 1] > tmp[2 * j] ? tmp[2 * j + 1] : tmp[2 * j];
        }
    }

    /// <summary>y[j] = max(a[2j], a[2j+1], b[2j], b[2j+1]) for j &lt; ow (ow &gt;= 8; AVX2).</summary>
    private static void Max2x2RowAvx(float* a, float* b, float* y, int ow)
    {
        for (int j = 0; ; j += 8)
        {
            if (j > ow - 8) j = ow - 8;
            var lo = Avx.Max(Avx.LoadVector256(a + 2 * j), Avx.LoadVector256(b + 2 * j));
            var hi = Avx.Max(Avx.LoadVector256(a + 2 * j + 8), Avx.LoadVector256(b + 2 * j + 8));
            // Per 128-bit lane: evens/odds of lo then hi -> [lo0 lo2 hi0 hi2 | lo4 lo6 hi4 hi6].
            var m = Avx.Max(Avx.Shuffle(lo, hi, 0b10_00_10_00), Avx.Shuffle(lo, hi, 0b11_01_11_01));
            Avx.Store(y + j, Avx2.Permute4x64(m.AsDouble(), 0b11_01_10_00).AsSingle());
            if (j == ow - 8) break;
        }
    }

    /// <summary>y[j] = max(a[2j], a[2j+1], b[2j], b[2j+1]) for j &lt; ow (ow &gt;= 4; arm64 AdvSimd).</summary>
    private static void Max2x2RowNeon(float* a, float* b, float* y, int ow)
    {
        for (int j = 0; ; j += 4)
        {
            if (j > ow - 4) j = ow - 4;
            var lo = AdvSimd.Max(AdvSimd.LoadVector128(a + 2 * j), AdvSimd.LoadVector128(b + 2 * j));
            var hi = AdvSimd.Max(AdvSimd.LoadVector128(a + 2 * j + 4), AdvSimd.LoadVector128(b + 2 * j + 4));
            AdvSimd.Store(y + j, AdvSimd.Max(AdvSimd.Arm64.UnzipEven(lo, hi), AdvSimd.Arm64.UnzipOdd(lo, hi)));
            if (j == ow - 4) break;
        }
    }

    /// <summary>acc[i] = op(acc[i], x[i]).</summary>
    private static void ReduceRow(int width, bool isMax, float* acc, float* x, int len)
    {
        int i = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
        {
            for (; i <= len - 16; i += 16)
            {
                var a = Vector512.Load(acc + i); var b = Vector512.Load(x + i);
                Vector512.Store(isMax ? Vector512.MaxNative(a, b) : a + b, acc + i);
            }
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            for (; i <= len - 8; i += 8)
            {
                var a = Vector256.Load(acc + i); var b = Vector256.Load(x + i);
                Vector256.Store(isMax ? Vector256.MaxNative(a, b) : a + b, acc + i);
            }
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated)
        {
            for (; i <= len - 4; i += 4)
            {
                var a = Vector128.Load(acc + i); var b = Vector128.Load(x + i);
                Vector128.Store(isMax ? Vector128.MaxNative(a, b) : a + b, acc + i);
            }
        }
        for (; i < len; i++) acc[i] = Op(isMax, acc[i], x[i]);
    }

    /// <summary>y[o] = scale * op_{kx} src[o + kx*dil] for o in [0, len) (stride 1, all taps valid).</summary>
    private static void InteriorRow(int width, bool isMax, float* src, float* y, int len, int kw, int dil, float scale)
    {
        int o = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
        {
            var vs = Vector512.Create(scale);
            for (; o <= len - 16; o += 16)
            {
                var acc = Vector512.Load(src + o);
                for (int kx = 1; kx < kw; kx++)
                {
                    var v = Vector512.Load(src + o + kx * dil);
                    acc = isMax ? Vector512.MaxNative(acc, v) : acc + v;
                }
                Vector512.Store(isMax ? acc : acc * vs, y + o);
            }
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(scale);
            for (; o <= len - 8; o += 8)
            {
                var acc = Vector256.Load(src + o);
                for (int kx = 1; kx < kw; kx++)
                {
                    var v = Vector256.Load(src + o + kx * dil);
                    acc = isMax ? Vector256.MaxNative(acc, v) : acc + v;
                }
                Vector256.Store(isMax ? acc : acc * vs, y + o);
            }
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated)
        {
            var vs = Vector128.Create(scale);
            for (; o <= len - 4; o += 4)
            {
                var acc = Vector128.Load(src + o);
                for (int kx = 1; kx < kw; kx++)
                {
                    var v = Vector128.Load(src + o + kx * dil);
                    acc = isMax ? Vector128.MaxNative(acc, v) : acc + v;
                }
                Vector128.Store(isMax ? acc : acc * vs, y + o);
            }
        }
        for (; o < len; o++)
        {
            float acc = src[o];
            for (int kx = 1; kx < kw; kx++) acc = Op(isMax, acc, src[o + kx * dil]);
            y[o] = isMax ? acc : acc * scale;
        }
    }

    /// <summary>Scalar reference for <see cref="Max2D"/>.</summary>
    internal static void Max2DScalar(float* x, float* y, int n, int c, int h, int w, int oh, int ow, int kh, int kw,
        int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW)
        => Pool2DScalar(true, x, y, n, c, h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, 0, 0, dilH, dilW, false);

    /// <summary>Scalar reference for <see cref="Average2D"/>.</summary>
    internal static void Average2DScalar(float* x, float* y, int n, int c, int h, int w, int oh, int ow, int kh, int kw,
        int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilH, int dilW, bool countIncludePad)
        => Pool2DScalar(false, x, y, n, c, h, w, oh, ow, kh, kw, strideH, strideW, padTop, padLeft, padBottom, padRight, dilH, dilW, countIncludePad);

    private static void Pool2DScalar(bool isMax, float* x, float* y, int n, int c, int h, int w, int oh, int ow,
        int kh, int kw, int strideH, int strideW, int padTop, int padLeft, int padBottom, int padRight, int dilH, int dilW,
        bool countIncludePad)
    {
        long planes = (long)n * c;
        for (long pl = 0; pl < planes; pl++)
        {
            float* xp = x + pl * h * w;
            float* yp = y + pl * oh * ow;
            for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++)
            {
                float acc = isMax ? float.MinValue : 0f;
                int valid = 0, padded = 0;
                for (int ky = 0; ky < kh; ky++)
                {
                    int iy = oy * strideH - padTop + ky * dilH;
                    bool rowPad = iy >= -padTop && iy < h + padBottom;
                    bool rowIn = iy >= 0 && iy < h;
                    for (int kx = 0; kx < kw; kx++)
                    {
                        int ix = ox * strideW - padLeft + kx * dilW;
                        if (rowPad && ix >= -padLeft && ix < w + padRight) padded++;
                        if (!rowIn || ix < 0 || ix >= w) continue;
                        acc = Op(isMax, acc, xp[(long)iy * w + ix]);
                        valid++;
                    }
                }
                if (!isMax)
                {
                    int cnt = countIncludePad ? padded : valid;
                    acc = cnt == 0 ? 0f : acc / cnt;
                }
                yp[(long)oy * ow + ox] = acc;
            }
        }
    }

    internal static void GlobalWidth(int width, bool isMax, float* x, float* y, int nc, int spatial)
    {
        for (int i = 0; i < nc; i++)
        {
            float* p = x + (long)i * spatial;
            int j = 0;
            float r = isMax ? float.MinValue : 0f;
            if (width >= 512 && Vector512.IsHardwareAccelerated && spatial >= 16)
            {
                var acc = isMax ? Vector512.Create(float.MinValue) : Vector512<float>.Zero;
                for (; j <= spatial - 16; j += 16)
                {
                    var v = Vector512.Load(p + j);
                    acc = isMax ? Vector512.MaxNative(acc, v) : acc + v;
                }
                r = isMax ? HMax(acc.GetLower(), acc.GetUpper()) : Vector512.Sum(acc);
            }
            if (width >= 256 && Vector256.IsHardwareAccelerated && spatial - j >= 8)
            {
                var acc = isMax ? Vector256.Create(float.MinValue) : Vector256<float>.Zero;
                for (; j <= spatial - 8; j += 8)
                {
                    var v = Vector256.Load(p + j);
                    acc = isMax ? Vector256.MaxNative(acc, v) : acc + v;
                }
                r = Op(isMax, r, isMax ? HMax(Vector128.MaxNative(acc.GetLower(), acc.GetUpper())) : Vector256.Sum(acc));
            }
            if (width >= 128 && Vector128.IsHardwareAccelerated && spatial - j >= 4)
            {
                var acc = isMax ? Vector128.Create(float.MinValue) : Vector128<float>.Zero;
                for (; j <= spatial - 4; j += 4)
                {
                    var v = Vector128.Load(p + j);
                    acc = isMax ? Vector128.MaxNative(acc, v) : acc + v;
                }
                r = Op(isMax, r, isMax ? HMax(acc) : Vector128.Sum(acc));
            }
            for (; j < spatial; j++) r = Op(isMax, r, p[j]);
            y[i] = isMax ? r : (spatial == 0 ? 0f : r / spatial);
        }
    }

    private static float HMax(Vector256<float> a, Vector256<float> b)
    {
        var m = Vector256.MaxNative(a, b);
        return HMax(Vector128.MaxNative(m.GetLower(), m.GetUpper()));
    }

    private static float HMax(Vector128<float> v)
    {
        float r = v.GetElement(0);
        for (int i = 1; i < 4; i++) r = Op(true, r, v.GetElement(i));
        return r;
    }

    /// <summary>Scalar reference for <see cref="GlobalAverage"/>.</summary>
    internal static void GlobalAverageScalar(float* x, float* y, int nc, int spatial) => GlobalWidth(0, false, x, y, nc, spatial);

    /// <summary>Scalar reference for <see cref="GlobalMax"/>.</summary>
    internal static void GlobalMaxScalar(float* x, float* y, int nc, int spatial) => GlobalWidth(0, true, x, y, nc, spatial);
}
