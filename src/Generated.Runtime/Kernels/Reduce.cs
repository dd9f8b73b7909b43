using System.Numerics;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// A reduction: <c>Finish(Combine(...Combine(Identity, Map(x0)), Map(x1))..., n)</c>. The vector forms are used when
/// <see cref="Vectorizable"/> (Combine must then be associative and commutative).
/// </summary>
public interface IReduceOp<T> where T : unmanaged
{
    /// <summary>False when only the scalar forms exist.</summary>
    static abstract bool Vectorizable { get; }
    /// <summary>The value of an empty reduction before <see cref="Finish"/>.</summary>
    static abstract T Identity { get; }
    /// <summary>Applied to every element before combining (x, x², |x|).</summary>
    static abstract T Map(T x);
    /// <summary>Folds one mapped element into the accumulator.</summary>
    static abstract T Combine(T acc, T v);
    /// <summary>Turns the accumulator of <paramref name="n"/> elements into the result (mean, sqrt, log).</summary>
    static abstract T Finish(T acc, long n);
    static abstract Vector128<T> Map(Vector128<T> x);
    static abstract Vector256<T> Map(Vector256<T> x);
    static abstract Vector512<T> Map(Vector512<T> x);
    static abstract Vector128<T> Combine(Vector128<T> a, Vector128<T> b);
    static abstract Vector256<T> Combine(Vector256<T> a, Vector256<T> b);
    static abstract Vector512<T> Combine(Vector512<T> a, Vector512<T> b);
}

/// <summary>
/// Reductions over static shapes, generic over the element type. The compiler collapses the reduced axes so that
/// every reduction is one of: contiguous rows (<see cref="Rows{TOp, T}"/>, SIMD along the row) or a middle axis of
/// (outer, n, inner) (<see cref="Strided{TOp, T}"/>, SIMD across inner). Other axis sets are transposed first.
/// </summary>
public static unsafe class Reduce
{
    /// <summary>y[r] = reduce(x[r*n .. r*n+n)) for r in [0, outer).</summary>
    public static void Rows<TOp, T>(T* x, T* y, long outer, long n) where TOp : IReduceOp<T> where T : unmanaged
    {
        for (long r = 0; r < outer; r++) y[r] = TOp.Finish(Row<TOp, T>(x + r * n, n, true), n);
    }

    /// <summary>Scalar reference of <see cref="Rows{TOp, T}"/>.</summary>
    internal static void RowsScalar<TOp, T>(T* x, T* y, long outer, long n) where TOp : IReduceOp<T> where T : unmanaged
    {
        for (long r = 0; r < outer; r++) y[r] = TOp.Finish(Row<TOp, T>(x + r * n, n, false), n);
    }

    private static T Row<TOp, T>(T* x, long n, bool simd) where TOp : IReduceOp<T> where T : unmanaged
    {
        T acc = TOp.Identity;
        long j = 0;
        if (simd && TOp.Vectorizable)
        {
            if (Vector512.IsHardwareAccelerated && Vector512<T>.IsSupported && n >= Vector512<T>.Count)
            {
                var va = Vector512.Create(TOp.Identity);
                for (; j + Vector512<T>.Count <= n; j += Vector512<T>.Count) va = TOp.Combine(va, TOp.Map(Vector512.Load(x + j)));
                for (int k = 0; k < Vector512<T>.Count; k++) acc = TOp.Combine(acc, va.GetElement(k));
            }
            if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported && n - j >= Vector256<T>.Count)
            {
                var va = Vector256.Create(TOp.Identity);
                for (; j + Vector256<T>.Count <= n; j += Vector256<T>.Count) va = TOp.Combine(va, TOp.Map(Vector256.Load(x + j)));
                for (int k = 0; k < Vector256<T>.Count; k++) acc = TOp.Combine(acc, va.GetElement(k));
            }
            if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported && n - j >= Vector128<T>.Count)
            {
                var va = Vector128.Create(TOp.Identity);
                for (; j + Vector128<T>.Count <= n; j += Vector128<T>.Count) va = TOp.Combine(va, TOp.Map(Vector128.Load(x + j)));
                for (int k = 0; k < Vector128<T>.Count; k++) acc = TOp.Combine(acc, va.GetElement(k));
            }
        }
        for (; j < n; j++) acc = TOp.Combine(acc, TOp.Map(x[j]));
        return acc;
    }

    /// <summary>
    /// x is [outer, n, inner]; y[o, i] = reduce over k of x[o, k, i]. y is the accumulator (it must not overlap x).
    /// </summary>
    public static void Strided<TOp, T>(T* x, T* y, long outer, long n, long inner) where TOp : IReduceOp<T> where T : unmanaged
    {
        for (long o = 0; o < outer; o++)
        {
            T* yo = y + o * inner;
            for (long i = 0; i < inner; i++) yo[i] = TOp.Identity;
            for (long k = 0; k < n; k++)
            {
                T* xk = x + (o * n + k) * inner;
                long i = 0;
                if (TOp.Vectorizable)
                {
                    if (Vector256.IsHardwareAccelerated && Vector256<T>.IsSupported)
                        for (; i + Vector256<T>.Count <= inner; i += Vector256<T>.Count)
                            Vector256.Store(TOp.Combine(Vector256.Load(yo + i), TOp.Map(Vector256.Load(xk + i))), yo + i);
                    if (Vector128.IsHardwareAccelerated && Vector128<T>.IsSupported)
                        for (; i + Vector128<T>.Count <= inner; i += Vector128<T>.Count)
                            Vector128.Store(TOp.Combine(Vector128.Load(yo + i), TOp.Map(Vector128.Load(xk + i))), yo + i);
                }
                for (; i < inner; i++) yo[i] = TOp.Combine(yo[i], TOp.Map(xk[i]));
            }
            for (long i = 0; i < inner; i++) yo[i] = TOp.Finish(yo[i], n);
        }
    }

    /// <summary>
    /// Numerically stable log(sum(exp(x))) over the middle axis of [outer, n, inner] (inner = 1 for rows):
    /// max + log(sum(exp(x - max))), computed in double. An empty reduction gives -inf.
    /// </summary>
    public static void LogSumExp<T>(T* x, T* y, long outer, long n, long inner) where T : unmanaged, INumberBase<T>
    {
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* p = x + o * n * inner + i;
                double max = double.NegativeInfinity;
                for (long k = 0; k < n; k++) max = Math.Max(max, double.CreateTruncating(p[k * inner]));
                double r;
                if (double.IsNegativeInfinity(max) || double.IsNaN(max)) r = max;
                else
                {
                    double sum = 0;
                    for (long k = 0; k < n; k++) sum += Math.Exp(double.CreateTruncating(p[k * inner]) - max);
                    r = max + Math.Log(sum);
                }
                y[o * inner + i] = T.CreateSaturating(r);
            }
    }
}

