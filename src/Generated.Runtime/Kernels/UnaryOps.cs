using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

#pragma warning disable CS1591 // the operator structs are self-describing: each is the formula its summary gives

/// <summary>|x|.</summary>
public struct AbsOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => T.Abs(x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Abs(x);
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Abs(x);
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Abs(x);
}

/// <summary>-x.</summary>
public struct NegOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => -x;
    public static Vector128<T> Invoke(Vector128<T> x) => -x;
    public static Vector256<T> Invoke(Vector256<T> x) => -x;
    public static Vector512<T> Invoke(Vector512<T> x) => -x;
}

/// <summary>sqrt(x).</summary>
public struct SqrtOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Sqrt(x);
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Sqrt(x);
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Sqrt(x);
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Sqrt(x);
}

/// <summary>e^x.</summary>
public struct ExpOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Exp(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Exp(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Exp(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Exp(x);
}

/// <summary>ln x.</summary>
public struct LogOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Log(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Log(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Log(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Log(x);
}

/// <summary>1 / x.</summary>
public struct ReciprocalOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.One / x;
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128<T>.One / x;
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256<T>.One / x;
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512<T>.One / x;
}

/// <summary>floor(x).</summary>
public struct FloorOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Floor(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Floor(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Floor(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Floor(x);
}

/// <summary>ceil(x).</summary>
public struct CeilOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Ceiling(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Ceiling(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Ceiling(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Ceiling(x);
}

/// <summary>x rounded to the nearest integer, halves to even.</summary>
public struct RoundOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Round(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Round(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Round(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Round(x);
}

/// <summary>sin x.</summary>
public struct SinOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Sin(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Sin(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Sin(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Sin(x);
}

/// <summary>cos x.</summary>
public struct CosOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Cos(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Cos(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Cos(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Cos(x);
}

/// <summary>max(x, 0), any signed type.</summary>
public struct ReluOp<T> : IUnaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => x > T.Zero ? x : T.Zero;
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Max(x, Vector128<T>.Zero);
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Max(x, Vector256<T>.Zero);
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Max(x, Vector512<T>.Zero);
}

/// <summary>1 / (1 + e^-x).</summary>
public struct SigmoidOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x) => T.One / (T.One + T.Exp(-x));
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Sigmoid(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Sigmoid(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Sigmoid(x);
}

/// <summary>tanh x.</summary>
public struct TanhOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x) => T.Tanh(x);
    public static Vector128<T> Invoke(Vector128<T> x) => VecT.Tanh(x);
    public static Vector256<T> Invoke(Vector256<T> x) => VecT.Tanh(x);
    public static Vector512<T> Invoke(Vector512<T> x) => VecT.Tanh(x);
}

/// <summary>x / (1 + |x|).</summary>
public struct SoftsignOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => x / (T.One + T.Abs(x));
    public static Vector128<T> Invoke(Vector128<T> x) => x / (Vector128<T>.One + Vector128.Abs(x));
    public static Vector256<T> Invoke(Vector256<T> x) => x / (Vector256<T>.One + Vector256.Abs(x));
    public static Vector512<T> Invoke(Vector512<T> x) => x / (Vector512<T>.One + Vector512.Abs(x));
}

/// <summary>ln(1 + e^x), computed as max(x, 0) + ln(1 + e^-|x|).</summary>
public struct SoftplusOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => T.Max(x, T.Zero) + T.Log(T.One + T.Exp(-T.Abs(x)));
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Max(x, Vector128<T>.Zero) + VecT.Log(Vector128<T>.One + VecT.Exp(-Vector128.Abs(x)));
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Max(x, Vector256<T>.Zero) + VecT.Log(Vector256<T>.One + VecT.Exp(-Vector256.Abs(x)));
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Max(x, Vector512<T>.Zero) + VecT.Log(Vector512<T>.One + VecT.Exp(-Vector512.Abs(x)));
}

/// <summary>x * max(0, min(1, x/6 + 1/2)).</summary>
public struct HardSwishOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x) => x * T.Max(T.Zero, T.Min(T.One, x * T.CreateTruncating(1.0 / 6) + T.CreateTruncating(0.5)));
    public static Vector128<T> Invoke(Vector128<T> x) => x * Vector128.Min(Vector128.Max(x * Vector128.Create(T.CreateTruncating(1.0 / 6)) + Vector128.Create(T.CreateTruncating(0.5)), Vector128<T>.Zero), Vector128<T>.One);
    public static Vector256<T> Invoke(Vector256<T> x) => x * Vector256.Min(Vector256.Max(x * Vector256.Create(T.CreateTruncating(1.0 / 6)) + Vector256.Create(T.CreateTruncating(0.5)), Vector256<T>.Zero), Vector256<T>.One);
    public static Vector512<T> Invoke(Vector512<T> x) => x * Vector512.Min(Vector512.Max(x * Vector512.Create(T.CreateTruncating(1.0 / 6)) + Vector512.Create(T.CreateTruncating(0.5)), Vector512<T>.Zero), Vector512<T>.One);
}

/// <summary>x * tanh(softplus(x)).</summary>
public struct MishOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x) => x * T.Tanh(T.Max(x, T.Zero) + T.Log(T.One + T.Exp(-T.Abs(x))));
    public static Vector128<T> Invoke(Vector128<T> x) => x * VecT.Tanh(Vector128.Max(x, Vector128<T>.Zero) + VecT.Log(Vector128<T>.One + VecT.Exp(-Vector128.Abs(x))));
    public static Vector256<T> Invoke(Vector256<T> x) => x * VecT.Tanh(Vector256.Max(x, Vector256<T>.Zero) + VecT.Log(Vector256<T>.One + VecT.Exp(-Vector256.Abs(x))));
    public static Vector512<T> Invoke(Vector512<T> x) => x * VecT.Tanh(Vector512.Max(x, Vector512<T>.Zero) + VecT.Log(Vector512<T>.One + VecT.Exp(-Vector512.Abs(x))));
}

/// <summary>Gelu, tanh approximation: x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))).</summary>
public struct GeluTanhOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x) => T.CreateTruncating(0.5) * x * (T.One + T.Tanh(T.CreateTruncating(0.7978845608028654) * (x + T.CreateTruncating(0.044715) * x * x * x)));
    public static Vector128<T> Invoke(Vector128<T> x) => Vector128.Create(T.CreateTruncating(0.5)) * x * (Vector128<T>.One + VecT.Tanh(Vector128.Create(T.CreateTruncating(0.7978845608028654)) * (x + Vector128.Create(T.CreateTruncating(0.044715)) * x * x * x)));
    public static Vector256<T> Invoke(Vector256<T> x) => Vector256.Create(T.CreateTruncating(0.5)) * x * (Vector256<T>.One + VecT.Tanh(Vector256.Create(T.CreateTruncating(0.7978845608028654)) * (x + Vector256.Create(T.CreateTruncating(0.044715)) * x * x * x)));
    public static Vector512<T> Invoke(Vector512<T> x) => Vector512.Create(T.CreateTruncating(0.5)) * x * (Vector512<T>.One + VecT.Tanh(Vector512.Create(T.CreateTruncating(0.7978845608028654)) * (x + Vector512.Create(T.CreateTruncating(0.044715)) * x * x * x)));
}

/// <summary>~x (also logical Not on bools stored as bytes 0/1 when used as x ^ 1: see NotOp).</summary>
public struct BitNotOp<T> : IUnaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x) => ~x;
    public static Vector128<T> Invoke(Vector128<T> x) => ~x;
    public static Vector256<T> Invoke(Vector256<T> x) => ~x;
    public static Vector512<T> Invoke(Vector512<T> x) => ~x;
}

