using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Single-precision general matrix multiply (row-major), blocked and register-tiled.
/// </summary>
[SkipLocalsInit]
public static unsafe class Gemm
{
    private const int MR = 6;                 // rows of the register tile
    private const int BPackFloats = 16384;    // 64 KB packed-B block (KC x NC)
    private const int KcMaxV256 = 256;
    private const int KcMaxV512 = 128;
    private const int MaxNR = 32;

    private const int ModeOverwrite = 0;      // C = alpha*acc
    private const int ModeBeta = 1;           // C = alpha*acc + beta*C
    private const int ModeAccumulate = 2;     // C = alpha*acc + C

    /// <summary>
    /// C[i,j] = epi(alpha * sum_p opA[i,p]*opB[p,j] + beta*C[i,j] + (bias == null ? 0 : bias[j])), all row-major.
    /// opA is m x k: A (m x k, row stride lda) or, when <paramref name="transA"/>, A^T with A stored k x m.
    /// opB is k x n: B (k x n, row stride ldb) or, when <paramref name="transB"/>, B^T with B stored n x k.
    /// C is m x n with row stride ldc; when beta == 0, C is never read. bias has n entries or is null.
    /// </summary>
    public static void Run(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi)
    {
        Core(PreferredWidth, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, false, epi);
    }

    /// <summary>The widest SIMD width (bits) the blocked kernels use on this machine; 0 means scalar.</summary>
    internal static int PreferredWidth =>
        Vector512.IsHardwareAccelerated ? 512 :
        Vector256.IsHardwareAccelerated ? 256 :
        Vector128.IsHardwareAccelerated ? 128 : 0;

    /// <summary>Same as <see cref="Run"/>, but with the bias indexed by row (bias[i], m entries) when <paramref name="biasPerRow"/>.</summary>
    internal static void RunWithBias(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, bool biasPerRow, Epilogue epi)
    {
        Core(PreferredWidth, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasPerRow, epi);
    }

    /// <summary>Vector512 path (requires Vector512.IsHardwareAccelerated).</summary>
    internal static void RunV512(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi)
    {
        Debug.Assert(Vector512.IsHardwareAccelerated);
        Core(512, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, false, epi);
    }

    /// <summary>Vector256 path (requires Vector256.IsHardwareAccelerated).</summary>
    internal static void RunV256(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi)
    {
        Debug.Assert(Vector256.IsHardwareAccelerated);
        Core(256, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, false, epi);
    }

    /// <summary>Vector128 path (requires Vector128.IsHardwareAccelerated).</summary>
    internal static void RunV128(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi)
    {
        Debug.Assert(Vector128.IsHardwareAccelerated);
        Core(128, m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, false, epi);
    }

    /// <summary>Plain scalar reference with the same contract as <see cref="Run"/>.</summary>
    public static void RunScalar(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi)
    {
        RunScalarCore(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, false, epi);
    }

