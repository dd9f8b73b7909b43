using System.Numerics;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Normalizations over contiguous rows or channel groups (float32; statistics in double for accuracy):
/// LayerNormalization, RMSNormalization, Group/InstanceNormalization, runtime BatchNormalization, LpNormalization,
/// MeanVarianceNormalization, LRN.
/// </summary>
public static unsafe class Normalization
{
    /// <summary>(sum, sum of squares of (x - shift)) of a row, SIMD.</summary>
    private static void Moments(float* x, long n, float shift, out double sum, out double sumSq)
    {
        long j = 0;
        double s = 0, q = 0;
        if (Vector256.IsHardwareAccelerated && n >= 8)
        {
            var vs = Vector256<float>.Zero;
            var vq = Vector256<float>.Zero;
            var sh = Vector256.Create(shift);
            // Blocks of at most 1024 elements keep the float partial sums accurate; each block is added in double.
            while (j + 8 <= n)
            {
                long end = Math.Min(n - 7, j + 1024);
                for (; j < end; j += 8)
                {
                    var d = Vector256.Load(x + j) - sh;
                    vs += d;
                    vq += d * d;
                }
                s += Vector256.Sum(vs);
                q += Vector256.Sum(vq);
                vs = Vector256<float>.Zero;
                vq = Vector256<float>.Zero;
            }
        }
        for (; j < n; j++)
        {
            double d = x[j] - shift;
            s += d;
            q += d * d;
        }
        sum = s;
        sumSq = q;
    }

    /// <summary>Mean and 1/sqrt(var + eps) of a row (population variance, shifted by the first element for stability).</summary>
    private static (float Mean, float InvStd) Stats(float* x, long n, float epsilon)
    {
        if (n == 0) return (float.NaN, float.NaN);
        float shift = x[0];
        Moments(x, n, shift, out double s, out double q);
        double m = s / n;
        double var = Math.Max(q / n - m * m, 0);
        return ((float)(m + shift), (float)(1.0 / Math.Sqrt(var + epsilon)));
    }

