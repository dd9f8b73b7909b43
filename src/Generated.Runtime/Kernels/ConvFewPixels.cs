using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Float convolution (one group, NCHW) whose output has only a few pixels per image (at most <see cref="MaxPixels"/>),
/// computed like a matrix-vector product: the output channels are the vector lanes.
/// y[n, o, p] = epi(bias[o] + Σ_k w[o, k] · col[k, p]) with col the im2col matrix [c·kh·kw, oh·ow] of image n
/// (the input itself for a 1x1, stride-1, unpadded window). Each output is a sum over k in order, then bias and epilogue.
/// <para>
/// Packed weight layout (see <see cref="PackWeights"/>): the output channels padded to a multiple of 16
/// (mp = <see cref="PaddedChannels"/>(m), zero weights beyond m) and cut into blocks of <see cref="Block"/> channels (the
/// last one narrower, bw = min(64, mp - o0) wide); each block is k-major, wp[o0·kk + k·bw + (o - o0)] = w[o, k], so a
/// block is one sequential stream. The microkernel keeps up to 4 vectors of output channels by up to 4 pixels in
/// registers and streams each weight exactly once per image, so
/// small-output layers (a strided STFT filter bank, the tail of a 1-D encoder) are bound by reading the weights rather
/// than by the latency of a few long dot products.
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvFewPixels
{
    /// <summary>Most output pixels per image this kernel takes.</summary>
    public const int MaxPixels = 4;

    /// <summary>Output channels per packed block.</summary>
    public const int Block = 64;

    /// <summary>Output channels rounded up to the packed row length (a multiple of 16).</summary>
    public static int PaddedChannels(int m) => (m + 15) / 16 * 16;

    /// <summary>Number of floats of the packed weights for an [m, kk] weight (kk = c·kh·kw).</summary>
    public static long PackedWeightFloats(int m, int kk) => (long)PaddedChannels(m) * kk;

    /// <summary>Packs w [m, kk] into the k-major layout described on the class (dst: <see cref="PackedWeightFloats"/> floats).</summary>
    public static void PackWeights(ReadOnlySpan<float> w, Span<float> dst, int m, int kk)
    {
        int mp = PaddedChannels(m);
        for (int o0 = 0; o0 < mp; o0 += Block)
        {
            int bw = Math.Min(Block, mp - o0);
            for (int k = 0; k < kk; k++)
                for (int j = 0; j < bw; j++)
                    dst[o0 * kk + k * bw + j] = o0 + j < m ? w[(o0 + j) * kk + k] : 0f;
        }
    }

    /// <summary>True when the window reads the input in place (1x1, stride 1, no padding, output as large as the input).</summary>
    public static bool ReadsInPlace(int h, int wIn, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft)
        => kh == 1 && kw == 1 && strideH == 1 && strideW == 1 && padTop == 0 && padLeft == 0 && oh == h && ow == wIn;

    /// <summary>Number of floats of scratch <see cref="Run"/> needs: the im2col matrix of one image (0 when read in place).</summary>
    public static long ScratchFloats(int c, int h, int wIn, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft)
        => ReadsInPlace(h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft) ? 0 : (long)c * kh * kw * oh * ow;

    /// <summary>
    /// Convolution. x: [n, c, h, wIn]; wPacked: <see cref="PackWeights"/> of [m, c·kh·kw]; bias: [m] or null;
    /// y: [n, m, oh, ow] with oh·ow at most <see cref="MaxPixels"/>; scratch: <see cref="ScratchFloats"/> floats.
    /// </summary>
    public static void Run(float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        float* scratch, Epilogue epi)
        => RunWidth(Gemm.PreferredWidth, x, wPacked, bias, y, n, c, h, wIn, m, kh, kw, oh, ow, strideH, strideW,
            padTop, padLeft, dilH, dilW, scratch, epi);

    /// <summary><see cref="Run"/> with an explicit SIMD width (512, 256, or 0 for the scalar path).</summary>
    internal static void RunWidth(int width, float* x, float* wPacked, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW,
        float* scratch, Epilogue epi)
    {
        int p = oh * ow;
        if (n <= 0 || m <= 0 || p <= 0) return;
        Debug.Assert(p <= MaxPixels);
        int kk = c * kh * kw;
        bool inPlace = ReadsInPlace(h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft);
        for (int ni = 0; ni < n; ni++)
        {
            float* xn = x + (long)ni * c * h * wIn;
            float* cols = xn;
            if (!inPlace)
            {
                Gather(xn, scratch, c, h, wIn, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW);
                cols = scratch;
            }
            Columns(width, cols, p, kk, wPacked, bias, y + (long)ni * m * p, m, epi);
        }
    }

    /// <summary>
    /// col[k·p + q] = x[ci, iy, ix] (0 outside x) for k = (ci, ky, kx) and output pixel q = (oy, ox), p = oh·ow &lt;= 4:
    /// the im2col matrix stored pixel-minor, built element by element (rows of a few pixels are too short for copies).
    /// </summary>
    private static void Gather(float* x, float* col, int c, int h, int wIn, int kh, int kw, int oh, int ow,
        int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW)
    {
        int p = oh * ow;
        int* iy0 = stackalloc int[MaxPixels];
        int* ix0 = stackalloc int[MaxPixels];
        for (int q = 0; q < p; q++)
        {
            iy0[q] = q / ow * strideH - padTop;
            ix0[q] = q % ow * strideW - padLeft;
        }
        float* dst = col;
        for (int ci = 0; ci < c; ci++)
        {
            float* xc = x + (long)ci * h * wIn;
            for (int ky = 0; ky < kh; ky++)
                for (int kx = 0; kx < kw; kx++, dst += p)
                    for (int q = 0; q < p; q++)
                    {
                        int iy = iy0[q] + ky * dilH, ix = ix0[q] + kx * dilW;
                        dst[q] = (uint)iy < (uint)h && (uint)ix < (uint)wIn ? xc[(long)iy * wIn + ix] : 0f;
                    }
        }
    }

    /// <summary>Packed weight of channel o at k = 0 (the next k is <see cref="Stride"/> floats further).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float* At(float* wp, int o, int kk) => wp + (long)(o & ~(Block - 1)) * kk + (o & (Block - 1));

    /// <summary>Distance in floats between consecutive k of channel o's block.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Stride(int o, int mp) => Math.Min(Block, mp - (o & ~(Block - 1)));

    /// <summary>y[o·p + q] = epi(bias[o] + Σ_k w[o, k] · cols[k·p + q]) for o &lt; m, q &lt; p (p &lt;= 4).</summary>
    internal static void Columns(int width, float* cols, int p, int kk, float* wp, float* bias, float* y, int m, Epilogue epi)
    {
        int mp = PaddedChannels(m);
        float* tmp = stackalloc float[64];
        if (width >= 512 && Vector512.IsHardwareAccelerated)
        {
            int o = 0;
            for (; o + 64 <= mp; o += 64)
            {
                switch (p)
                {
                    case 1: Tile512<N4, N1>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 2: Tile512<N4, N2>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 3: Tile512<N4, N3>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    default: Tile512<N4, N4>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                }
            }
            for (; o < mp; o += 16)
            {
                switch (p)
                {
                    case 1: Tile512<N1, N1>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 2: Tile512<N1, N2>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 3: Tile512<N1, N3>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    default: Tile512<N1, N4>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                }
            }
            return;
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            int o = 0;
            if (p <= 2)
            {
                for (; o + 32 <= mp; o += 32)
                {
                    if (p == 1) Tile256<N4, N1>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp);
                    else Tile256<N4, N2>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp);
                }
            }
            for (; o < mp; o += 16)
            {
                switch (p)
                {
                    case 1: Tile256<N2, N1>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 2: Tile256<N2, N2>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    case 3: Tile256<N2, N3>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                    default: Tile256<N2, N4>(cols, kk, At(wp, o, kk), Stride(o, mp), bias, y, m, o, epi, tmp); break;
                }
            }
            return;
        }
        for (int o = 0; o < m; o++)
        {
            float b = bias == null ? 0f : bias[o];
            for (int q = 0; q < p; q++)
            {
                float s = 0f;
                float* wo = At(wp, o, kk);
                int stride = Stride(o, mp);
                for (int k = 0; k < kk; k++) s += wo[(long)k * stride] * cols[(long)k * p + q];
                y[(long)o * p + q] = EpilogueOps.Apply(s + b, epi);
            }
        }
    }

    /// <summary>
    /// nv vectors of 16 output channels (from o0) by pn pixels; nv and pn are type constants, so each instantiation
    /// is its own small method that keeps only its live accumulators in registers.
    /// </summary>
    private static void Tile512<TNv, TPn>(float* cols, int kk, float* w, int stride, float* bias, float* y, int m, int o0,
        Epilogue epi, float* tmp) where TNv : struct, IConstInt where TPn : struct, IConstInt
    {
        int nv = TNv.Value, pn = TPn.Value;
        Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector512<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector512<float> a20 = default, a21 = default, a22 = default, a23 = default;
        Vector512<float> a30 = default, a31 = default, a32 = default, a33 = default;
        float* col = cols;
        for (int k = 0; k < kk; k++, w += stride, col += pn)
        {
            var w0 = Vector512.Load(w);
            var x0 = Vector512.Create(col[0]);
            a00 = Vector512.FusedMultiplyAdd(w0, x0, a00);
            if (nv > 1) a10 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), x0, a10);
            if (nv > 2) a20 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), x0, a20);
            if (nv > 3) a30 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), x0, a30);
            if (pn > 1)
            {
                var x1 = Vector512.Create(col[1]);
                a01 = Vector512.FusedMultiplyAdd(w0, x1, a01);
                if (nv > 1) a11 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), x1, a11);
                if (nv > 2) a21 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), x1, a21);
                if (nv > 3) a31 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), x1, a31);
            }
            if (pn > 2)
            {
                var x2 = Vector512.Create(col[2]);
                a02 = Vector512.FusedMultiplyAdd(w0, x2, a02);
                if (nv > 1) a12 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), x2, a12);
                if (nv > 2) a22 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), x2, a22);
                if (nv > 3) a32 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), x2, a32);
            }
            if (pn > 3)
            {
                var x3 = Vector512.Create(col[3]);
                a03 = Vector512.FusedMultiplyAdd(w0, x3, a03);
                if (nv > 1) a13 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 16), x3, a13);
                if (nv > 2) a23 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 32), x3, a23);
                if (nv > 3) a33 = Vector512.FusedMultiplyAdd(Vector512.Load(w + 48), x3, a33);
            }
        }
        Store4(a00, a01, a02, a03, pn, tmp);
        Finish(tmp, pn, bias, y, m, o0, epi);
        if (nv > 1) { Store4(a10, a11, a12, a13, pn, tmp); Finish(tmp, pn, bias, y, m, o0 + 16, epi); }
        if (nv > 2) { Store4(a20, a21, a22, a23, pn, tmp); Finish(tmp, pn, bias, y, m, o0 + 32, epi); }
        if (nv > 3) { Store4(a30, a31, a32, a33, pn, tmp); Finish(tmp, pn, bias, y, m, o0 + 48, epi); }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store4(Vector512<float> v0, Vector512<float> v1, Vector512<float> v2, Vector512<float> v3, int pn, float* tmp)
    {
        v0.Store(tmp);
        if (pn > 1) v1.Store(tmp + 16);
        if (pn > 2) v2.Store(tmp + 32);
        if (pn > 3) v3.Store(tmp + 48);
    }

    /// <summary>nv vectors of 8 output channels (from o0) by pn pixels (type constants, as for <see cref="Tile512{TNv, TPn}"/>).</summary>
    private static void Tile256<TNv, TPn>(float* cols, int kk, float* w, int stride, float* bias, float* y, int m, int o0,
        Epilogue epi, float* tmp) where TNv : struct, IConstInt where TPn : struct, IConstInt
    {
        int nv = TNv.Value, pn = TPn.Value;
        Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
        Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
        Vector256<float> a20 = default, a21 = default, a30 = default, a31 = default;
        float* col = cols;
        for (int k = 0; k < kk; k++, w += stride, col += pn)
        {
            var w0 = Vector256.Load(w);
            var w1 = Vector256.Load(w + 8);
            var x0 = Vector256.Create(col[0]);
            a00 = Vector256.MultiplyAddEstimate(w0, x0, a00);
            a10 = Vector256.MultiplyAddEstimate(w1, x0, a10);
            if (nv > 2) a20 = Vector256.MultiplyAddEstimate(Vector256.Load(w + 16), x0, a20);
            if (nv > 3) a30 = Vector256.MultiplyAddEstimate(Vector256.Load(w + 24), x0, a30);
            if (pn > 1)
            {
                var x1 = Vector256.Create(col[1]);
                a01 = Vector256.MultiplyAddEstimate(w0, x1, a01);
                a11 = Vector256.MultiplyAddEstimate(w1, x1, a11);
                if (nv > 2) a21 = Vector256.MultiplyAddEstimate(Vector256.Load(w + 16), x1, a21);
                if (nv > 3) a31 = Vector256.MultiplyAddEstimate(Vector256.Load(w + 24), x1, a31);
            }
            if (pn > 2)
            {
                var x2 = Vector256.Create(col[2]);
                a02 = Vector256.MultiplyAddEstimate(w0, x2, a02);
                a12 = Vector256.MultiplyAddEstimate(w1, x2, a12);
            }
            if (pn > 3)
            {
                var x3 = Vector256.Create(col[3]);
                a03 = Vector256.MultiplyAddEstimate(w0, x3, a03);
                a13 = Vector256.MultiplyAddEstimate(w1, x3, a13);
            }
        }
        a00.Store(tmp); a10.Store(tmp + 8);
        if (pn > 1) { a01.Store(tmp + 16); a11.Store(tmp + 24); }
        if (pn > 2) { a02.Store(tmp + 32); a12.Store(tmp + 40); }
        if (pn > 3) { a03.Store(tmp + 48); a13.Store(tmp + 56); }
        Finish(tmp, pn, bias, y, m, o0, epi);
        if (nv > 2)
        {
            a20.Store(tmp); a30.Store(tmp + 8);
            if (pn > 1) { a21.Store(tmp + 16); a31.Store(tmp + 24); }
            Finish(tmp, pn, bias, y, m, o0 + 16, epi);
        }
    }

    /// <summary>
    /// Writes 16 output channels from o0 (those below m) by pn pixels: y[o·pn + q] = epi(acc_q[o - o0] + bias[o]),
    /// with the pn accumulators of the block stored at tmp[16·q].
    /// </summary>
    private static void Finish(float* tmp, int pn, float* bias, float* y, int m, int o0, Epilogue epi)
    {
        int count = Math.Min(16, m - o0);
        if (count <= 0) return;
        if (pn == 1 && count == 16 && Vector256.IsHardwareAccelerated)
        {
            var b0 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + o0);
            var b1 = bias == null ? Vector256<float>.Zero : Vector256.Load(bias + o0 + 8);
            Vector256.Store(EpilogueOps.Apply(Vector256.Load(tmp) + b0, epi), y + o0);
            Vector256.Store(EpilogueOps.Apply(Vector256.Load(tmp + 8) + b1, epi), y + o0 + 8);
            return;
        }
        for (int q = 0; q < pn; q++)
        {
            float* t = tmp + 16 * q;
            float* yq = y + (long)o0 * pn + q;
            for (int j = 0; j < count; j++) yq[j * pn] = EpilogueOps.Apply(t[j] + (bias == null ? 0f : bias[o0 + j]), epi);
        }
    }

    /// <summary>Plain scalar reference on the unpacked weight w [m, c, kh, kw], same contract as <see cref="Run"/>.</summary>
    internal static void RunScalar(float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, Epilogue epi)
    {
        for (int ni = 0; ni < n; ni++)
            for (int o = 0; o < m; o++)
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        float s = 0f;
                        for (int ci = 0; ci < c; ci++)
                            for (int ky = 0; ky < kh; ky++)
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int iy = oy * strideH - padTop + ky * dilH, ix = ox * strideW - padLeft + kx * dilW;
                                    if ((uint)iy >= (uint)h || (uint)ix >= (uint)wIn) continue;
                                    s += w[(((long)o * c + ci) * kh + ky) * kw + kx] * x[(((long)ni * c + ci) * h + iy) * wIn + ix];
                                }
                        if (bias != null) s += bias[o];
                        y[(((long)ni * m + o) * oh + oy) * ow + ox] = EpilogueOps.Apply(s, epi);
                    }
    }
}

/// <summary>An integer known from a type, so a generic kernel instantiated on it is compiled for that constant.</summary>
internal interface IConstInt
{
    /// <summary>The constant.</summary>
    static abstract int Value { get; }
}

/// <summary>1.</summary>
internal readonly struct N1 : IConstInt { public static int Value => 1; }

/// <summary>2.</summary>
internal readonly struct N2 : IConstInt { public static int Value => 2; }

/// <summary>3.</summary>
internal readonly struct N3 : IConstInt { public static int Value => 3; }

/// <summary>4.</summary>
internal readonly struct N4 : IConstInt { public static int Value => 4; }