    internal static void RunScalarCore(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, bool biasPerRow, Epilogue epi)
    {
        for (int i = 0; i < m; i++)
        {
            for (int j = 0; j < n; j++)
            {
                float s = 0f;
                for (int p = 0; p < k; p++)
                {
                    float av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    float bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    s += av * bv;
                }
                float v = alpha * s;
                if (beta != 0f) v += beta * c[(long)i * ldc + j];
                if (bias != null) v += biasPerRow ? bias[i] : bias[j];
                c[(long)i * ldc + j] = EpilogueOps.Apply(v, epi);
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Driver
    // ------------------------------------------------------------------------------------------

    internal static void Core(int width, int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, bool biasPerRow, Epilogue epi)
    {
        Debug.Assert(m >= 0 && n >= 0 && k >= 0);
        if (m <= 0 || n <= 0) return;
        if (width == 0)
        {
            RunScalarCore(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, alpha, beta, bias, biasPerRow, epi);
            return;
        }
        float* colBias = biasPerRow ? null : bias;
        if (k <= 0)
        {
            for (int i = 0; i < m; i++)
            {
                float* cr = c + (long)i * ldc;
                if (beta == 0f) new Span<float>(cr, n).Clear();
                else if (beta != 1f) for (int j = 0; j < n; j++) cr[j] *= beta;
                EpilogueOps.ApplyRow(cr, n, colBias, biasPerRow && bias != null ? bias[i] : 0f, epi);
            }
            return;
        }
        if (m == 1 && (!transA || lda == 1))
        {
            Gemv(width, n, k, a, b, ldb, transB, c, alpha, beta, colBias, biasPerRow && bias != null ? bias[0] : 0f, epi);
            return;
        }

        // Narrow outputs: use a narrower register tile so less of it is padding.
        if (width == 512 && n <= 16) width = 256;
        if (width == 256 && n <= 8) width = 128;

        int nr = width == 512 ? 32 : width == 256 ? 16 : 8;
        int kcMax = width == 512 ? KcMaxV512 : KcMaxV256;
        int ncMax = BPackFloats / kcMax / nr * nr;

        float* bPack = stackalloc float[BPackFloats];
        float* aPack = stackalloc float[MR * KcMaxV256];
        float* tile = stackalloc float[MR * MaxNR];

        for (int jc = 0; jc < n; jc += ncMax)
        {
            int nc = Math.Min(ncMax, n - jc);
            for (int pc = 0; pc < k; pc += kcMax)
            {
                int kc = Math.Min(kcMax, k - pc);
                bool first = pc == 0;
                bool last = pc + kc >= k;
                int mode = !first ? ModeAccumulate : beta == 0f ? ModeOverwrite : ModeBeta;
                PackB(b, ldb, transB, pc, jc, kc, nc, nr, bPack);
                for (int ic = 0; ic < m; ic += MR)
                {
                    int mr = Math.Min(MR, m - ic);
                    PackA(a, lda, transA, ic, pc, mr, kc, aPack);
                    for (int jr = 0; jr < nc; jr += nr)
                    {
                        int ncr = Math.Min(nr, nc - jr);
                        float* bp = bPack + (long)jr * kc;
                        float* cp = c + (long)ic * ldc + jc + jr;
                        if (mr == MR && ncr == nr)
                        {
                            Kernel(width, kc, aPack, bp, cp, ldc, mode, alpha, beta);
                        }
                        else
                        {
                            Kernel(width, kc, aPack, bp, tile, nr, ModeOverwrite, 1f, 0f);
                            for (int r = 0; r < mr; r++)
                            {
                                float* cr = cp + (long)r * ldc;
                                float* tr = tile + r * nr;
                                for (int j = 0; j < ncr; j++)
                                {
                                    float v = alpha * tr[j];
                                    if (mode == ModeBeta) v += beta * cr[j];
                                    else if (mode == ModeAccumulate) v += cr[j];
                                    cr[j] = v;
                                }
                            }
                        }
                    }
                    if (last)
                    {
                        for (int r = 0; r < mr; r++)
                        {
                            float rb = biasPerRow && bias != null ? bias[ic + r] : 0f;
                            EpilogueOps.ApplyRow(c + (long)(ic + r) * ldc + jc, nc, colBias == null ? null : colBias + jc, rb, epi);
                        }
                    }
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Kernel(int width, int kc, float* pa, float* pb, float* c, int ldc, int mode, float alpha, float beta)
    {
        if (width == 512) KernelV512(kc, pa, pb, c, ldc, mode, alpha, beta);
        else if (width == 256) KernelV256(kc, pa, pb, c, ldc, mode, alpha, beta);
        else KernelV128(kc, pa, pb, c, ldc, mode, alpha, beta);
    }

    /// <summary>Packs rows [ic, ic+mr) x cols [pc, pc+kc) of opA as p-major groups of MR (zero padded).</summary>
    private static void PackA(float* a, int lda, bool transA, int ic, int pc, int mr, int kc, float* dst)
    {
        if (transA)
        {
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (long)(pc + p) * lda + ic;
                float* d = dst + p * MR;
                int r = 0;
                for (; r < mr; r++) d[r] = src[r];
                for (; r < MR; r++) d[r] = 0f;
            }
        }
        else
        {
            int r = 0;
            for (; r < mr; r++)
            {
                float* src = a + (long)(ic + r) * lda + pc;
                float* d = dst + r;
                int p = 0;
                for (; p <= kc - 4; p += 4)
                {
                    d[p * MR] = src[p];
                    d[(p + 1) * MR] = src[p + 1];
                    d[(p + 2) * MR] = src[p + 2];
                    d[(p + 3) * MR] = src[p + 3];
                }
                for (; p < kc; p++) d[p * MR] = src[p];
            }
            for (; r < MR; r++)
            {
                float* d = dst + r;
                for (int p = 0; p < kc; p++) d[p * MR] = 0f;
            }
        }
    }

    /// <summary>Packs opB rows [pc, pc+kc) x cols [jc, jc+nc) into panels of nr columns: panel jr at dst + jr*kc, p-major, zero padded.</summary>
    private static void PackB(float* b, int ldb, bool transB, int pc, int jc, int kc, int nc, int nr, float* dst)
    {
        for (int jr = 0; jr < nc; jr += nr)
        {
            int ncr = Math.Min(nr, nc - jr);
            float* panel = dst + (long)jr * kc;
            if (!transB)
            {
                float* src = b + (long)pc * ldb + jc + jr;
                if (ncr == nr)
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * ldb;
                        float* d = panel + p * nr;
                        if (Vector128.IsHardwareAccelerated)
                        {
                            for (int j = 0; j < nr; j += 4) Vector128.Store(Vector128.Load(s + j), d + j);
                        }
                        else
                        {
                            for (int j = 0; j < nr; j++) d[j] = s[j];
                        }
                    }
                }
                else
                {
                    for (int p = 0; p < kc; p++)
                    {
                        float* s = src + (long)p * ldb;
                        float* d = panel + p * nr;
                        int j = 0;
                        for (; j < ncr; j++) d[j] = s[j];
                        for (; j < nr; j++) d[j] = 0f;
                    }
                }
            }
            else
            {
                // opB[p, j] = B[j, p]; B stored n x k.
                int j = 0;
                for (; j < ncr; j++)
                {
                    float* s = b + (long)(jc + jr + j) * ldb + pc;
                    float* d = panel + j;
                    int p = 0;
                    for (; p <= kc - 4; p += 4)
                    {
                        d[p * nr] = s[p];
                        d[(p + 1) * nr] = s[p + 1];
                        d[(p + 2) * nr] = s[p + 2];
                        d[(p + 3) * nr] = s[p + 3];
                    }
                    for (; p < kc; p++) d[p * nr] = s[p];
                }
                for (; j < nr; j++)
                {
                    float* d = panel + j;
                    for (int p = 0; p < kc; p++) d[p * nr] = 0f;
                }
            }
        }
    }

    // ------------------------------------------------------------------------------------------
    // Micro-kernels: 6 x (2 vectors), A packed p-major in groups of 6, B packed p-major in rows of 2 vectors.
    // ------------------------------------------------------------------------------------------

    private static void KernelV512(int kc, float* pa, float* pb, float* c, int ldc, int mode, float alpha, float beta)
    {
        Vector512<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector512<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector512.Load(pb);
            var b1 = Vector512.Load(pb + 16);
            var a0 = Vector512.Create(pa[0]);
            c00 = Vector512.FusedMultiplyAdd(a0, b0, c00);
            c01 = Vector512.FusedMultiplyAdd(a0, b1, c01);
            var a1 = Vector512.Create(pa[1]);
            c10 = Vector512.FusedMultiplyAdd(a1, b0, c10);
            c11 = Vector512.FusedMultiplyAdd(a1, b1, c11);
            var a2 = Vector512.Create(pa[2]);
            c20 = Vector512.FusedMultiplyAdd(a2, b0, c20);
            c21 = Vector512.FusedMultiplyAdd(a2, b1, c21);
            var a3 = Vector512.Create(pa[3]);
            c30 = Vector512.FusedMultiplyAdd(a3, b0, c30);
            c31 = Vector512.FusedMultiplyAdd(a3, b1, c31);
            var a4 = Vector512.Create(pa[4]);
            c40 = Vector512.FusedMultiplyAdd(a4, b0, c40);
            c41 = Vector512.FusedMultiplyAdd(a4, b1, c41);
            var a5 = Vector512.Create(pa[5]);
            c50 = Vector512.FusedMultiplyAdd(a5, b0, c50);
            c51 = Vector512.FusedMultiplyAdd(a5, b1, c51);
            pa += MR;
            pb += 32;
        }
        var va = Vector512.Create(alpha);
        var vb = Vector512.Create(beta);
        Store512(c, c00, c01, mode, va, vb); c += ldc;
        Store512(c, c10, c11, mode, va, vb); c += ldc;
        Store512(c, c20, c21, mode, va, vb); c += ldc;
        Store512(c, c30, c31, mode, va, vb); c += ldc;
        Store512(c, c40, c41, mode, va, vb); c += ldc;
        Store512(c, c50, c51, mode, va, vb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store512(float* c, Vector512<float> x0, Vector512<float> x1, int mode, Vector512<float> va, Vector512<float> vb)
    {
        if (mode == ModeOverwrite)
        {
            Vector512.Store(x0 * va, c);
            Vector512.Store(x1 * va, c + 16);
        }
        else if (mode == ModeAccumulate)
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(x0, va, Vector512.Load(c)), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16)), c + 16);
        }
        else
        {
            Vector512.Store(Vector512.FusedMultiplyAdd(x0, va, Vector512.Load(c) * vb), c);
            Vector512.Store(Vector512.FusedMultiplyAdd(x1, va, Vector512.Load(c + 16) * vb), c + 16);
        }
    }

    private static void KernelV256(int kc, float* pa, float* pb, float* c, int ldc, int mode, float alpha, float beta)
    {
        Vector256<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector256<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector256.Load(pb);
            var b1 = Vector256.Load(pb + 8);
            var a0 = Vector256.Create(pa[0]);
            c00 = Vector256.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector256.MultiplyAddEstimate(a0, b1, c01);
            var a1 = Vector256.Create(pa[1]);
            c10 = Vector256.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector256.MultiplyAddEstimate(a1, b1, c11);
            var a2 = Vector256.Create(pa[2]);
            c20 = Vector256.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector256.MultiplyAddEstimate(a2, b1, c21);
            var a3 = Vector256.Create(pa[3]);
            c30 = Vector256.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector256.MultiplyAddEstimate(a3, b1, c31);
            var a4 = Vector256.Create(pa[4]);
            c40 = Vector256.MultiplyAddEstimate(a4, b0, c40);
            c41 = Vector256.MultiplyAddEstimate(a4, b1, c41);
            var a5 = Vector256.Create(pa[5]);
            c50 = Vector256.MultiplyAddEstimate(a5, b0, c50);
            c51 = Vector256.MultiplyAddEstimate(a5, b1, c51);
            pa += MR;
            pb += 16;
        }
        var va = Vector256.Create(alpha);
        var vb = Vector256.Create(beta);
        Store256(c, c00, c01, mode, va, vb); c += ldc;
        Store256(c, c10, c11, mode, va, vb); c += ldc;
        Store256(c, c20, c21, mode, va, vb); c += ldc;
        Store256(c, c30, c31, mode, va, vb); c += ldc;
        Store256(c, c40, c41, mode, va, vb); c += ldc;
        Store256(c, c50, c51, mode, va, vb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store256(float* c, Vector256<float> x0, Vector256<float> x1, int mode, Vector256<float> va, Vector256<float> vb)
    {
        if (mode == ModeOverwrite)
        {
            Vector256.Store(x0 * va, c);
            Vector256.Store(x1 * va, c + 8);
        }
        else if (mode == ModeAccumulate)
        {
            Vector256.Store(Vector256.MultiplyAddEstimate(x0, va, Vector256.Load(c)), c);
            Vector256.Store(Vector256.MultiplyAddEstimate(x1, va, Vector256.Load(c + 8)), c + 8);
        }
        else
        {
            Vector256.Store(Vector256.MultiplyAddEstimate(x0, va, Vector256.Load(c) * vb), c);
            Vector256.Store(Vector256.MultiplyAddEstimate(x1, va, Vector256.Load(c + 8) * vb), c + 8);
        }
    }

    private static void KernelV128(int kc, float* pa, float* pb, float* c, int ldc, int mode, float alpha, float beta)
    {
        Vector128<float> c00 = default, c01 = default, c10 = default, c11 = default, c20 = default, c21 = default;
        Vector128<float> c30 = default, c31 = default, c40 = default, c41 = default, c50 = default, c51 = default;
        for (int p = 0; p < kc; p++)
        {
            var b0 = Vector128.Load(pb);
            var b1 = Vector128.Load(pb + 4);
            var a0 = Vector128.Create(pa[0]);
            c00 = Vector128.MultiplyAddEstimate(a0, b0, c00);
            c01 = Vector128.MultiplyAddEstimate(a0, b1, c01);
            var a1 = Vector128.Create(pa[1]);
            c10 = Vector128.MultiplyAddEstimate(a1, b0, c10);
            c11 = Vector128.MultiplyAddEstimate(a1, b1, c11);
            var a2 = Vector128.Create(pa[2]);
            c20 = Vector128.MultiplyAddEstimate(a2, b0, c20);
            c21 = Vector128.MultiplyAddEstimate(a2, b1, c21);
            var a3 = Vector128.Create(pa[3]);
            c30 = Vector128.MultiplyAddEstimate(a3, b0, c30);
            c31 = Vector128.MultiplyAddEstimate(a3, b1, c31);
            var a4 = Vector128.Create(pa[4]);
            c40 = Vector128.MultiplyAddEstimate(a4, b0, c40);
            c41 = Vector128.MultiplyAddEstimate(a4, b1, c41);
            var a5 = Vector128.Create(pa[5]);
            c50 = Vector128.MultiplyAddEstimate(a5, b0, c50);
            c51 = Vector128.MultiplyAddEstimate(a5, b1, c51);
            pa += MR;
            pb += 8;
        }
        var va = Vector128.Create(alpha);
        var vb = Vector128.Create(beta);
        Store128(c, c00, c01, mode, va, vb); c += ldc;
        Store128(c, c10, c11, mode, va, vb); c += ldc;
        Store128(c, c20, c21, mode, va, vb); c += ldc;
        Store128(c, c30, c31, mode, va, vb); c += ldc;
        Store128(c, c40, c41, mode, va, vb); c += ldc;
        Store128(c, c50, c51, mode, va, vb);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store128(float* c, Vector128<float> x0, Vector128<float> x1, int mode, Vector128<float> va, Vector128<float> vb)
    {
        if (mode == ModeOverwrite)
        {
            Vector128.Store(x0 * va, c);
            Vector128.Store(x1 * va, c + 4);
        }
        else if (mode == ModeAccumulate)
        {
            Vector128.Store(Vector128.MultiplyAddEstimate(x0, va, Vector128.Load(c)), c);
            Vector128.Store(Vector128.MultiplyAddEstimate(x1, va, Vector128.Load(c + 4)), c + 4);
        }
        else
        {
            Vector128.Store(Vector128.MultiplyAddEstimate(x0, va, Vector128.Load(c) * vb), c);
            Vector128.Store(Vector128.MultiplyAddEstimate(x1, va, Vector128.Load(c + 4) * vb), c + 4);
        }
    }

    // ------------------------------------------------------------------------------------------
    // GEMV: m == 1, a contiguous (k entries).
    // ------------------------------------------------------------------------------------------

    private static void Gemv(int width, int n, int k, float* a, float* b, int ldb, bool transB, float* c,
        float alpha, float beta, float* colBias, float rowBias, Epilogue epi)
    {
        if (transB)
        {
            // c[j] = dot(a, B[j, :])
            int j = 0;
            for (; j <= n - 4; j += 4)
            {
                float* b0 = b + (long)j * ldb;
                Dot4(width, k, a, b0, b0 + ldb, b0 + 2L * ldb, b0 + 3L * ldb, out float s0, out float s1, out float s2, out float s3);
                c[j] = Finish(s0, c[j], alpha, beta);
                c[j + 1] = Finish(s1, c[j + 1], alpha, beta);
                c[j + 2] = Finish(s2, c[j + 2], alpha, beta);
                c[j + 3] = Finish(s3, c[j + 3], alpha, beta);
            }
            for (; j < n; j++)
            {
                float s = Dot1(width, k, a, b + (long)j * ldb);
                c[j] = Finish(s, c[j], alpha, beta);
            }
        }
        else
        {
            // c[j] = sum_p a[p] * B[p, j]
            int j = 0;
            if (width >= 512 && Vector512.IsHardwareAccelerated)
            {
                var va = Vector512.Create(alpha);
                var vb = Vector512.Create(beta);
                for (; j <= n - 64; j += 64)
                {
                    Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    float* bp = b + j;
                    for (int p = 0; p < k; p++, bp += ldb)
                    {
                        var av = Vector512.Create(a[p]);
                        s0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp), s0);
                        s1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 16), s1);
                        s2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 32), s2);
                        s3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(bp + 48), s3);
                    }
                    GemvStore512(c + j, s0, va, vb, beta);
                    GemvStore512(c + j + 16, s1, va, vb, beta);
                    GemvStore512(c + j + 32, s2, va, vb, beta);
                    GemvStore512(c + j + 48, s3, va, vb, beta);
                }
                for (; j <= n - 16; j += 16)
                {
                    GemvStore512(c + j, Column512(a, b + j, ldb, k), va, vb, beta);
                }
            }
            if (width >= 256 && Vector256.IsHardwareAccelerated)
            {
                var va = Vector256.Create(alpha);
                var vb = Vector256.Create(beta);
                for (; j <= n - 32; j += 32)
                {
                    Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    float* bp = b + j;
                    for (int p = 0; p < k; p++, bp += ldb)
                    {
                        var av = Vector256.Create(a[p]);
                        s0 = Vector256.MultiplyAddEstimate(av, Vector256.Load(bp), s0);
                        s1 = Vector256.MultiplyAddEstimate(av, Vector256.Load(bp + 8), s1);
                        s2 = Vector256.MultiplyAddEstimate(av, Vector256.Load(bp + 16), s2);
                        s3 = Vector256.MultiplyAddEstimate(av, Vector256.Load(bp + 24), s3);
                    }
                    GemvStore256(c + j, s0, va, vb, beta);
                    GemvStore256(c + j + 8, s1, va, vb, beta);
                    GemvStore256(c + j + 16, s2, va, vb, beta);
                    GemvStore256(c + j + 24, s3, va, vb, beta);
                }
                for (; j <= n - 8; j += 8)
                {
                    GemvStore256(c + j, Column256(a, b + j, ldb, k), va, vb, beta);
                }
            }
            if (width >= 128 && Vector128.IsHardwareAccelerated)
            {
                var va = Vector128.Create(alpha);
                var vb = Vector128.Create(beta);
                for (; j <= n - 16; j += 16)
                {
                    Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
                    float* bp = b + j;
                    for (int p = 0; p < k; p++, bp += ldb)
                    {
                        var av = Vector128.Create(a[p]);
                        s0 = Vector128.MultiplyAddEstimate(av, Vector128.Load(bp), s0);
                        s1 = Vector128.MultiplyAddEstimate(av, Vector128.Load(bp + 4), s1);
                        s2 = Vector128.MultiplyAddEstimate(av, Vector128.Load(bp + 8), s2);
                        s3 = Vector128.MultiplyAddEstimate(av, Vector128.Load(bp + 12), s3);
                    }
                    GemvStore128(c + j, s0, va, vb, beta);
                    GemvStore128(c + j + 4, s1, va, vb, beta);
                    GemvStore128(c + j + 8, s2, va, vb, beta);
                    GemvStore128(c + j + 12, s3, va, vb, beta);
                }
                for (; j <= n - 4; j += 4)
                {
                    GemvStore128(c + j, Column128(a, b + j, ldb, k), va, vb, beta);
                }
            }
            // Leftover columns: one overlapping vector chunk ending at n (columns [j, n) are still untouched).
            if (j < n && width >= 256 && Vector256.IsHardwareAccelerated && n >= 8)
            {
                int j0 = n - 8;
                var s0 = Column256(a, b + j0, ldb, k);
                for (; j < n; j++) c[j] = Finish(s0.GetElement(j - j0), c[j], alpha, beta);
            }
            else if (j < n && width >= 128 && Vector128.IsHardwareAccelerated && n >= 4)
            {
                int j0 = n - 4;
                var s0 = Column128(a, b + j0, ldb, k);
                for (; j < n; j++) c[j] = Finish(s0.GetElement(j - j0), c[j], alpha, beta);
            }
            for (; j < n; j++)
            {
                float s = 0f;
                float* bp = b + j;
                for (int p = 0; p < k; p++, bp += ldb) s += a[p] * bp[0];
                c[j] = Finish(s, c[j], alpha, beta);
            }
        }
        EpilogueOps.ApplyRow(c, n, colBias, rowBias, epi);
    }

    /// <summary>sum_p a[p] * bp[p*ldb .. +16) with four independent accumulators.</summary>
    private static Vector512<float> Column512(float* a, float* bp, int ldb, int k)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p <= k - 4; p += 4, bp += 4L * ldb)
        {
            s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p]), Vector512.Load(bp), s0);
            s1 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p + 1]), Vector512.Load(bp + ldb), s1);
            s2 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p + 2]), Vector512.Load(bp + 2L * ldb), s2);
            s3 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p + 3]), Vector512.Load(bp + 3L * ldb), s3);
        }
        for (; p < k; p++, bp += ldb) s0 = Vector512.FusedMultiplyAdd(Vector512.Create(a[p]), Vector512.Load(bp), s0);
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>sum_p a[p] * bp[p*ldb .. +8) with four independent accumulators.</summary>
    private static Vector256<float> Column256(float* a, float* bp, int ldb, int k)
    {
        Vector256<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p <= k - 4; p += 4, bp += 4L * ldb)
        {
            s0 = Vector256.MultiplyAddEstimate(Vector256.Create(a[p]), Vector256.Load(bp), s0);
            s1 = Vector256.MultiplyAddEstimate(Vector256.Create(a[p + 1]), Vector256.Load(bp + ldb), s1);
            s2 = Vector256.MultiplyAddEstimate(Vector256.Create(a[p + 2]), Vector256.Load(bp + 2L * ldb), s2);
            s3 = Vector256.MultiplyAddEstimate(Vector256.Create(a[p + 3]), Vector256.Load(bp + 3L * ldb), s3);
        }
        for (; p < k; p++, bp += ldb) s0 = Vector256.MultiplyAddEstimate(Vector256.Create(a[p]), Vector256.Load(bp), s0);
        return (s0 + s1) + (s2 + s3);
    }

    /// <summary>sum_p a[p] * bp[p*ldb .. +4) with four independent accumulators.</summary>
    private static Vector128<float> Column128(float* a, float* bp, int ldb, int k)
    {
        Vector128<float> s0 = default, s1 = default, s2 = default, s3 = default;
        int p = 0;
        for (; p <= k - 4; p += 4, bp += 4L * ldb)
        {
            s0 = Vector128.MultiplyAddEstimate(Vector128.Create(a[p]), Vector128.Load(bp), s0);
            s1 = Vector128.MultiplyAddEstimate(Vector128.Create(a[p + 1]), Vector128.Load(bp + ldb), s1);
            s2 = Vector128.MultiplyAddEstimate(Vector128.Create(a[p + 2]), Vector128.Load(bp + 2L * ldb), s2);
            s3 = Vector128.MultiplyAddEstimate(Vector128.Create(a[p + 3]), Vector128.Load(bp + 3L * ldb), s3);
        }
        for (; p < k; p++, bp += ldb) s0 = Vector128.MultiplyAddEstimate(Vector128.Create(a[p]), Vector128.Load(bp), s0);
        return (s0 + s1) + (s2 + s3);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static float Finish(float s, float cOld, float alpha, float beta)
        => beta == 0f ? alpha * s : alpha * s + beta * cOld;

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemvStore512(float* c, Vector512<float> s, Vector512<float> va, Vector512<float> vb, float beta)
    {
        if (beta == 0f) Vector512.Store(s * va, c);
        else Vector512.Store(Vector512.FusedMultiplyAdd(s, va, Vector512.Load(c) * vb), c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemvStore256(float* c, Vector256<float> s, Vector256<float> va, Vector256<float> vb, float beta)
    {
        if (beta == 0f) Vector256.Store(s * va, c);
        else Vector256.Store(Vector256.MultiplyAddEstimate(s, va, Vector256.Load(c) * vb), c);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void GemvStore128(float* c, Vector128<float> s, Vector128<float> va, Vector128<float> vb, float beta)
    {
        if (beta == 0f) Vector128.Store(s * va, c);
        else Vector128.Store(Vector128.MultiplyAddEstimate(s, va, Vector128.Load(c) * vb), c);
    }

    private static void Dot4(int width, int k, float* a, float* b0, float* b1, float* b2, float* b3,
        out float s0, out float s1, out float s2, out float s3)
    {
        int p = 0;
        s0 = s1 = s2 = s3 = 0f;
        if (width >= 512 && Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> v0 = default, v1 = default, v2 = default, v3 = default;
            for (; p <= k - 16; p += 16)
            {
                var av = Vector512.Load(a + p);
                v0 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b0 + p), v0);
                v1 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b1 + p), v1);
                v2 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b2 + p), v2);
                v3 = Vector512.FusedMultiplyAdd(av, Vector512.Load(b3 + p), v3);
            }
            s0 = Vector512.Sum(v0); s1 = Vector512.Sum(v1); s2 = Vector512.Sum(v2); s3 = Vector512.Sum(v3);
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated && k - p >= 8)
        {
            Vector256<float> v0 = default, v1 = default, v2 = default, v3 = default;
            for (; p <= k - 8; p += 8)
            {
                var av = Vector256.Load(a + p);
                v0 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b0 + p), v0);
                v1 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b1 + p), v1);
                v2 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b2 + p), v2);
                v3 = Vector256.MultiplyAddEstimate(av, Vector256.Load(b3 + p), v3);
            }
            s0 += Vector256.Sum(v0); s1 += Vector256.Sum(v1); s2 += Vector256.Sum(v2); s3 += Vector256.Sum(v3);
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated && k - p >= 4)
        {
            Vector128<float> v0 = default, v1 = default, v2 = default, v3 = default;
            for (; p <= k - 4; p += 4)
            {
                var av = Vector128.Load(a + p);
                v0 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b0 + p), v0);
                v1 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b1 + p), v1);
                v2 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b2 + p), v2);
                v3 = Vector128.MultiplyAddEstimate(av, Vector128.Load(b3 + p), v3);
            }
            s0 += Vector128.Sum(v0); s1 += Vector128.Sum(v1); s2 += Vector128.Sum(v2); s3 += Vector128.Sum(v3);
        }
        for (; p < k; p++)
        {
            float av = a[p];
            s0 += av * b0[p]; s1 += av * b1[p]; s2 += av * b2[p]; s3 += av * b3[p];
        }
    }

    private static float Dot1(int width, int k, float* a, float* b0)
    {
        int p = 0;
        float s = 0f;
        if (width >= 512 && Vector512.IsHardwareAccelerated && k >= 16)
        {
            Vector512<float> v0 = default, v1 = default;
            for (; p <= k - 32; p += 32)
            {
                v0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b0 + p), v0);
                v1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p + 16), Vector512.Load(b0 + p + 16), v1);
            }
            for (; p <= k - 16; p += 16)
                v0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + p), Vector512.Load(b0 + p), v0);
            s = Vector512.Sum(v0 + v1);
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated && k - p >= 8)
        {
            Vector256<float> v0 = default;
            for (; p <= k - 8; p += 8)
                v0 = Vector256.MultiplyAddEstimate(Vector256.Load(a + p), Vector256.Load(b0 + p), v0);
            s += Vector256.Sum(v0);
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated && k - p >= 4)
        {
            Vector128<float> v0 = default;
            for (; p <= k - 4; p += 4)
                v0 = Vector128.MultiplyAddEstimate(Vector128.Load(a + p), Vector128.Load(b0 + p), v0);
            s += Vector128.Sum(v0);
        }
        for (; p < k; p++) s += a[p] * b0[p];
        return s;
    }
}
