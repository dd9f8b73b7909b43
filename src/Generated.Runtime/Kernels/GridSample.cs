using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// GridSample and AffineGrid (ONNX GridSample-16/20/22, AffineGrid-20) over 1 to 3 spatial dims, computed in double.
/// Grid coordinates are normalized to [-1, 1]; the grid's last axis lists them innermost spatial dim first (x = width).
/// </summary>
public static unsafe class GridSample
{
    /// <summary>Sampling modes: nearest (round half to even), linear (2^r taps), cubic (4^r taps, A = -0.75).</summary>
    public const int Nearest = 0, Linear = 1, Cubic = 2;

    /// <summary>Padding modes for samples outside the input.</summary>
    public const int Zeros = 0, Border = 1, Reflection = 2;

    /// <summary>
    /// y[b, c, o...] = sample of x[b, c] at grid[b, o..., :]. x: [batch, channels, inDims...], grid: [batch, outDims..., r],
    /// y: [batch, channels, outDims...]. A normalized coordinate g maps to (g + 1)/2·(size - 1) with alignCorners, else to
    /// ((g + 1)·size - 1)/2. Out-of-range coordinates are clamped (border) or reflected (reflection) first; taps still
    /// outside read 0 (zeros), the clamped index (border) or the reflected index (reflection).
    /// </summary>
    public static void Run<T>(T* x, T* grid, T* y, int batch, int channels, ReadOnlySpan<long> inDims, ReadOnlySpan<long> outDims,
        int mode, int padding, bool alignCorners) where T : unmanaged, INumberBase<T>
    {
        int r = inDims.Length;
        if (r < 1 || r > 3 || outDims.Length != r) throw new ArgumentException("GridSample supports 1 to 3 spatial dims");
        long inCount = 1, outCount = 1;
        for (int d = 0; d < r; d++) { inCount *= inDims[d]; outCount *= outDims[d]; }
        Span<double> pos = stackalloc double[3];
        Span<double> lo = stackalloc double[3];
        Span<double> hi = stackalloc double[3];
        Span<long> stride = stackalloc long[3];
        long acc = 1;
        for (int d = r - 1; d >= 0; d--)
        {
            stride[d] = acc;
            acc *= inDims[d];
            lo[d] = alignCorners ? 0 : -0.5;
            hi[d] = alignCorners ? inDims[d] - 1 : inDims[d] - 0.5;
        }
        int tapsPerDim = mode == Nearest ? 1 : mode == Linear ? 2 : 4;
        int taps = 1;
        for (int d = 0; d < r; d++) taps *= tapsPerDim;
        Span<long> tapOff = stackalloc long[64];
        Span<double> tapW = stackalloc double[64];
        Span<long> axisIdx = stackalloc long[12];
        Span<double> axisW = stackalloc double[12];
        for (int b = 0; b < batch; b++)
            for (long o = 0; o < outCount; o++)
            {
                T* g = grid + (b * outCount + o) * r;
                for (int d = 0; d < r; d++)
                {
                    double v = double.CreateTruncating(g[r - 1 - d]);
                    long size = inDims[d];
                    double p = alignCorners ? (v + 1) / 2 * (size - 1) : ((v + 1) * size - 1) / 2;
                    if (mode == Nearest) p = Math.Round(p, MidpointRounding.ToEven);
                    if (p < lo[d] || p > hi[d])
                    {
                        if (padding == Border) p = Math.Clamp(p, 0, size - 1);
                        else if (padding == Reflection) p = Reflect(p, lo[d], hi[d]);
                    }
                    pos[d] = p;
                    // Per-axis taps: indices (-1 = reads zero) and weights.
                    if (mode == Nearest)
                    {
                        axisIdx[d * 4] = Index((long)Math.Round(p, MidpointRounding.ToEven), size, lo[d], hi[d], padding);
                        axisW[d * 4] = 1;
                    }
                    else if (mode == Linear)
                    {
                        double f = Math.Floor(p), t = p - f;
                        axisIdx[d * 4] = Index((long)f, size, lo[d], hi[d], padding);
                        axisIdx[d * 4 + 1] = Index((long)f + 1, size, lo[d], hi[d], padding);
                        axisW[d * 4] = 1 - t;
                        axisW[d * 4 + 1] = t;
                    }
                    else
                    {
                        double f = Math.Floor(p), t = p - f;
                        const double A = -0.75;
                        double t1 = t + 1, t2 = 1 - t, t3 = 2 - t;
                        axisW[d * 4] = ((A * t1 - 5 * A) * t1 + 8 * A) * t1 - 4 * A;
                        axisW[d * 4 + 1] = ((A + 2) * t - (A + 3)) * t * t + 1;
                        axisW[d * 4 + 2] = ((A + 2) * t2 - (A + 3)) * t2 * t2 + 1;
                        axisW[d * 4 + 3] = ((A * t3 - 5 * A) * t3 + 8 * A) * t3 - 4 * A;
                        for (int k = 0; k < 4; k++) axisIdx[d * 4 + k] = Index((long)f - 1 + k, size, lo[d], hi[d], padding);
                    }
                }
                for (int k = 0; k < taps; k++)
                {
                    int rem = k;
                    long off = 0;
                    double w = 1;
                    for (int d = r - 1; d >= 0; d--)
                    {
                        int t = rem % tapsPerDim;
                        rem /= tapsPerDim;
                        long i = axisIdx[d * 4 + t];
                        if (i < 0) off = -1;
                        else if (off >= 0) off += i * stride[d];
                        w *= axisW[d * 4 + t];
                    }
                    tapOff[k] = off;
                    tapW[k] = w;
                }
                for (int c = 0; c < channels; c++)
                {
                    T* xc = x + ((long)b * channels + c) * inCount;
                    double sum = 0;
                    for (int k = 0; k < taps; k++)
                        if (tapOff[k] >= 0) sum += tapW[k] * double.CreateTruncating(xc[tapOff[k]]);
                    y[((long)b * channels + c) * outCount + o] = T.CreateTruncating(sum);
                }
            }
    }

