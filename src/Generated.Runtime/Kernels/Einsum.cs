using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Einsum over one or two operands as one loop nest over every label: y[Σ yStr·i] += a[Σ aStr·i] · b[Σ bStr·i], where a
/// label's stride is 0 in a tensor that lacks it (summed labels have yStride 0; a repeated label's stride is the sum
/// of its dims' strides, which walks the diagonal).
/// </summary>
public static unsafe class Einsum
{
    /// <summary>b may be null (one operand).</summary>
    public static void Run<T>(T* a, T* b, T* y, long yCount, ReadOnlySpan<int> sizes, ReadOnlySpan<long> aStr, ReadOnlySpan<long> bStr, ReadOnlySpan<long> yStr)
        where T : unmanaged, INumber<T>
    {
        new Span<T>(y, checked((int)yCount)).Clear();
        int l = sizes.Length;
        for (int i = 0; i < l; i++) if (sizes[i] == 0) return;
        Span<int> ix = stackalloc int[l];
        long ao = 0, bo = 0, yo = 0;
        while (true)
        {
            y[yo] += b != null ? a[ao] * b[bo] : a[ao];
            int k = l - 1;
            for (; k >= 0; k--)
            {
                ao += aStr[k]; bo += bStr[k]; yo += yStr[k];
                if (++ix[k] < sizes[k]) break;
                ao -= aStr[k] * sizes[k]; bo -= bStr[k] * sizes[k]; yo -= yStr[k] * sizes[k];
                ix[k] = 0;
            }
            if (k < 0) break;
        }
    }
}
