using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>How the weight rows of a <see cref="QuantGemm"/> are stored.</summary>
public enum QuantFormat
{
    /// <summary>int8 rows of kPadded values, one float scale per row (output channel), symmetric.</summary>
    Int8 = 0,
    /// <summary>ggml Q8_0 blocks (<see cref="BlockQ8_0"/>) along each row.</summary>
    Q8_0 = 1,
    /// <summary>ggml Q4_0 blocks (<see cref="BlockQ4_0"/>) along each row.</summary>
    Q4_0 = 2,
}

/// <summary>
/// Products with weights quantized at compile time (<c>llmaot build --quantize</c>) for MatMul and Gemm, and for
/// convolutions in the block formats: y[i, :] = epi(A[i, :]·Wᵀ + bias) where W has n rows of k weights, padded with zeros to
/// kPadded = k rounded up to 32. Each activation row is quantized to int8 per 32-block (<see cref="BlockQuant.QuantizeActivations"/>),
/// then the integer dot products of <see cref="BlockQuant"/> run (Q8_0, Q4_0), or <see cref="MatVecInt8"/> for per-channel int8.
/// </summary>
[SkipLocalsInit]
public static unsafe class QuantGemm
{
    /// <summary>k rounded up to whole 32-blocks.</summary>
    public static int PaddedK(int k) => (k + 31) / 32 * 32;

    /// <summary>Bytes of one weight row in <paramref name="format"/>.</summary>
    public static long RowBytes(QuantFormat format, int kPadded) => format switch
    {
        QuantFormat.Q8_0 => kPadded / 32 * 34L,
        QuantFormat.Q4_0 => kPadded / 32 * 18L,
        _ => kPadded,
    };

    private static long Align64(long v) => (v + 63) / 64 * 64;

    /// <summary>Scratch bytes of <see cref="Run"/> (and <see cref="RunConv"/>, which also keeps one output column of n floats).</summary>
    public static long ScratchBytes(int k, int n)
    {
        int kp = PaddedK(k);
        return Align64(kp * 4L) + Align64(2L * kp) + Align64(kp / 32 * 4L) + Align64(n * 4L);
    }

    /// <summary>
    /// y[i, j] = epi(Σ_k a[i, k]·W[j, k] + bias[j]) for i &lt; m, j &lt; n. a: rows of k floats lda apart; w: n rows of
    /// <see cref="RowBytes"/>; wScale: n floats (Int8 only, else null); y: rows ldy apart; scratch: <see cref="ScratchBytes"/>.
    /// </summary>
    public static void Run(QuantFormat format, float* a, int m, int k, long lda, byte* w, float* wScale, float* bias, float* y, int n, long ldy,
        byte* scratch, Epilogue epi)
    {
        int kp = PaddedK(k);
        float* row = (float*)scratch;
        sbyte* xq = (sbyte*)(scratch + Align64(kp * 4L));
        float* xd = (float*)(scratch + Align64(kp * 4L) + Align64(2L * kp));
        for (int i = 0; i < m; i++)
        {
            float* src = a + i * lda;
            if (kp != k)
            {
                new ReadOnlySpan<float>(src, k).CopyTo(new Span<float>(row, k));
                new Span<float>(row + k, kp - k).Clear();
                src = row;
            }
            BlockQuant.QuantizeActivations(src, xq, xd, kp);
            float* yi = y + i * ldy;
            Dot(format, w, wScale, xq, xd, yi, kp, n);
            EpilogueOps.ApplyRow(yi, n, bias, 0f, epi);
        }
    }

