using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Cast between element types. Numeric conversions follow <c>CreateTruncating</c>: float to integer truncates toward
/// zero (saturating out of range, NaN gives 0), narrowing floats round to nearest even, integers wrap.
/// </summary>
public static unsafe class Cast
{
    /// <summary>y[i] = (TOut)x[i] for numeric types (float16 included).</summary>
    public static void Convert<TIn, TOut>(TIn* x, TOut* y, long n)
        where TIn : unmanaged, INumberBase<TIn> where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating(x[i]);
    }

    /// <summary>y[i] = x[i] != 0.</summary>
    public static void ToBool<TIn>(TIn* x, bool* y, long n) where TIn : unmanaged, INumberBase<TIn>
    {
        for (long i = 0; i < n; i++) y[i] = !TIn.IsZero(x[i]);
    }

    /// <summary>y[i] = x[i] ? 1 : 0.</summary>
    public static void FromBool<TOut>(bool* x, TOut* y, long n) where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = x[i] ? TOut.One : TOut.Zero;
    }

    /// <summary>y[i] = bfloat16(x[i]), through float32, rounding to nearest even.</summary>
    public static void ToBFloat16<TIn>(TIn* x, BFloat16* y, long n) where TIn : unmanaged, INumberBase<TIn>
    {
        for (long i = 0; i < n; i++) y[i] = (BFloat16)float.CreateTruncating(x[i]);
    }

    /// <summary>y[i] = (TOut)float(x[i]): bfloat16 widens exactly to float32 first.</summary>
    public static void FromBFloat16<TOut>(BFloat16* x, TOut* y, long n) where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating((float)x[i]);
    }

    /// <summary>y[i] = float8(x[i]) in format <paramref name="type"/> (bytes), rounding to nearest even; see <see cref="Float8"/>.</summary>
    public static void ToFloat8<TIn>(TIn* x, byte* y, long n, ElementType type, bool saturate) where TIn : unmanaged, INumberBase<TIn>
    {
        for (long i = 0; i < n; i++) y[i] = Float8.Encode(double.CreateTruncating(x[i]), type, saturate);
    }

    /// <summary>y[i] = (TOut)x[i] for float8 bytes of format <paramref name="type"/> (decoded exactly first).</summary>
    public static void FromFloat8<TOut>(byte* x, TOut* y, long n, ElementType type) where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating(Float8.Decode(x[i], type));
    }
}