    /// <summary>The input index a tap reads: -1 (zero) when outside with zeros padding, else clamped or reflected.</summary>
    private static long Index(long i, long size, double lo, double hi, int padding)
    {
        if (i >= 0 && i < size) return i;
        if (padding == Zeros) return -1;
        if (padding == Reflection) i = (long)Reflect(i, lo, hi);
        return Math.Clamp(i, 0, size - 1);
    }

    /// <summary>Reflects x into [lo, hi] by repeated mirroring at the borders.</summary>
    private static double Reflect(double x, double lo, double hi)
    {
        double range = hi - lo;
        if (range <= 0) return lo;
        if (x < lo)
        {
            double dx = lo - x;
            long n = (long)(dx / range);
            double r = dx - n * range;
            return n % 2 == 0 ? lo + r : hi - r;
        }
        if (x > hi)
        {
            double dx = x - hi;
            long n = (long)(dx / range);
            double r = dx - n * range;
            return n % 2 == 0 ? hi - r : lo + r;
        }
        return x;
    }

    /// <summary>
    /// AffineGrid: grid[b, s..., i] = Σ_j theta[b, i, j]·base[s..., j] with base = (x_w, y_h[, z_d], 1), each normalized
    /// coordinate (i·2 + 1)/size - 1, or linspace(-1, 1, size) with alignCorners. dims: the spatial sizes (H, W) or (D, H, W).
    /// </summary>
    public static void Affine<T>(T* theta, T* grid, int batch, ReadOnlySpan<long> dims, bool alignCorners) where T : unmanaged, INumberBase<T>
    {
        int r = dims.Length;
        long count = 1;
        for (int d = 0; d < r; d++) count *= dims[d];
        Span<double> basis = stackalloc double[4];
        Span<long> idx = stackalloc long[3];
        for (int b = 0; b < batch; b++)
        {
            T* th = theta + (long)b * r * (r + 1);
            idx.Clear();
            for (long s = 0; s < count; s++)
            {
                for (int d = 0; d < r; d++)
                {
                    long size = dims[d];
                    double v = alignCorners ? (size == 1 ? -1 : -1 + 2.0 * idx[d] / (size - 1)) : (idx[d] * 2 + 1) / (double)size - 1;
                    basis[r - 1 - d] = v;
                }
                basis[r] = 1;
                T* o = grid + ((long)b * count + s) * r;
                for (int i = 0; i < r; i++)
                {
                    double acc = 0;
                    for (int j = 0; j <= r; j++) acc += double.CreateTruncating(th[i * (r + 1) + j]) * basis[j];
                    o[i] = T.CreateTruncating(acc);
                }
                for (int d = r - 1; d >= 0; d--)
                {
                    if (++idx[d] < dims[d]) break;
                    idx[d] = 0;
                }
            }
        }
    }
}
