using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>How a scatter combines an update with the value already in place.</summary>
public interface IScatterReduction<T> where T : unmanaged
{
    /// <summary>The new value at a position holding <paramref name="current"/> that receives <paramref name="update"/>.</summary>
    static abstract T Apply(T current, T update);
}

/// <summary>reduction="none": the update replaces the value.</summary>
public struct ReplaceReduction<T> : IScatterReduction<T> where T : unmanaged
{
    /// <inheritdoc/>
    public static T Apply(T current, T update) => update;
}

/// <summary>reduction="add".</summary>
public struct AddReduction<T> : IScatterReduction<T> where T : unmanaged, INumber<T>
{
    /// <inheritdoc/>
    public static T Apply(T current, T update) => current + update;
}

/// <summary>reduction="mul".</summary>
public struct MulReduction<T> : IScatterReduction<T> where T : unmanaged, INumber<T>
{
    /// <inheritdoc/>
    public static T Apply(T current, T update) => current * update;
}

/// <summary>reduction="max".</summary>
public struct MaxReduction<T> : IScatterReduction<T> where T : unmanaged, INumber<T>
{
    /// <inheritdoc/>
    public static T Apply(T current, T update) => update > current ? update : current;
}

/// <summary>reduction="min".</summary>
public struct MinReduction<T> : IScatterReduction<T> where T : unmanaged, INumber<T>
{
    /// <inheritdoc/>
    public static T Apply(T current, T update) => update < current ? update : current;
}

/// <summary>
/// Index-driven kernels: GatherElements, GatherND, ScatterElements, ScatterND, OneHot, Trilu, TopK, ArgMax/ArgMin,
/// CumSum/CumProd, ReverseSequence and Range. Kernels that read indices from data return false when one is out of
/// range (the generated code throws with the node's name); they never allocate.
/// </summary>
public static unsafe class Indexing
{
    /// <summary>Largest rank the multi-index kernels accept.</summary>
    public const int MaxRank = 16;

    /// <summary>A number of any type truncated to int64 (for runtime checks of scalar inputs such as OneHot's depth).</summary>
    public static long ToInt64<T>(T v) where T : INumberBase<T> => long.CreateTruncating(v);

    /// <summary>Row-major strides of <paramref name="shape"/> into <paramref name="strides"/>; returns the element count.</summary>
    private static long Strides(ReadOnlySpan<int> shape, Span<long> strides)
    {
        long s = 1;
        for (int d = shape.Length - 1; d >= 0; d--) { strides[d] = s; s *= shape[d]; }
        return s;
    }

