using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.Kernels;

/// <summary>Copies, transposes, concatenations and gathers. Element-size generic: they move bytes.</summary>
public static unsafe class DataMovement
{
    /// <summary>Copies <paramref name="bytes"/> bytes; the ranges must not overlap unless equal.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Copy(void* src, void* dst, long bytes)
    {
        if (src != dst) Buffer.MemoryCopy(src, dst, bytes, bytes);
    }

    /// <summary>
    /// y = transpose(x, perm). <paramref name="inShape"/> is x's shape; y's shape is inShape[perm[i]].
    /// Iterates y contiguously and reads x with permuted strides; rank at most 8.
    /// </summary>
    public static void Transpose<T>(T* x, T* y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> perm) where T : unmanaged
    {
        int rank = inShape.Length;
        Span<long> inStride = stackalloc long[8];
        Span<long> st = stackalloc long[8];
        Span<int> outShape = stackalloc int[8];
        Span<int> idx = stackalloc int[8];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--) { inStride[d] = s; s *= inShape[d]; }
        long total = s;
        if (total == 0) return;
        for (int d = 0; d < rank; d++) { outShape[d] = inShape[perm[d]]; st[d] = inStride[perm[d]]; idx[d] = 0; }
        if (rank == 0) { y[0] = x[0]; return; }
        int inner = outShape[rank - 1];
        long innerStride = st[rank - 1];
        long outer = total / inner;
        long off = 0;
        T* py = y;
        for (long o = 0; o < outer; o++)
        {
            T* px = x + off;
            if (innerStride == 1) { Unsafe.CopyBlockUnaligned(py, px, (uint)(inner * sizeof(T))); }
            else for (int i = 0; i < inner; i++) py[i] = px[i * innerStride];
            py += inner;
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++;
                off += st[d];
                if (idx[d] < outShape[d]) break;
                off -= st[d] * outShape[d];
                idx[d] = 0;
            }
        }
    }

    /// <summary>
    /// Copies one Concat input into its slot: for each of <paramref name="outer"/> rows, <paramref name="chunkBytes"/>
    /// bytes go from src (rows packed) to dst at <paramref name="dstOffsetBytes"/> within rows of <paramref name="dstRowBytes"/>.
    /// </summary>
    public static void ConcatPart(byte* src, byte* dst, long outer, long chunkBytes, long dstRowBytes, long dstOffsetBytes)
    {
        for (long o = 0; o < outer; o++)
            Buffer.MemoryCopy(src + o * chunkBytes, dst + o * dstRowBytes + dstOffsetBytes, chunkBytes, chunkBytes);
    }

    /// <summary>
    /// Gather along an axis: data is [outer, axisDim, innerBytes], indices has <paramref name="count"/> entries
    /// (negative counts from the end), y is [outer, count, innerBytes]. Returns false if an index is out of range.
    /// </summary>
    public static bool Gather(byte* data, long* indices, byte* y, long outer, long axisDim, long innerBytes, long count)
    {
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < count; j++)
            {
                long k = indices[j];
                if (k < 0) k += axisDim;
                if ((ulong)k >= (ulong)axisDim) return false;
                Buffer.MemoryCopy(data + (o * axisDim + k) * innerBytes, y + (o * count + j) * innerBytes, innerBytes, innerBytes);
            }
        return true;
    }

    /// <summary><see cref="Gather(byte*, long*, byte*, long, long, long, long)"/> with int32 indices.</summary>
    public static bool Gather(byte* data, int* indices, byte* y, long outer, long axisDim, long innerBytes, long count)
    {
        for (long o = 0; o < outer; o++)
            for (long j = 0; j < count; j++)
            {
                long k = indices[j];
                if (k < 0) k += axisDim;
                if ((ulong)k >= (ulong)axisDim) return false;
                Buffer.MemoryCopy(data + (o * axisDim + k) * innerBytes, y + (o * count + j) * innerBytes, innerBytes, innerBytes);
            }
        return true;
    }
}

/// <summary>How <see cref="Strided.Pad{T}"/> fills positions outside the input.</summary>
public enum PadMode
{
    /// <summary>A constant value.</summary>
    Constant,
    /// <summary>Mirror without repeating the edge element: [a b c] -> b [a b c] b.</summary>
    Reflect,
    /// <summary>Repeat the edge element.</summary>
    Edge,
    /// <summary>Wrap around (periodic).</summary>
    Wrap,
}

/// <summary>Strided copies, fills, pads and splits: the data-movement kernels behind Slice, Expand, Tile, Split, Pad and friends.</summary>
public static unsafe class Strided
{
    /// <summary>Largest rank <see cref="Copy{T}"/> and <see cref="Pad{T}"/> accept.</summary>
    public const int MaxRank = 16;

