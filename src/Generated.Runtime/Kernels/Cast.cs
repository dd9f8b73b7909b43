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

    /// <summary>
    /// y[i] = float8(x[i]) in format <paramref name="type"/> (bytes), rounding to nearest even (E8M0: by
    /// <paramref name="round"/>); see <see cref="Float8"/>.
    /// </summary>
    public static void ToFloat8<TIn>(TIn* x, byte* y, long n, ElementType type, bool saturate, E8M0Rounding round = E8M0Rounding.Up)
        where TIn : unmanaged, INumberBase<TIn>
    {
        for (long i = 0; i < n; i++) y[i] = Float8.Encode(double.CreateTruncating(x[i]), type, saturate, round);
    }

    /// <summary>y[i] = (TOut)x[i] for float8 bytes of format <paramref name="type"/> (decoded exactly first).</summary>
    public static void FromFloat8<TOut>(byte* x, TOut* y, long n, ElementType type) where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating(Float8.Decode(x[i], type));
    }

    /// <summary>
    /// y = float4 E2M1 of x, packed two per byte (low nibble first; an odd count leaves the last high nibble 0):
    /// round to nearest even, saturating to +-6; see <see cref="Float4"/>.
    /// </summary>
    public static void ToFloat4E2M1<TIn>(TIn* x, byte* y, long n) where TIn : unmanaged, INumberBase<TIn>
    {
        for (long i = 0; i + 1 < n; i += 2)
            y[i >> 1] = (byte)(Float4.Encode(double.CreateTruncating(x[i])) | Float4.Encode(double.CreateTruncating(x[i + 1])) << 4);
        if ((n & 1) != 0) y[n >> 1] = Float4.Encode(double.CreateTruncating(x[n - 1]));
    }

    /// <summary>y[i] = (TOut)x[i] for packed float4 E2M1 x (decoded exactly first).</summary>
    public static void FromFloat4E2M1<TOut>(byte* x, TOut* y, long n) where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating(Float4.Load(x, i));
    }

    /// <summary>
    /// y = x as the packed sub-byte integer <typeparamref name="TQ"/> (int4, uint4, int2, uint2): floats truncate toward
    /// zero (NaN gives 0), then, like every integer narrowing in ONNX Cast, the value wraps to the low bits
    /// (e.g. -9 to int4 is 7). Padding bits of the last byte are written as 0.
    /// </summary>
    public static void ToPacked<TIn, TQ>(TIn* x, byte* y, long n) where TIn : unmanaged, INumberBase<TIn> where TQ : IQuantType
    {
        for (long i = 0; i < n; i++) TQ.Store(y, i, (int)long.CreateTruncating(x[i]));
        long padded = (n * TQ.Bits + 7) / 8 * 8 / TQ.Bits;
        for (long i = n; i < padded; i++) TQ.Store(y, i, 0);
    }

    /// <summary>y[i] = (TOut)x[i] for packed sub-byte integers x of type <typeparamref name="TQ"/> (sign-extended when signed).</summary>
    public static void FromPacked<TQ, TOut>(byte* x, TOut* y, long n) where TQ : IQuantType where TOut : unmanaged, INumberBase<TOut>
    {
        for (long i = 0; i < n; i++) y[i] = TOut.CreateTruncating(TQ.Load(x, i));
    }
}