#pragma warning disable CS1591 // the reduction structs are self-describing: each is the formula its name says

/// <summary>Sum.</summary>
public struct ReduceSum<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>Mean: the sum divided by the count (integer division for integer types; NaN/0 when empty).</summary>
public struct ReduceMean<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => n == 0 ? T.CreateSaturating(double.NaN) : acc / T.CreateTruncating(n);
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>Product.</summary>
public struct ReduceProd<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.One;
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => a * b;
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a * b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a * b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a * b;
}

/// <summary>Maximum (the lowest value of T when empty: -inf for floating types).</summary>
public struct ReduceMax<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.CreateSaturating(double.NegativeInfinity);
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => T.Max(a, b);
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => Vector128.Max(a, b);
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
}

/// <summary>Minimum (the highest value of T when empty: +inf for floating types).</summary>
public struct ReduceMin<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.CreateSaturating(double.PositiveInfinity);
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => T.Min(a, b);
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => Vector128.Min(a, b);
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
}

/// <summary>Sum of squares.</summary>
public struct ReduceSumSquare<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => x * x;
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => x * x;
    public static Vector256<T> Map(Vector256<T> x) => x * x;
    public static Vector512<T> Map(Vector512<T> x) => x * x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>L1 norm: sum of absolute values.</summary>
public struct ReduceL1<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => T.Abs(x);
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => acc;
    public static Vector128<T> Map(Vector128<T> x) => Vector128.Abs(x);
    public static Vector256<T> Map(Vector256<T> x) => Vector256.Abs(x);
    public static Vector512<T> Map(Vector512<T> x) => Vector512.Abs(x);
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>L2 norm: sqrt of the sum of squares (truncated for integer types).</summary>
public struct ReduceL2<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => x * x;
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => T.CreateSaturating(Math.Sqrt(double.CreateTruncating(acc)));
    public static Vector128<T> Map(Vector128<T> x) => x * x;
    public static Vector256<T> Map(Vector256<T> x) => x * x;
    public static Vector512<T> Map(Vector512<T> x) => x * x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}

/// <summary>log of the sum (-inf when empty).</summary>
public struct ReduceLogSum<T> : IReduceOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Identity => T.Zero;
    public static T Map(T x) => x;
    public static T Combine(T a, T b) => a + b;
    public static T Finish(T acc, long n) => T.CreateSaturating(Math.Log(double.CreateTruncating(acc)));
    public static Vector128<T> Map(Vector128<T> x) => x;
    public static Vector256<T> Map(Vector256<T> x) => x;
    public static Vector512<T> Map(Vector512<T> x) => x;
    public static Vector128<T> Combine(Vector128<T> a, Vector128<T> b) => a + b;
    public static Vector256<T> Combine(Vector256<T> a, Vector256<T> b) => a + b;
    public static Vector512<T> Combine(Vector512<T> a, Vector512<T> b) => a + b;
}