    /// <summary>y[j] = (x[j] - mean) * inv * scale[j] + bias[j] (scale, bias may be null: 1 and 0).</summary>
    private static void Affine(float* x, float* y, long n, float mean, float inv, float* scale, float* bias)
    {
        long j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(mean);
            var vi = Vector256.Create(inv);
            for (; j + 8 <= n; j += 8)
            {
                var v = (Vector256.Load(x + j) - vm) * vi;
                if (scale != null) v *= Vector256.Load(scale + j);
                if (bias != null) v += Vector256.Load(bias + j);
                Vector256.Store(v, y + j);
            }
        }
        for (; j < n; j++)
        {
            float v = (x[j] - mean) * inv;
            if (scale != null) v *= scale[j];
            if (bias != null) v += bias[j];
            y[j] = v;
        }
    }

    /// <summary>
    /// LayerNormalization over rows of <paramref name="n"/>: y = (x - mean) / sqrt(var + eps) * scale + bias, with
    /// scale and bias of length n (bias may be null). mean and invStdDev (one per row) are written when not null.
    /// </summary>
    public static void LayerNorm(float* x, float* scale, float* bias, float* y, float* mean, float* invStdDev, long outer, long n, float epsilon)
    {
        for (long r = 0; r < outer; r++)
        {
            var (m, inv) = Stats(x + r * n, n, epsilon);
            if (mean != null) mean[r] = m;
            if (invStdDev != null) invStdDev[r] = inv;
            Affine(x + r * n, y + r * n, n, m, inv, scale, bias);
        }
    }

    /// <summary>RMSNormalization over rows of n: y = x / sqrt(mean(x²) + eps) * scale (scale of length n).</summary>
    public static void RmsNorm(float* x, float* scale, float* y, long outer, long n, float epsilon)
    {
        for (long r = 0; r < outer; r++)
        {
            float* xr = x + r * n;
            Moments(xr, n, 0f, out _, out double q);
            float inv = (float)(1.0 / Math.Sqrt(q / n + epsilon));
            Affine(xr, y + r * n, n, 0f, inv, scale, null);
        }
    }

    /// <summary>
    /// Group normalization of x [batch, channels, spatial]: each of <paramref name="groups"/> groups of
    /// channels/groups consecutive channels is normalized by its own mean and variance, then
    /// y = norm * scale[k] + bias[k] where k is the channel (<paramref name="perChannel"/>) or the group.
    /// InstanceNormalization is groups == channels.
    /// </summary>
    public static void GroupNorm(float* x, float* scale, float* bias, float* y, long batch, long channels, long groups, long spatial, float epsilon, bool perChannel)
    {
        long cpg = channels / groups, len = cpg * spatial;
        for (long b = 0; b < batch; b++)
            for (long g = 0; g < groups; g++)
            {
                long off = (b * channels + g * cpg) * spatial;
                var (m, inv) = Stats(x + off, len, epsilon);
                for (long c = 0; c < cpg; c++)
                {
                    long k = perChannel ? g * cpg + c : g;
                    float s = inv * scale[k], t = bias[k] - m * s;
                    ScaleShift(x + off + c * spatial, y + off + c * spatial, spatial, s, t);
                }
            }
    }

    /// <summary>y[j] = x[j] * s + t.</summary>
    private static void ScaleShift(float* x, float* y, long n, float s, float t)
    {
        long j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(s);
            var vt = Vector256.Create(t);
            for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Load(x + j) * vs + vt, y + j);
        }
        for (; j < n; j++) y[j] = x[j] * s + t;
    }

    /// <summary>
    /// BatchNormalization (inference) with runtime parameters, x [batch, channels, spatial]:
    /// y = (x - mean[c]) / sqrt(var[c] + eps) * scale[c] + bias[c].
    /// </summary>
    public static void BatchNorm(float* x, float* scale, float* bias, float* mean, float* var, float* y, long batch, long channels, long spatial, float epsilon)
    {
        for (long b = 0; b < batch; b++)
            for (long c = 0; c < channels; c++)
            {
                float s = (float)(scale[c] / Math.Sqrt((double)var[c] + epsilon));
                float t = (float)(bias[c] - (double)mean[c] * s);
                long off = (b * channels + c) * spatial;
                ScaleShift(x + off, y + off, spatial, s, t);
            }
    }

    /// <summary>
    /// Mean-variance normalization of rows: y = (x - mean) / (sqrt(var) + epsilon) (ONNX's
    /// MeanVarianceNormalization with epsilon 1e-9).
    /// </summary>
    public static void MeanVarianceRows(float* x, float* y, long outer, long n, double epsilon)
    {
        for (long r = 0; r < outer; r++)
        {
            float* xr = x + r * n;
            if (n == 0) continue;
            float shift = xr[0];
            Moments(xr, n, shift, out double s, out double q);
            double m = s / n;
            double var = Math.Max(q / n - m * m, 0);
            float inv = (float)(1.0 / (Math.Sqrt(var) + epsilon));
            Affine(xr, y + r * n, n, (float)(m + shift), inv, null, null);
        }
    }

    /// <summary>x [outer, n, inner]: y = x / ||x||_p along the middle axis (p = 1 or 2); a zero vector stays zero (ONNX reference).</summary>
    public static void LpNorm<T>(T* x, T* y, long outer, long n, long inner, int p) where T : unmanaged, INumberBase<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                double acc = 0;
                for (long k = 0; k < n; k++)
                {
                    double v = double.CreateTruncating(x[b + k * inner]);
                    acc += p == 1 ? Math.Abs(v) : v * v;
                }
                double norm = p == 1 ? acc : Math.Sqrt(acc);
                for (long k = 0; k < n; k++) y[b + k * inner] = norm == 0 ? T.Zero : T.CreateSaturating(double.CreateTruncating(x[b + k * inner]) / norm);
            }
    }

    /// <summary>
    /// Local response normalization across channels, x [batch, channels, spatial]:
    /// y = x / (bias + alpha / size * sum of x² over channels [c - floor((size-1)/2), c + ceil((size-1)/2)])^beta.
    /// </summary>
    public static void Lrn(float* x, float* y, long batch, long channels, long spatial, int size, float alpha, float beta, float bias)
    {
        long lo = (size - 1) / 2, hi = size - 1 - lo;
        double a = (double)alpha / size;
        for (long b = 0; b < batch; b++)
            for (long c = 0; c < channels; c++)
            {
                long c0 = Math.Max(0, c - lo), c1 = Math.Min(channels - 1, c + hi);
                for (long s = 0; s < spatial; s++)
                {
                    double sq = 0;
                    for (long k = c0; k <= c1; k++)
                    {
                        double v = x[(b * channels + k) * spatial + s];
                        sq += v * v;
                    }
                    long at = (b * channels + c) * spatial + s;
                    y[at] = (float)(x[at] / Math.Pow(bias + a * sq, beta));
                }
            }
    }
}
