using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Index-driven writes: TensorScatter (ONNX 24, KV-cache updates) and MaxUnpool.</summary>
public static unsafe class Scatter
{
    /// <summary>
    /// TensorScatter: y = past, then for every batch b and i &lt; seq: y[b, .., w[b] + i, ..] = update[b, .., i, ..] along the
    /// sequence axis (wrapping modulo maxSeq when circular). Shapes as [batch, outer, maxSeq|seq, inner].
    /// writeIndices null means all zeros. A linear write past maxSeq throws.
    /// </summary>
    public static void TensorScatter<T>(T* past, T* update, long* writeIndices, T* y, int batch, long outer, int maxSeq, int seq, long inner, bool circular)
        where T : unmanaged
    {
        long total = (long)batch * outer * maxSeq * inner;
        if (y != past) new ReadOnlySpan<T>(past, checked((int)total)).CopyTo(new Span<T>(y, checked((int)total)));
        for (int b = 0; b < batch; b++)
        {
            long w = writeIndices != null ? writeIndices[b] : 0;
            if (w < 0 || w >= maxSeq && !(circular && maxSeq > 0) || !circular && w + seq > maxSeq)
                throw new IndexOutOfRangeException("LLMAOT9021: TensorScatter write index outside the cache");
            for (long o = 0; o < outer; o++)
                for (int i = 0; i < seq; i++)
                {
                    long dst = circular ? (w + i) % maxSeq : w + i;
                    T* src = update + (((long)b * outer + o) * seq + i) * inner;
                    T* d = y + (((long)b * outer + o) * maxSeq + dst) * inner;
                    for (long k = 0; k < inner; k++) d[k] = src[k];
                }
        }
    }

    /// <summary>
    /// MaxUnpool: y = 0, then for i &lt; count the flat index indices[i], taken as coordinates in <paramref name="fromShape"/>
    /// (the default unpooled shape), receives x[i] at the same coordinates of <paramref name="toShape"/> (the output shape).
    /// An index outside either shape throws.
    /// </summary>
    public static void MaxUnpool<T>(T* x, long* indices, T* y, long count, ReadOnlySpan<long> fromShape, ReadOnlySpan<long> toShape) where T : unmanaged
    {
        long fromCount = 1, yCount = 1;
        for (int d = 0; d < toShape.Length; d++) { fromCount *= fromShape[d]; yCount *= toShape[d]; }
        for (long i = 0; i < yCount; i++) y[i] = default;
        for (long i = 0; i < count; i++)
        {
            long k = indices[i];
            if ((ulong)k >= (ulong)fromCount) throw new IndexOutOfRangeException("LLMAOT9021: MaxUnpool index outside the output");
            long dst = 0, mul = 1;
            for (int d = toShape.Length - 1; d >= 0; d--)
            {
                long c = k % fromShape[d];
                k /= fromShape[d];
                if (c >= toShape[d]) throw new IndexOutOfRangeException("LLMAOT9021: MaxUnpool index outside the output");
                dst += c * mul;
                mul *= toShape[d];
            }
            y[dst] = x[i];
        }
    }
}