    /// <summary>
    /// 2-D convolution, one group, in a block format: per output pixel the patch (c·kh·kw values in weight order, zero
    /// outside the input and in the padding to 32) is gathered and quantized, then multiplied with the m weight rows.
    /// x: [n, c, h, wIn]; y: [n, m, oh, ow].
    /// </summary>
    public static void RunConv(QuantFormat format, float* x, byte* w, float* wScale, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, byte* scratch, Epilogue epi)
    {
        int k = c * kh * kw, kp = PaddedK(k), ohw = oh * ow;
        float* row = (float*)scratch;
        sbyte* xq = (sbyte*)(scratch + Align64(kp * 4L));
        float* xd = (float*)(scratch + Align64(kp * 4L) + Align64(2L * kp));
        float* col = (float*)(scratch + Align64(kp * 4L) + Align64(2L * kp) + Align64(kp / 32 * 4L));
        new Span<float>(row + k, kp - k).Clear();
        for (int ni = 0; ni < n; ni++)
        {
            float* xn = x + (long)ni * c * h * wIn;
            float* yn = y + (long)ni * m * ohw;
            for (int oy = 0; oy < oh; oy++)
                for (int ox = 0; ox < ow; ox++)
                {
                    int i = 0;
                    for (int ci = 0; ci < c; ci++)
                        for (int ky = 0; ky < kh; ky++)
                        {
                            int iy = oy * strideH - padTop + ky * dilH;
                            for (int kx = 0; kx < kw; kx++, i++)
                            {
                                int ix = ox * strideW - padLeft + kx * dilW;
                                row[i] = (uint)iy < (uint)h && (uint)ix < (uint)wIn ? xn[((long)ci * h + iy) * wIn + ix] : 0f;
                            }
                        }
                    BlockQuant.QuantizeActivations(row, xq, xd, kp);
                    Dot(format, w, wScale, xq, xd, col, kp, m);
                    long p = (long)oy * ow + ox;
                    for (int o = 0; o < m; o++) yn[o * (long)ohw + p] = EpilogueOps.Apply(col[o] + (bias == null ? 0f : bias[o]), epi);
                }
        }
    }

    private static void Dot(QuantFormat format, byte* w, float* wScale, sbyte* xq, float* xd, float* y, int kp, int n)
    {
        switch (format)
        {
            case QuantFormat.Q8_0: BlockQuant.MatVecQ8_0Q8(w, xq, xd, y, kp, 0, n); break;
            case QuantFormat.Q4_0: BlockQuant.MatVecQ4_0Q8(w, xq, xd, y, kp, 0, n); break;
            default: MatVecInt8((sbyte*)w, wScale, xq, xd, y, kp, 0, n); break;
        }
    }

    /// <summary>
    /// y[i] = wScale[i]·Σ_b xd[b]·Σ_k w[i, 32b + k]·xq[32b + k] for rows [rowStart, rowEnd): int8 weight rows of n values
    /// (a multiple of 32) with one scale per row, times int8 activations quantized per 32-block. AVX-VNNI: vpdpbusd of |w| and
    /// sign(x, w); AVX2: vpmaddubsw + vpmaddwd of the same; arm64: sdot; else scalar.
    /// </summary>
    public static void MatVecInt8(sbyte* w, float* wScale, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        if (AvxVnni.IsSupported) MatVecInt8Vnni(w, wScale, xq, xd, y, n, rowStart, rowEnd);
        else if (Avx2.IsSupported && Fma.IsSupported) MatVecInt8Avx2(w, wScale, xq, xd, y, n, rowStart, rowEnd);
        else if (Dp.IsSupported) MatVecInt8ArmDot(w, wScale, xq, xd, y, n, rowStart, rowEnd);
        else MatVecInt8Scalar(w, wScale, xq, xd, y, n, rowStart, rowEnd);
    }