    /// <summary>
    /// GatherElements (opset 11, 13): y[i] = data[i with its <paramref name="axis"/> coordinate replaced by indices[i]],
    /// y and indices of shape <paramref name="idxShape"/>. Negative indices count from the end. False if one is out of range.
    /// </summary>
    public static bool GatherElements<T, TI>(T* data, TI* indices, T* y, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> idxShape, int axis)
        where T : unmanaged where TI : unmanaged, IBinaryInteger<TI>
    {
        int rank = idxShape.Length;
        Span<long> ds = stackalloc long[MaxRank];
        Strides(dataShape, ds);
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        long total = 1;
        foreach (var d in idxShape) total *= d;
        long n = dataShape[axis], off = 0;
        for (long i = 0; i < total; i++)
        {
            long k = long.CreateTruncating(indices[i]);
            if (k < 0) k += n;
            if ((ulong)k >= (ulong)n) return false;
            y[i] = data[off + k * ds[axis]];
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++;
                if (d != axis) off += ds[d];
                if (idx[d] < idxShape[d]) break;
                if (d != axis) off -= ds[d] * idxShape[d];
                idx[d] = 0;
            }
        }
        return true;
    }

    /// <summary>
    /// ScatterElements (opset 11, 13, 16, 18) and Scatter (opset 9-10): y = data, then for every i of indices,
    /// y[i with its <paramref name="axis"/> coordinate replaced by indices[i]] = TR(y[...], updates[i]), in index order.
    /// False if an index is out of range.
    /// </summary>
    public static bool ScatterElements<T, TI, TR>(T* data, TI* indices, T* updates, T* y, ReadOnlySpan<int> dataShape, ReadOnlySpan<int> idxShape, int axis)
        where T : unmanaged where TI : unmanaged, IBinaryInteger<TI> where TR : struct, IScatterReduction<T>
    {
        int rank = idxShape.Length;
        Span<long> ds = stackalloc long[MaxRank];
        long count = Strides(dataShape, ds);
        if (data != y) Buffer.MemoryCopy(data, y, count * sizeof(T), count * sizeof(T));
        Span<int> idx = stackalloc int[MaxRank];
        idx.Clear();
        long total = 1;
        foreach (var d in idxShape) total *= d;
        long n = dataShape[axis], off = 0;
        for (long i = 0; i < total; i++)
        {
            long k = long.CreateTruncating(indices[i]);
            if (k < 0) k += n;
            if ((ulong)k >= (ulong)n) return false;
            T* p = y + off + k * ds[axis];
            *p = TR.Apply(*p, updates[i]);
            for (int d = rank - 1; d >= 0; d--)
            {
                idx[d]++;
                if (d != axis) off += ds[d];
                if (idx[d] < idxShape[d]) break;
                if (d != axis) off -= ds[d] * idxShape[d];
                idx[d] = 0;
            }
        }
        return true;
    }

    /// <summary>Flat offset (in slices) of one index tuple into dims <paramref name="indexed"/>; -1 if out of range.</summary>
    private static long TupleOffset<TI>(TI* t, ReadOnlySpan<int> indexed) where TI : unmanaged, IBinaryInteger<TI>
    {
        long off = 0;
        for (int j = 0; j < indexed.Length; j++)
        {
            long k = long.CreateTruncating(t[j]);
            if (k < 0) k += indexed[j];
            if ((ulong)k >= (ulong)indexed[j]) return -1;
            off = off * indexed[j] + k;
        }
        return off;
    }

    /// <summary>
    /// GatherND (opset 11, 12, 13): data is [batch, indexed..., slice], indices [batch, tuples, q] with q = indexed.Length;
    /// y is [batch, tuples, slice]. Each tuple picks one slice of <paramref name="sliceBytes"/> bytes. False if out of range.
    /// </summary>
    public static bool GatherND<TI>(byte* data, TI* indices, byte* y, long batch, long tuples, ReadOnlySpan<int> indexed, long sliceBytes)
        where TI : unmanaged, IBinaryInteger<TI>
    {
        long per = 1;
        foreach (var d in indexed) per *= d;
        int q = indexed.Length;
        for (long b = 0; b < batch; b++)
            for (long t = 0; t < tuples; t++)
            {
                long off = TupleOffset(indices + (b * tuples + t) * q, indexed);
                if (off < 0) return false;
                Buffer.MemoryCopy(data + (b * per + off) * sliceBytes, y + (b * tuples + t) * sliceBytes, sliceBytes, sliceBytes);
            }
        return true;
    }

    /// <summary>
    /// ScatterND (opset 11, 13, 16, 18): y = data (<paramref name="count"/> elements, [indexed..., slice]); then for each of
    /// <paramref name="tuples"/> index tuples, in order, the addressed slice becomes TR(slice, updates[t]). False if out of range.
    /// </summary>
    public static bool ScatterND<T, TI, TR>(T* data, TI* indices, T* updates, T* y, long count, long tuples, ReadOnlySpan<int> indexed, long slice)
        where T : unmanaged where TI : unmanaged, IBinaryInteger<TI> where TR : struct, IScatterReduction<T>
    {
        if (data != y) Buffer.MemoryCopy(data, y, count * sizeof(T), count * sizeof(T));
        int q = indexed.Length;
        for (long t = 0; t < tuples; t++)
        {
            long off = TupleOffset(indices + t * q, indexed);
            if (off < 0) return false;
            T* p = y + off * slice;
            T* u = updates + t * slice;
            for (long j = 0; j < slice; j++) p[j] = TR.Apply(p[j], u[j]);
        }
        return true;
    }

    /// <summary>
    /// OneHot (opset 9, 11): indices [outer, inner] (any numeric type, truncated; negative counts from the end), y [outer,
    /// depth, inner] = values[1] where the index points, values[0] elsewhere. Out-of-range indices give an all-off column.
    /// </summary>
    public static void OneHot<TI, T>(TI* indices, T* values, T* y, long outer, long depth, long inner)
        where TI : unmanaged, INumberBase<TI> where T : unmanaged
    {
        Strided.Fill(y, outer * depth * inner, values[0]);
        T on = values[1];
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long k = long.CreateTruncating(indices[o * inner + i]);
                if (k < 0) k += depth;
                if ((ulong)k < (ulong)depth) y[(o * depth + k) * inner + i] = on;
            }
    }

    /// <summary>
    /// Trilu (opset 14): for each of <paramref name="batch"/> [rows, cols] matrices, keeps x[i, j] where j - i &gt;= k (upper)
    /// or j - i &lt;= k (lower) and writes zero elsewhere.
    /// </summary>
    public static void Trilu<T>(T* x, T* y, long batch, long rows, long cols, long k, bool upper) where T : unmanaged
    {
        for (long b = 0; b < batch; b++)
            for (long i = 0; i < rows; i++)
            {
                long o = (b * rows + i) * cols;
                for (long j = 0; j < cols; j++)
                    y[o + j] = (upper ? j - i >= k : j - i <= k) ? x[o + j] : default;
            }
    }

    /// <summary>
    /// TopK (opset 1, 10, 11): x is [outer, n, inner]; values and indices are [outer, k, inner] holding the k largest
    /// (or smallest) along n, sorted best first, ties broken by the lower index. <paramref name="scratch"/> holds k longs.
    /// </summary>
    public static void TopK<T>(T* x, T* values, long* indices, long outer, long n, long inner, long k, bool largest, long* scratch)
        where T : unmanaged, INumber<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* px = x + o * n * inner + i;
                long c = 0;
                for (long j = 0; j < n; j++)
                {
                    T v = px[j * inner];
                    long pos = c;
                    // Strictly better than the kept ones below it (an equal value keeps the earlier index first).
                    while (pos > 0 && (largest ? v > px[scratch[pos - 1] * inner] : v < px[scratch[pos - 1] * inner])) pos--;
                    if (pos >= k) continue;
                    long end = Math.Min(c, k - 1);
                    for (long m = end; m > pos; m--) scratch[m] = scratch[m - 1];
                    scratch[pos] = j;
                    if (c < k) c++;
                }
                for (long m = 0; m < k; m++)
                {
                    long at = (o * k + m) * inner + i;
                    indices[at] = scratch[m];
                    values[at] = px[scratch[m] * inner];
                }
            }
    }

    /// <summary>ArgMax (opset 1-13): x [outer, n, inner] to y [outer, inner] int64; first (or last) index of the maximum.</summary>
    public static void ArgMax<T>(T* x, long* y, long outer, long n, long inner, bool selectLast) where T : unmanaged, INumber<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* px = x + o * n * inner + i;
                long best = 0;
                for (long j = 1; j < n; j++)
                    if (selectLast ? px[j * inner] >= px[best * inner] : px[j * inner] > px[best * inner]) best = j;
                y[o * inner + i] = best;
            }
    }

    /// <summary>ArgMin (opset 1-13): x [outer, n, inner] to y [outer, inner] int64; first (or last) index of the minimum.</summary>
    public static void ArgMin<T>(T* x, long* y, long outer, long n, long inner, bool selectLast) where T : unmanaged, INumber<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* px = x + o * n * inner + i;
                long best = 0;
                for (long j = 1; j < n; j++)
                    if (selectLast ? px[j * inner] <= px[best * inner] : px[j * inner] < px[best * inner]) best = j;
                y[o * inner + i] = best;
            }
    }

    /// <summary>Splits <paramref name="shape"/> at <paramref name="axis"/> (negative counts from the end); false if out of range.</summary>
    private static bool AxisSplit(ReadOnlySpan<int> shape, long axis, out long outer, out long n, out long inner)
    {
        outer = 1; n = 1; inner = 1;
        int rank = shape.Length;
        if (axis < 0) axis += rank;
        if (axis < 0 || axis >= rank) return false;
        for (int d = 0; d < rank; d++)
        {
            if (d < axis) outer *= shape[d];
            else if (d == axis) n = shape[d];
            else inner *= shape[d];
        }
        return true;
    }

    /// <summary>
    /// CumSum (opset 11, 14): running sums along <paramref name="axis"/> (a run-time value; negative counts from the end),
    /// optionally exclusive (each sum omits its own element) and reversed. False if the axis is out of range.
    /// </summary>
    public static bool CumSum<T>(T* x, T* y, ReadOnlySpan<int> shape, long axis, bool exclusive, bool reverse) where T : unmanaged, INumber<T>
        => Cumulative<T, AddReduction<T>>(x, y, shape, axis, exclusive, reverse, T.Zero);

    /// <summary>CumProd (opset 26): running products, as <see cref="CumSum{T}"/>.</summary>
    public static bool CumProd<T>(T* x, T* y, ReadOnlySpan<int> shape, long axis, bool exclusive, bool reverse) where T : unmanaged, INumber<T>
        => Cumulative<T, MulReduction<T>>(x, y, shape, axis, exclusive, reverse, T.One);

    private static bool Cumulative<T, TR>(T* x, T* y, ReadOnlySpan<int> shape, long axis, bool exclusive, bool reverse, T identity)
        where T : unmanaged where TR : struct, IScatterReduction<T>
    {
        if (!AxisSplit(shape, axis, out long outer, out long n, out long inner)) return false;
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                T acc = identity;
                for (long s = 0; s < n; s++)
                {
                    long at = b + (reverse ? n - 1 - s : s) * inner;
                    T v = x[at];
                    if (exclusive) { y[at] = acc; acc = TR.Apply(acc, v); }
                    else { acc = TR.Apply(acc, v); y[at] = acc; }
                }
            }
        return true;
    }

    /// <summary>
    /// ReverseSequence (opset 10): x is [batch, time, inner] (<paramref name="batchMajor"/>) or [time, batch, inner]; for each
    /// batch entry b the first lens[b] time steps are reversed and the rest copied. False if a length is outside [0, time].
    /// </summary>
    public static bool ReverseSequence<T>(T* x, T* y, long* lens, long batch, long time, long inner, bool batchMajor) where T : unmanaged
    {
        for (long b = 0; b < batch; b++)
        {
            long len = lens[b];
            if (len < 0 || len > time) return false;
            for (long t = 0; t < time; t++)
            {
                long src = t < len ? len - 1 - t : t;
                long yo = (batchMajor ? b * time + t : t * batch + b) * inner;
                long xo = (batchMajor ? b * time + src : src * batch + b) * inner;
                Buffer.MemoryCopy(x + xo, y + yo, inner * sizeof(T), inner * sizeof(T));
            }
        }
        return true;
    }

    /// <summary>Range (opset 11): the element count max(ceil((limit - start) / delta), 0).</summary>
    public static long RangeCount<T>(T start, T limit, T delta) where T : unmanaged, INumberBase<T>
    {
        double s = double.CreateTruncating(start), l = double.CreateTruncating(limit), d = double.CreateTruncating(delta);
        return (long)Math.Max(Math.Ceiling((l - s) / d), 0);
    }

    /// <summary>Range (opset 11): y[i] = start + i·delta for i in [0, count).</summary>
    public static void Range<T>(T* y, long count, T start, T delta) where T : unmanaged, INumberBase<T>
    {
        double s = double.CreateTruncating(start), d = double.CreateTruncating(delta);
        for (long i = 0; i < count; i++) y[i] = T.CreateTruncating(s + i * d);
    }

    /// <summary>Range for bfloat16, computed in float.</summary>
    public static void Range(BFloat16* y, long count, BFloat16 start, BFloat16 delta)
    {
        float s = (float)start, d = (float)delta;
        for (long i = 0; i < count; i++) y[i] = (BFloat16)(s + i * d);
    }

    /// <summary>Range count for bfloat16.</summary>
    public static long RangeCount(BFloat16 start, BFloat16 limit, BFloat16 delta) =>
        (long)Math.Max(Math.Ceiling(((float)limit - (float)start) / (double)(float)delta), 0);

    /// <summary>
    /// Col2Im (opset 18): x is [nc, K, L] with K = Π block and L = Π blocks (block positions per spatial dim); y is
    /// [nc, image...] = Σ over (k, l) of x[c, k, l] placed at pos_d = l_d·stride_d - padBegin_d + k_d·dilation_d
    /// (positions outside the image are dropped). Spatial rank at most <see cref="MaxRank"/>.
    /// </summary>
    public static void Col2Im<T>(T* x, T* y, long nc, ReadOnlySpan<int> image, ReadOnlySpan<int> block, ReadOnlySpan<int> blocks,
        ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, ReadOnlySpan<int> strides) where T : unmanaged, INumber<T>
    {
        int r = image.Length;
        long img = 1, kk = 1, ll = 1;
        for (int d = 0; d < r; d++) { img *= image[d]; kk *= block[d]; ll *= blocks[d]; }
        Strided.Fill(y, nc * img, T.Zero);
        Span<int> k = stackalloc int[MaxRank];
        Span<int> l = stackalloc int[MaxRank];
        for (long c = 0; c < nc; c++)
            for (long kf = 0; kf < kk; kf++)
            {
                long rem = kf;
                for (int d = r - 1; d >= 0; d--) { k[d] = (int)(rem % block[d]); rem /= block[d]; }
                T* px = x + (c * kk + kf) * ll;
                for (long lf = 0; lf < ll; lf++)
                {
                    rem = lf;
                    for (int d = r - 1; d >= 0; d--) { l[d] = (int)(rem % blocks[d]); rem /= blocks[d]; }
                    long off = 0;
                    bool inside = true;
                    for (int d = 0; d < r; d++)
                    {
                        long pos = (long)l[d] * strides[d] - padsBegin[d] + (long)k[d] * dilations[d];
                        if ((ulong)pos >= (ulong)image[d]) { inside = false; break; }
                        off = off * image[d] + pos;
                    }
                    if (inside) y[c * img + off] += px[lf];
                }
            }
    }

    /// <summary>
    /// NonZero (opset 9, 13): y [rank, count] holds the coordinates of x's non-zero elements in row-major order.
    /// Returns false, writing nothing, unless x has exactly <paramref name="count"/> of them (the compiled output size).
    /// </summary>
    public static bool NonZero<T>(T* x, long* y, ReadOnlySpan<int> shape, long count) where T : unmanaged
    {
        long total = 1;
        foreach (var d in shape) total *= d;
        long found = 0;
        for (long i = 0; i < total; i++) if (!EqualityComparer<T>.Default.Equals(x[i], default)) found++;
        if (found != count) return false;
        int rank = shape.Length;
        long k = 0;
        for (long i = 0; i < total; i++)
        {
            if (EqualityComparer<T>.Default.Equals(x[i], default)) continue;
            long rem = i;
            for (int d = rank - 1; d >= 0; d--) { y[d * count + k] = rem % shape[d]; rem /= shape[d]; }
            k++;
        }
        return true;
    }

    /// <summary>
    /// Compress (opset 9, 11): x is [outer, n, innerBytes]; keeps the entries j &lt; min(n, condLength) whose
    /// condition is true, y [outer, count, innerBytes]. Returns false, writing nothing, unless exactly
    /// <paramref name="count"/> are kept (the compiled output size).
    /// </summary>
    public static bool Compress(byte* x, bool* condition, byte* y, long outer, long n, long innerBytes, long condLength, long count)
    {
        long m = Math.Min(n, condLength), kept = 0;
        for (long j = 0; j < m; j++) if (condition[j]) kept++;
        if (kept != count) return false;
        for (long o = 0; o < outer; o++)
        {
            byte* dst = y + o * count * innerBytes;
            for (long j = 0; j < m; j++)
                if (condition[j])
                {
                    Buffer.MemoryCopy(x + (o * n + j) * innerBytes, dst, innerBytes, innerBytes);
                    dst += innerBytes;
                }
        }
        return true;
    }
}
