using System.Numerics;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Softmax / LogSoftmax over contiguous rows (numerically stable: the row max is subtracted first).</summary>
public static unsafe class Softmax
{
    /// <summary>For each of <paramref name="outer"/> rows of length n: y[j] = exp(x[j] - max) / sum_i exp(x[i] - max). x may equal y.</summary>
    public static void Run(float* x, float* y, int outer, int n) => RunWidth(Gemm.PreferredWidth, false, x, y, outer, n);

    /// <summary>For each of <paramref name="outer"/> rows of length n: y[j] = x[j] - max - log(sum_i exp(x[i] - max)). x may equal y.</summary>
    public static void RunLog(float* x, float* y, int outer, int n) => RunWidth(Gemm.PreferredWidth, true, x, y, outer, n);

    /// <summary>Scalar reference for <see cref="Run"/>.</summary>
    internal static void RunScalar(float* x, float* y, int outer, int n) => RunWidth(0, false, x, y, outer, n);

    /// <summary>Scalar reference for <see cref="RunLog"/>.</summary>
    internal static void RunLogScalar(float* x, float* y, int outer, int n) => RunWidth(0, true, x, y, outer, n);

    /// <summary>Softmax with an explicit SIMD width (512/256/128/0).</summary>
    internal static void RunWidth(int width, bool log, float* x, float* y, int outer, int n)
    {
        if (n <= 0) return;
        for (int r = 0; r < outer; r++)
        {
            float* xr = x + (long)r * n;
            float* yr = y + (long)r * n;
            float max = RowMax(width, xr, n);
            if (log)
            {
                float sum = ExpSum(width, xr, null, n, max);
                SubSub(width, xr, yr, n, max, MathF.Log(sum));
            }
            else
            {
                float sum = ExpSum(width, xr, yr, n, max);
                Scale(width, yr, n, 1f / sum);
            }
        }
    }

    private static float RowMax(int width, float* x, int n)
    {
        int j = 0;
        float m = float.NegativeInfinity;
        if (width >= 512 && Vector512.IsHardwareAccelerated && n >= 16)
        {
            var acc = Vector512.Load(x);
            for (j = 16; j <= n - 16; j += 16) acc = Vector512.Max(acc, Vector512.Load(x + j));
            var lo = Vector256.Max(acc.GetLower(), acc.GetUpper());
            var q = Vector128.Max(lo.GetLower(), lo.GetUpper());
            m = Max4(q);
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated && n - j >= 8)
        {
            var acc = Vector256.Load(x + j);
            for (j += 8; j <= n - 8; j += 8) acc = Vector256.Max(acc, Vector256.Load(x + j));
            m = MathF.Max(m, Max4(Vector128.Max(acc.GetLower(), acc.GetUpper())));
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated && n - j >= 4)
        {
            var acc = Vector128.Load(x + j);
            for (j += 4; j <= n - 4; j += 4) acc = Vector128.Max(acc, Vector128.Load(x + j));
            m = MathF.Max(m, Max4(acc));
        }
        for (; j < n; j++) m = MathF.Max(m, x[j]);
        return m;
    }

    private static float Max4(Vector128<float> v)
        => MathF.Max(MathF.Max(v.GetElement(0), v.GetElement(1)), MathF.Max(v.GetElement(2), v.GetElement(3)));