    /// <summary>
    /// y (contiguous, <paramref name="shape"/>) = x[offset + Σ idx[d]·strides[d]]: a strided view of x copied out. A stride
    /// may be 0 (broadcast: Expand, Tile) or negative (reversed Slice). Rank at most <see cref="MaxRank"/>.
    /// </summary>
    public static void Copy<T>(T* x, T* y, ReadOnlySpan<int> shape, ReadOnlySpan<long> strides, long offset) where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0) { y[0] = x[offset]; return; }
        long total = 1;
        foreach (var d in shape) total *= d;
        if (total == 0) return;
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int inner = shape[rank - 1];
        long si = strides[rank - 1];
        long off = offset;
        for (long o = 0; o < total; o += inner)
        {
            T* py = y + o;
            T* px = x + off;
            if (si == 1) Unsafe.CopyBlockUnaligned(py, px, (uint)(inner * sizeof(T)));
            else if (si == 0) new Span<T>(py, inner).Fill(*px);
            else for (int i = 0; i < inner; i++) py[i] = px[i * si];
            for (int d = rank - 2; d >= 0; d--)
            {
                idx[d]++;
                off += strides[d];
                if (idx[d] < shape[d]) break;
                off -= strides[d] * shape[d];
                idx[d] = 0;
            }
        }
    }

    /// <summary>y[0..count) = value.</summary>
    public static void Fill<T>(T* y, long count, T value) where T : unmanaged
    {
        for (long o = 0; o < count; o += int.MaxValue)
            new Span<T>(y + o, (int)Math.Min(int.MaxValue, count - o)).Fill(value);
    }

    /// <summary>
    /// Copies one Split output out of its source: for each of <paramref name="outer"/> rows, <paramref name="chunkBytes"/>
    /// bytes go from src at <paramref name="srcOffsetBytes"/> within rows of <paramref name="srcRowBytes"/> to dst (rows packed).
    /// </summary>
    public static void SplitPart(byte* src, byte* dst, long outer, long chunkBytes, long srcRowBytes, long srcOffsetBytes)
    {
        for (long o = 0; o < outer; o++)
            Buffer.MemoryCopy(src + o * srcRowBytes + srcOffsetBytes, dst + o * chunkBytes, chunkBytes, chunkBytes);
    }

    /// <summary>The input index that output index <paramref name="o"/> reads along one dim, or -1 for the constant.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static long Source(long o, long begin, long n, PadMode mode)
    {
        long i = o - begin;
        if ((ulong)i < (ulong)n) return i;
        if (n == 0) return -1;
        switch (mode)
        {
            case PadMode.Edge: return i < 0 ? 0 : n - 1;
            case PadMode.Wrap: return (i % n + n) % n;
            case PadMode.Reflect:
                if (n == 1) return 0;
                long period = 2 * (n - 1);
                i = (i % period + period) % period;
                return i < n ? i : period - i;
            default: return -1;
        }
    }

    /// <summary>
    /// y (<paramref name="outShape"/>) = x (<paramref name="inShape"/>) placed at <paramref name="begin"/>, the rest filled by
    /// <paramref name="mode"/> (with <paramref name="value"/> for <see cref="PadMode.Constant"/>). Negative pads (begin, or
    /// end = out - in - begin) first crop x; reflect, edge and wrap then work on the cropped window, as ONNX specifies.
    /// Covers Pad (opset 1-21) and CenterCropPad. Rank at most <see cref="MaxRank"/>.
    /// </summary>
    public static void Pad<T>(T* x, T* y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> begin, PadMode mode, T value) where T : unmanaged
    {
        int rank = outShape.Length;
        if (rank == 0) { y[0] = x[0]; return; }
        long total = 1;
        foreach (var d in outShape) total *= d;
        if (total == 0) return;
        Span<long> inStride = stackalloc long[MaxRank];
        Span<int> lo = stackalloc int[MaxRank];
        Span<int> n = stackalloc int[MaxRank];
        Span<int> b = stackalloc int[MaxRank];
        long s = 1;
        for (int d = rank - 1; d >= 0; d--)
        {
            inStride[d] = s;
            s *= inShape[d];
            int end = outShape[d] - inShape[d] - begin[d];
            lo[d] = Math.Max(0, -begin[d]);
            n[d] = inShape[d] - lo[d] - Math.Max(0, -end);
            b[d] = Math.Max(0, begin[d]);
        }
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        int last = rank - 1, inner = outShape[last];
        for (long o = 0; o < total; o += inner)
        {
            T* py = y + o;
            long off = 0;
            bool fill = false;
            for (int d = 0; d < last; d++)
            {
                long si = Source(idx[d], b[d], n[d], mode);
                if (si < 0) { fill = true; break; }
                off += (lo[d] + si) * inStride[d];
            }
            if (fill) new Span<T>(py, inner).Fill(value);
            else
            {
                T* px = x + off + lo[last];
                for (int i = 0; i < inner; i++)
                {
                    long si = Source(i, b[last], n[last], mode);
                    py[i] = si < 0 ? value : px[si];
                }
            }
            for (int d = last - 1; d >= 0; d--)
            {
                if (++idx[d] < outShape[d]) break;
                idx[d] = 0;
            }
        }
    }
}

/// <summary>Broadcasting copies.</summary>
public static unsafe class Broadcasting
{
    /// <summary>y (contiguous, <paramref name="shape"/>) = x read with element <paramref name="xStrides"/> (0 where broadcast).</summary>
    public static void To<T>(T* x, T* y, ReadOnlySpan<int> shape, ReadOnlySpan<int> xStrides) where T : unmanaged
    {
        int rank = shape.Length;
        if (rank == 0) { y[0] = x[0]; return; }
        int inner = shape[rank - 1], si = xStrides[rank - 1];
        var rows = new BroadcastRows(shape, xStrides);
        for (long o = 0; o < rows.Count; o++, rows.Next())
        {
            T* py = y + o * inner;
            long off = rows.A;
            if (si == 1) Unsafe.CopyBlockUnaligned(py, x + off, (uint)(inner * sizeof(T)));
            else if (si == 0) new Span<T>(py, inner).Fill(x[off]);
            else for (int i = 0; i < inner; i++) py[i] = x[off + (long)i * si];
        }
    }
}