/// <summary>Logical not on bools stored as bytes 0/1: x ^ 1.</summary>
public struct NotOp : IUnaryOp<byte>
{
    public static bool Vectorizable => true;
    public static byte Invoke(byte x) => (byte)(x ^ 1);
    public static Vector128<byte> Invoke(Vector128<byte> x) => x ^ Vector128<byte>.One;
    public static Vector256<byte> Invoke(Vector256<byte> x) => x ^ Vector256<byte>.One;
    public static Vector512<byte> Invoke(Vector512<byte> x) => x ^ Vector512<byte>.One;
}

/// <summary>-1, 0 or 1 by the sign of x (NaN stays NaN).</summary>
public struct SignOp<T> : IMapOp<T, T> where T : unmanaged, INumber<T>
{
    public static T Invoke(T x) => T.IsNaN(x) ? x : T.CreateTruncating(T.Sign(x));
}

/// <summary>The error function erf(x): float by polynomials (VectorMath.Erf, about 1.5 ulp), others by the double series.</summary>
public struct ErfOp<T> : IUnaryOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x) => VecT.IsF32<T>() ? T.CreateTruncating(VectorMath.Erf(float.CreateTruncating(x))) : T.CreateTruncating(ScalarMath.Erf(double.CreateTruncating(x)));
    public static Vector128<T> Invoke(Vector128<T> x) => VectorMath.Erf(x.AsSingle()).As<float, T>();
    public static Vector256<T> Invoke(Vector256<T> x) => VectorMath.Erf(x.AsSingle()).As<float, T>();
    public static Vector512<T> Invoke(Vector512<T> x) => VectorMath.Erf(x.AsSingle()).As<float, T>();
}

/// <summary>Gelu: x/2 * (1 + erf(x / sqrt 2)).</summary>
public struct GeluOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.CreateTruncating(ScalarMath.Gelu(double.CreateTruncating(x)));
}

/// <summary>tan x.</summary>
public struct TanOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Tan(x);
}

/// <summary>asin x.</summary>
public struct AsinOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Asin(x);
}

/// <summary>acos x.</summary>
public struct AcosOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Acos(x);
}

/// <summary>atan x.</summary>
public struct AtanOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Atan(x);
}

/// <summary>sinh x.</summary>
public struct SinhOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Sinh(x);
}

/// <summary>cosh x.</summary>
public struct CoshOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Cosh(x);
}

/// <summary>asinh x.</summary>
public struct AsinhOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Asinh(x);
}

/// <summary>acosh x.</summary>
public struct AcoshOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Acosh(x);
}

/// <summary>atanh x.</summary>
public struct AtanhOp<T> : IMapOp<T, T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static T Invoke(T x) => T.Atanh(x);
}

/// <summary>True where x is NaN.</summary>
public struct IsNaNOp<T> : IMapOp<T, bool> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T x) => T.IsNaN(x);
}

/// <summary>True where x is +inf or -inf.</summary>
public struct IsInfOp<T> : IMapOp<T, bool> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T x) => T.IsInfinity(x);
}

/// <summary>True where x is +inf.</summary>
public struct IsPosInfOp<T> : IMapOp<T, bool> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T x) => T.IsPositiveInfinity(x);
}

/// <summary>True where x is -inf.</summary>
public struct IsNegInfOp<T> : IMapOp<T, bool> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Invoke(T x) => T.IsNegativeInfinity(x);
}
