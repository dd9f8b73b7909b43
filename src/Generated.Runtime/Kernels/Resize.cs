using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Separable resampling (Resize, Upsample) driven by per-axis tap tables computed at compile time: along axis d,
/// output coordinate o reads input indices <c>idx[start[d] + o*taps[d] + t]</c> with weights <c>w[...]</c>, t &lt; taps[d].
/// An index of -1 marks a coordinate outside the crop region: the output element is the extrapolation value.
/// </summary>
public static unsafe class Resize
{
    /// <summary>
    /// One tap per axis with weight 1 (nearest): a pure gather, for any element type. An output row (all axes but the
    /// last fixed) whose source row is the previous output row's is copied from it; 4-byte rows that repeat every input
    /// element twice (2x nearest upsampling) are written with vector interleaves.
    /// </summary>
    public static void Gather<T>(T* x, T* y, ReadOnlySpan<int> inShape, ReadOnlySpan<int> outShape, ReadOnlySpan<int> start, ReadOnlySpan<int> idx) where T : unmanaged
    {
        int r = inShape.Length;
        Span<long> inStr = stackalloc long[r];
        Span<int> o = stackalloc int[r];
        long acc = 1, total = 1;
        for (int d = r - 1; d >= 0; d--) { inStr[d] = acc; acc *= inShape[d]; total *= outShape[d]; }
        int last = r - 1;
        int ow = outShape[last];
        if (ow <= 0 || total == 0) return;
        int s = start[last];
        ReadOnlySpan<int> lastIdx = idx.Slice(s, ow);
        // Does the last axis double every element (out j reads in j/2)?
        bool doubled = sizeof(T) == 4 && System.Runtime.Intrinsics.X86.Avx.IsSupported && (ow & 1) == 0 && inStr[last] == 1;
        for (int j = 0; doubled && j < ow; j++) doubled = lastIdx[j] == j / 2;
        long prevBase = -1;
        for (long f = 0; f < total; f += ow)
        {
            long baseOff = 0;
            for (int d = 0; d < last; d++) baseOff += idx[start[d] + o[d]] * inStr[d];
            T* yr = y + f;
            if (baseOff == prevBase)
            {
                new ReadOnlySpan<T>(yr - ow, ow).CopyTo(new Span<T>(yr, ow));
            }
            else if (doubled)
            {
                Double4((float*)(x + baseOff), (float*)yr, ow / 2);
            }
            else
            {
                T* xr = x + baseOff;
                long st = inStr[last];
                for (int j = 0; j < ow; j++) yr[j] = xr[lastIdx[j] * st];
            }
            prevBase = baseOff;
            for (int d = last - 1; d >= 0; d--)
            {
                if (++o[d] < outShape[d]) break;
                o[d] = 0;
            }
        }
    }

    /// <summary>y[2j] = y[2j + 1] = x[j] for j &lt; n (4-byte elements, bit-exact).</summary>
    private static void Double4(float* x, float* y, int n)
    {
        int j = 0;
        if (System.Runtime.Intrinsics.X86.Avx.IsSupported)
        {
            for (; j <= n - 8; j += 8)
            {
                var v = System.Runtime.Intrinsics.Vector256.Load(x + j);
                var lo = System.Runtime.Intrinsics.X86.Avx.UnpackLow(v, v);
                var hi = System.Runtime.Intrinsics.X86.Avx.UnpackHigh(v, v);
                System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x20), y + 2L * j);
                System.Runtime.Intrinsics.Vector256.Store(System.Runtime.Intrinsics.X86.Avx.Permute2x128(lo, hi, 0x31), y + 2L * j + 8);
            }
        }
        for (; j < n; j++) y[2L * j] = y[2L * j + 1] = x[j];
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