    /// <summary>
    /// Returns sum_j exp(x[j] - max); stores the terms into y unless y is null. Terms below float.MinNormal are flushed to 0
    /// (they are below 1e-38 of the sum, and denormals would cost a microcode assist in every later multiply).
    /// </summary>
    private static float ExpSum(int width, float* x, float* y, int n, float max)
    {
        int j = 0;
        float sum = 0f;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
        {
            var vm = Vector512.Create(max);
            var acc = Vector512<float>.Zero;
            for (; j <= n - 16; j += 16)
            {
                var e = VectorMath.ExpFlushed(Vector512.Load(x + j) - vm);
                if (y != null) Vector512.Store(e, y + j);
                acc += e;
            }
            sum += Vector512.Sum(acc);
        }
        if (width >= 256 && Vector256.IsHardwareAccelerated)
        {
            var vm = Vector256.Create(max);
            var acc = Vector256<float>.Zero;
            for (; j <= n - 8; j += 8)
            {
                var e = VectorMath.ExpFlushed(Vector256.Load(x + j) - vm);
                if (y != null) Vector256.Store(e, y + j);
                acc += e;
            }
            sum += Vector256.Sum(acc);
        }
        if (width >= 128 && Vector128.IsHardwareAccelerated)
        {
            var vm = Vector128.Create(max);
            var acc = Vector128<float>.Zero;
            for (; j <= n - 4; j += 4)
            {
                var e = VectorMath.ExpFlushed(Vector128.Load(x + j) - vm);
                if (y != null) Vector128.Store(e, y + j);
                acc += e;
            }
            sum += Vector128.Sum(acc);
        }
        for (; j < n; j++)
        {
            float d = x[j] - max;
            float e = d < -87.3365402f ? 0f : MathF.Exp(d);
            if (y != null) y[j] = e;
            sum += e;
        }
        return sum;
    }

    private static void Scale(int width, float* y, int n, float s)
    {
        int j = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
            for (; j <= n - 16; j += 16) Vector512.Store(Vector512.Load(y + j) * s, y + j);
        if (width >= 256 && Vector256.IsHardwareAccelerated)
            for (; j <= n - 8; j += 8) Vector256.Store(Vector256.Load(y + j) * s, y + j);
        if (width >= 128 && Vector128.IsHardwareAccelerated)
            for (; j <= n - 4; j += 4) Vector128.Store(Vector128.Load(y + j) * s, y + j);
        for (; j < n; j++) y[j] *= s;
    }

    /// <summary>y[j] = (x[j] - a) - b.</summary>
    private static void SubSub(int width, float* x, float* y, int n, float a, float b)
    {
        int j = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated)
            for (; j <= n - 16; j += 16) Vector512.Store(Vector512.Load(x + j) - Vector512.Create(a) - Vector512.Create(b), y + j);
        if (width >= 256 && Vector256.IsHardwareAccelerated)
            for (; j <= n - 8; j += 8) Vector256.Store(Vector256.Load(x + j) - Vector256.Create(a) - Vector256.Create(b), y + j);
        if (width >= 128 && Vector128.IsHardwareAccelerated)
            for (; j <= n - 4; j += 4) Vector128.Store(Vector128.Load(x + j) - Vector128.Create(a) - Vector128.Create(b), y + j);
        for (; j < n; j++) y[j] = (x[j] - a) - b;
    }
    /// <summary>
    /// Softmax (or LogSoftmax when <paramref name="log"/>) of x [outer, n, inner] along the middle axis, any floating
    /// type, computed in double (the float32 rows path above is the fast one). x may equal y.
    /// </summary>
    public static void Strided<T>(T* x, T* y, long outer, long n, long inner, bool log) where T : unmanaged, INumberBase<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                double max = double.NegativeInfinity;
                for (long k = 0; k < n; k++) max = Math.Max(max, double.CreateTruncating(x[b + k * inner]));
                double sum = 0;
                for (long k = 0; k < n; k++) sum += Math.Exp(double.CreateTruncating(x[b + k * inner]) - max);
                double ls = Math.Log(sum);
                for (long k = 0; k < n; k++)
                {
                    double d = double.CreateTruncating(x[b + k * inner]) - max;
                    y[b + k * inner] = T.CreateSaturating(log ? d - ls : Math.Exp(d) / sum);
                }
            }
    }

    /// <summary>Hardmax of x [outer, n, inner] along the middle axis: 1 at the first maximum, 0 elsewhere.</summary>
    public static void Hardmax<T>(T* x, T* y, long outer, long n, long inner) where T : unmanaged, INumber<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                long b = o * n * inner + i;
                long best = 0;
                for (long k = 1; k < n; k++)
                    if (x[b + k * inner] > x[b + best * inner]) best = k;
                for (long k = 0; k < n; k++) y[b + k * inner] = k == best ? T.One : T.Zero;
            }
    }
}
