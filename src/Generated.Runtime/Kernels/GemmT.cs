using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Scalar GEMM for the element types the tuned float32 <see cref="Gemm"/> does not cover (double, float16 and the
/// integer types), with the same operand layout: C = alpha·op(A)·op(B) + beta·C. Floating types accumulate in double;
/// integer types accumulate in T with wrap-around (alpha and beta are ignored for them: ONNX MatMul has none).
/// </summary>
public static unsafe class GemmT
{
    /// <summary>Floating GEMM: opA m x k (A^T stored k x m when transA), opB k x n; C m x n (row stride ldc), read only when beta != 0.</summary>
    public static void RunFloat<T>(int m, int n, int k, T* a, int lda, bool transA, T* b, int ldb, bool transB, T* c, int ldc, double alpha, double beta)
        where T : unmanaged, INumberBase<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                double acc = 0;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    T bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    acc += double.CreateTruncating(av) * double.CreateTruncating(bv);
                }
                long ci = (long)i * ldc + j;
                double r = alpha * acc + (beta != 0 ? beta * double.CreateTruncating(c[ci]) : 0);
                c[ci] = T.CreateTruncating(r);
            }
    }

    /// <summary>Integer GEMM C = op(A)·op(B) (+ C when accumulate), wrapping like the C# integer operators.</summary>
    public static void RunInt<T>(int m, int n, int k, T* a, int lda, bool transA, T* b, int ldb, bool transB, T* c, int ldc, bool accumulate)
        where T : unmanaged, IBinaryInteger<T>
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                T acc = T.Zero;
                for (int p = 0; p < k; p++)
                {
                    T av = transA ? a[(long)p * lda + i] : a[(long)i * lda + p];
                    T bv = transB ? b[(long)j * ldb + p] : b[(long)p * ldb + j];
                    acc = unchecked(acc + av * bv);
                }
                long ci = (long)i * ldc + j;
                c[ci] = accumulate ? unchecked(c[ci] + acc) : acc;
            }
    }
}
