using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// C[m, n] = epi(A[m, k]·B[k, n] + bias[n]) for small row-major float matrices (B no larger than L1, e.g. the per-head
/// products and projections of a small transformer). No packing: four rows of A at a time, each A element broadcast
/// against 16 or 8 contiguous columns of B, accumulators starting from the bias. Same contract as
/// <see cref="Gemm.Run"/> with transA = transB = false, alpha = 1, beta = 0.
/// </summary>
public static unsafe class SmallGemm
{
    /// <summary>Whether <see cref="Run"/> is the better choice for these sizes (B within 32 KB, more than one row).</summary>
    public static bool Fits(long m, long n, long k) => m > 1 && n >= 1 && k >= 1 && k * n <= 8192;

    /// <summary>C = epi(A·B + bias): see the class summary. bias may be null; ldc is C's row stride.</summary>
    public static void Run(int m, int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float* bias, Epilogue epi)
    {
        if (!Vector256.IsHardwareAccelerated)
        {
            Gemm.Run(m, n, k, a, lda, false, b, ldb, false, c, ldc, 1f, 0f, bias, epi);
            return;
        }
        int i = 0;
        for (; i + 4 <= m; i += 4) Rows4(n, k, a + (long)i * lda, lda, b, ldb, c + (long)i * ldc, ldc, bias);
        for (; i < m; i++) Rows1(n, k, a + (long)i * lda, b, ldb, c + (long)i * ldc, bias);
        if (epi.Kind != ActivationKind.None)
            for (i = 0; i < m; i++) EpilogueOps.ApplyRow(c + (long)i * ldc, n, null, 0f, epi);
    }

    private static Vector256<float> Init(float* bias, int j) => bias == null ? Vector256<float>.Zero : Vector256.Load(bias + j);

    private static void Rows4(int n, int k, float* a, int lda, float* b, int ldb, float* c, int ldc, float* bias)
    {
        float* a0 = a, a1 = a + lda, a2 = a1 + lda, a3 = a2 + lda;
        float* c0 = c, c1 = c + ldc, c2 = c1 + ldc, c3 = c2 + ldc;
        int j = 0;
        for (; j + 16 <= n; j += 16)
        {
            var x0 = Init(bias, j); var y0 = Init(bias, j + 8);
            var x1 = x0; var y1 = y0; var x2 = x0; var y2 = y0; var x3 = x0; var y3 = y0;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                var b0 = Vector256.Load(bp);
                var b1 = Vector256.Load(bp + 8);
                var s = Vector256.Create(a0[p]);
                x0 = Vector256.FusedMultiplyAdd(s, b0, x0); y0 = Vector256.FusedMultiplyAdd(s, b1, y0);
                s = Vector256.Create(a1[p]);
                x1 = Vector256.FusedMultiplyAdd(s, b0, x1); y1 = Vector256.FusedMultiplyAdd(s, b1, y1);
                s = Vector256.Create(a2[p]);
                x2 = Vector256.FusedMultiplyAdd(s, b0, x2); y2 = Vector256.FusedMultiplyAdd(s, b1, y2);
                s = Vector256.Create(a3[p]);
                x3 = Vector256.FusedMultiplyAdd(s, b0, x3); y3 = Vector256.FusedMultiplyAdd(s, b1, y3);
            }
            x0.Store(c0 + j); y0.Store(c0 + j + 8);
            x1.Store(c1 + j); y1.Store(c1 + j + 8);
            x2.Store(c2 + j); y2.Store(c2 + j + 8);
            x3.Store(c3 + j); y3.Store(c3 + j + 8);
        }
        for (; j + 8 <= n; j += 8)
        {
            var x0 = Init(bias, j); var x1 = x0; var x2 = x0; var x3 = x0;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                var b0 = Vector256.Load(bp);
                x0 = Vector256.FusedMultiplyAdd(Vector256.Create(a0[p]), b0, x0);
                x1 = Vector256.FusedMultiplyAdd(Vector256.Create(a1[p]), b0, x1);
                x2 = Vector256.FusedMultiplyAdd(Vector256.Create(a2[p]), b0, x2);
                x3 = Vector256.FusedMultiplyAdd(Vector256.Create(a3[p]), b0, x3);
            }
            x0.Store(c0 + j); x1.Store(c1 + j); x2.Store(c2 + j); x3.Store(c3 + j);
        }
        for (; j < n; j++)
        {
            float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb)
            {
                float bv = *bp;
                s0 += a0[p] * bv; s1 += a1[p] * bv; s2 += a2[p] * bv; s3 += a3[p] * bv;
            }
            float bj = bias == null ? 0f : bias[j];
            c0[j] = s0 + bj; c1[j] = s1 + bj; c2[j] = s2 + bj; c3[j] = s3 + bj;
        }
    }

    private static void Rows1(int n, int k, float* a, float* b, int ldb, float* c, float* bias)
    {
        int j = 0;
        for (; j + 8 <= n; j += 8)
        {
            var x = Init(bias, j);
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb) x = Vector256.FusedMultiplyAdd(Vector256.Create(a[p]), Vector256.Load(bp), x);
            x.Store(c + j);
        }
        for (; j < n; j++)
        {
            float s = 0;
            float* bp = b + j;
            for (int p = 0; p < k; p++, bp += ldb) s += a[p] * *bp;
            c[j] = s + (bias == null ? 0f : bias[j]);
        }
    }
}
