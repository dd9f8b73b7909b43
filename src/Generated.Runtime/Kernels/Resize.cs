using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Separable resampling (Resize, Upsample) driven by per-axis tap tables computed at compile time: along axis d,
/// output coordinate o reads input indices <c>idx[start[d] + o*taps[d] + t]</c> with weights <c>w[...]</c>, t &lt; taps[d].
/// An index of -1 marks a coordinate outside the crop region: the output element is the extrapolation value.
/// </summary>
public static unsafe class Resize
{
    /// <summary>One tap per axis with weight 1 (nearest): a pure gather, for any element type.</summary>
    public static void Gather<T>(T* x, T* y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> start, ReadOnlySpan<int> idx) where T : unmanaged
    {
        int r = inShape.Length;
        Span<long> inStr = stackalloc long[r];
        Span<int> o = stackalloc int[r];
        long acc = 1, total = 1;
        for (int d = r - 1; d >= 0; d--) { inStr[d] = acc; acc *= inShape[d]; total *= outShape[d]; }
        int last = r - 1;
        for (long f = 0; f < total;)
        {
            long baseOff = 0;
            for (int d = 0; d < last; d++) baseOff += idx[start[d] + o[d]] * inStr[d];
            int s = start[last];
            for (int j = 0; j < outShape[last]; j++) y[f++] = x[baseOff + idx[s + j] * inStr[last]];
            for (int d = last - 1; d >= 0; d--)
            {
                if (++o[d] < outShape[d]) break;
                o[d] = 0;
            }
        }
    }

    /// <summary>General weighted taps (linear, cubic, antialias, crop and resize), accumulated in double.</summary>
    public static void Interpolate<T>(T* x, T* y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> taps,
        ReadOnlySpan<int> start, ReadOnlySpan<int> idx, ReadOnlySpan<double> w, double extrapolation) where T : unmanaged, INumberBase<T>
    {
        int r = inShape.Length;
        Span<long> inStr = stackalloc long[r];
        Span<int> o = stackalloc int[r];
        Span<int> t = stackalloc int[r];
        long acc = 1, total = 1;
        for (int d = r - 1; d >= 0; d--) { inStr[d] = acc; acc *= inShape[d]; total *= outShape[d]; }
        for (long f = 0; f < total; f++)
        {
            bool outside = false;
            for (int d = 0; d < r; d++) if (idx[start[d] + o[d] * taps[d]] < 0) outside = true;
            if (outside) y[f] = T.CreateTruncating(extrapolation);
            else
            {
                double sum = 0;
                t.Clear();
                while (true)
                {
                    long off = 0;
                    double wt = 1;
                    for (int d = 0; d < r; d++)
                    {
                        int e = start[d] + o[d] * taps[d] + t[d];
                        off += idx[e] * inStr[d];
                        wt *= w[e];
                    }
                    if (wt != 0) sum += wt * double.CreateTruncating(x[off]);
                    int k = r - 1;
                    for (; k >= 0; k--)
                    {
                        if (++t[k] < taps[k]) break;
                        t[k] = 0;
                    }
                    if (k < 0) break;
                }
                y[f] = T.CreateTruncating(sum);
            }
            for (int d = r - 1; d >= 0; d--)
            {
                if (++o[d] < outShape[d]) break;
                o[d] = 0;
            }
        }
    }
}
