using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

#pragma warning disable CS1591 // the operator structs are self-describing: each is the formula its summary gives

/// <summary>max(a, b); NaN propagates.</summary>
public struct MaxOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => T.Max(a, b);
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.Max(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.Max(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.Max(a, b);
}

/// <summary>min(a, b); NaN propagates.</summary>
public struct MinOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => T.Min(a, b);
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.Min(a, b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.Min(a, b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.Min(a, b);
}

/// <summary>a &amp; b (also logical And on bools stored as bytes).</summary>
public struct BitAndOp<T> : IBinaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a & b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a & b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a & b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a & b;
}

/// <summary>a | b (also logical Or on bools stored as bytes).</summary>
public struct BitOrOp<T> : IBinaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a | b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a | b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a | b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a | b;
}

/// <summary>a ^ b (also logical Xor on bools stored as bytes).</summary>
public struct BitXorOp<T> : IBinaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a ^ b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a ^ b;
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a ^ b;
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a ^ b;
}

/// <summary>PRelu: a &gt;= 0 ? a : a * slope.</summary>
public struct PReluOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T a, T b) => a >= T.Zero ? a : a * b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(a, Vector128<T>.Zero), a, a * b);
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(a, Vector256<T>.Zero), a, a * b);
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(a, Vector512<T>.Zero), a, a * b);
}

/// <summary>C fmod: the remainder has the sign of the dividend (integers truncate).</summary>
public struct FModOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => false;
    public static T Invoke(T a, T b) => a % b;
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a; // scalar only (Vectorizable is false): never called
}

/// <summary>Integer modulo with the sign of the divisor (Python's a % b).</summary>
public struct ModOp<T> : IBinaryOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => false;
    public static T Invoke(T a, T b) => ScalarMath.FloorMod(a, b);
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a; // scalar only (Vectorizable is false): never called
}

/// <summary>a &lt;&lt; b; shifts of the bit width or more give 0.</summary>
public struct ShiftLeftOp<T> : IBinaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => false;
    public static T Invoke(T a, T b) => ScalarMath.ShiftLeft(a, b);
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a; // scalar only (Vectorizable is false): never called
}

/// <summary>a &gt;&gt; b (logical for unsigned types); shifts of the bit width or more give 0.</summary>
public struct ShiftRightOp<T> : IBinaryOp<T> where T : unmanaged, IBinaryInteger<T>
{
    public static bool Vectorizable => false;
    public static T Invoke(T a, T b) => ScalarMath.ShiftRight(a, b);
    public static Vector128<T> Invoke(Vector128<T> a, Vector128<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector256<T> Invoke(Vector256<T> a, Vector256<T> b) => a; // scalar only (Vectorizable is false): never called
    public static Vector512<T> Invoke(Vector512<T> a, Vector512<T> b) => a; // scalar only (Vectorizable is false): never called
}

/// <summary>a &lt; b, as bool.</summary>
public struct LessOp<T> : IZipOp<T, T, bool> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a < b;
}

/// <summary>a &lt;= b, as bool.</summary>
public struct LessOrEqualOp<T> : IZipOp<T, T, bool> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a <= b;
}

/// <summary>a &gt; b, as bool.</summary>
public struct GreaterOp<T> : IZipOp<T, T, bool> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a > b;
}

/// <summary>a &gt;= b, as bool.</summary>
public struct GreaterOrEqualOp<T> : IZipOp<T, T, bool> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a >= b;
}

/// <summary>a == b, as bool.</summary>
public struct EqualOp<T> : IZipOp<T, T, bool> where T : unmanaged, INumber<T>
{
    public static bool Invoke(T a, T b) => a == b;
}

/// <summary>Pow: a^b with the base's type; integer powers of integers are exact, everything else goes through double.</summary>
public struct PowOp<TA, TB> : IZipOp<TA, TB, TA> where TA : unmanaged, INumber<TA> where TB : unmanaged, INumber<TB>
{
    public static TA Invoke(TA a, TB b) => ScalarMath.Pow(a, b);
}