    internal static void MatVecInt8Vnni(sbyte* w, float* wScale, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            sbyte* row = w + (long)i * n;
            var acc = Vector256<float>.Zero;
            for (int b = 0; b < nb; b++)
            {
                var wv = Vector256.Load(row + b * 32);
                var p = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Avx2.Abs(wv), Avx2.Sign(Vector256.Load(xq + b * 32), wv));
                acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(xd[b]), acc);
            }
            y[i] = Vector256.Sum(acc) * wScale[i];
        }
    }

    internal static void MatVecInt8Avx2(sbyte* w, float* wScale, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        var ones = Vector256.Create((short)1);
        for (int i = rowStart; i < rowEnd; i++)
        {
            sbyte* row = w + (long)i * n;
            var acc = Vector256<float>.Zero;
            for (int b = 0; b < nb; b++)
            {
                var wv = Vector256.Load(row + b * 32);
                var p = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(wv), Avx2.Sign(Vector256.Load(xq + b * 32), wv)), ones);
                acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p), Vector256.Create(xd[b]), acc);
            }
            y[i] = Vector256.Sum(acc) * wScale[i];
        }
    }

    internal static void MatVecInt8ArmDot(sbyte* w, float* wScale, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            sbyte* row = w + (long)i * n;
            var acc = Vector128<float>.Zero;
            for (int b = 0; b < nb; b++)
            {
                var s = Dp.DotProduct(Dp.DotProduct(Vector128<int>.Zero, Vector128.Load(row + b * 32), Vector128.Load(xq + b * 32)),
                    Vector128.Load(row + b * 32 + 16), Vector128.Load(xq + b * 32 + 16));
                acc = AdvSimd.FusedMultiplyAdd(acc, AdvSimd.ConvertToSingle(s), Vector128.Create(xd[b]));
            }
            y[i] = Vector128.Sum(acc) * wScale[i];
        }
    }

    /// <summary>Scalar reference of <see cref="MatVecInt8"/>: exact int32 block sums, then the scales.</summary>
    public static void MatVecInt8Scalar(sbyte* w, float* wScale, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            sbyte* row = w + (long)i * n;
            float sum = 0;
            for (int b = 0; b < nb; b++)
            {
                int s = 0;
                for (int k = 0; k < 32; k++) s += row[b * 32 + k] * xq[b * 32 + k];
                sum += s * xd[b];
            }
            y[i] = sum * wScale[i];
        }
    }

    /// <summary>
    /// Quantizes weight rows [n, k] (row-major floats) to <paramref name="format"/> with rows padded to <see cref="PaddedK"/>;
    /// dst: n·<see cref="RowBytes"/> bytes; scales: n floats for Int8 (per-row symmetric, <see cref="ConvInt8.QuantizeWeights"/>), unused otherwise.
    /// </summary>
    public static void QuantizeRows(QuantFormat format, ReadOnlySpan<float> w, int n, int k, Span<byte> dst, Span<float> scales)
    {
        int kp = PaddedK(k);
        long rb = RowBytes(format, kp);
        var row = new float[kp];
        for (int i = 0; i < n; i++)
        {
            w.Slice(i * k, k).CopyTo(row);
            Array.Clear(row, k, kp - k);
            var d = dst.Slice((int)(i * rb), (int)rb);
            fixed (float* r = row)
            fixed (byte* o = d)
            {
                if (format == QuantFormat.Q8_0) BlockQuant.QuantizeQ8_0(r, o, kp);
                else if (format == QuantFormat.Q4_0) BlockQuant.QuantizeQ4_0(r, o, kp);
                else
                {
                    // The per-channel int8 rounding of the convolutions (row sum kept), zeros in the padding.
                    ConvInt8.QuantizeWeights(new ReadOnlySpan<float>(r, k), 1, k, new Span<sbyte>(o, k), scales.Slice(i, 1));
                    new Span<sbyte>(o + k, kp - k).Clear();
                }
            }
        }
    }

    /// <summary>Row i of quantized weights widened back to floats (k values): for the compiler's error report and tests.</summary>
    public static void DequantizeRow(QuantFormat format, byte* w, float* wScale, int i, int k, float* dst)
    {
        int kp = PaddedK(k);
        byte* row = w + i * RowBytes(format, kp);
        var tmp = new float[kp];
        fixed (float* t = tmp)
        {
            if (format == QuantFormat.Q8_0) BlockQuant.DequantizeQ8_0(row, t, kp);
            else if (format == QuantFormat.Q4_0) BlockQuant.DequantizeQ4_0(row, t, kp);
            else for (int j = 0; j < kp; j++) t[j] = ((sbyte*)row)[j] * wScale[i];
        }
        new ReadOnlySpan<float>(tmp, 0, k).CopyTo(new Span<float>(dst, k));
    }
}
