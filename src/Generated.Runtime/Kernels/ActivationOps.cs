using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

#pragma warning disable CS1591 // the operator structs are self-describing: each is the formula its summary gives

/// <summary>x >= 0 ? x : alpha x (beta unused).</summary>
public struct LeakyReluOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => x >= T.Zero ? x : alpha * x;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.ConditionalSelect(Vector128.GreaterThanOrEqual(x, Vector128<T>.Zero), x, x * alpha);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.ConditionalSelect(Vector256.GreaterThanOrEqual(x, Vector256<T>.Zero), x, x * alpha);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(x, Vector512<T>.Zero), x, x * alpha);
}

/// <summary>x > 0 ? x : alpha (e^x - 1) (beta unused).</summary>
public struct EluOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => x > T.Zero ? x : alpha * (T.Exp(x) - T.One);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, alpha * (VecT.Exp(x) - Vector128<T>.One));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, alpha * (VecT.Exp(x) - Vector256<T>.One));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, alpha * (VecT.Exp(x) - Vector512<T>.One));
}

/// <summary>gamma (x > 0 ? x : alpha e^x - alpha), with gamma passed as beta.</summary>
public struct SeluOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => x > T.Zero ? beta * x : beta * (alpha * T.Exp(x) - alpha);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => beta * Vector128.ConditionalSelect(Vector128.GreaterThan(x, Vector128<T>.Zero), x, alpha * VecT.Exp(x) - alpha);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => beta * Vector256.ConditionalSelect(Vector256.GreaterThan(x, Vector256<T>.Zero), x, alpha * VecT.Exp(x) - alpha);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => beta * Vector512.ConditionalSelect(Vector512.GreaterThan(x, Vector512<T>.Zero), x, alpha * VecT.Exp(x) - alpha);
}

/// <summary>max(0, x) + min(0, alpha (e^(x/alpha) - 1)) (beta unused).</summary>
public struct CeluOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => T.Max(T.Zero, x) + T.Min(T.Zero, alpha * (T.Exp(x / alpha) - T.One));
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.Max(Vector128<T>.Zero, x) + Vector128.Min(Vector128<T>.Zero, alpha * (VecT.Exp(x / alpha) - Vector128<T>.One));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.Max(Vector256<T>.Zero, x) + Vector256.Min(Vector256<T>.Zero, alpha * (VecT.Exp(x / alpha) - Vector256<T>.One));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.Max(Vector512<T>.Zero, x) + Vector512.Min(Vector512<T>.Zero, alpha * (VecT.Exp(x / alpha) - Vector512<T>.One));
}

/// <summary>max(0, min(1, alpha x + beta)).</summary>
public struct HardSigmoidOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => T.Max(T.Zero, T.Min(T.One, alpha * x + beta));
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.Max(Vector128<T>.Zero, Vector128.Min(Vector128<T>.One, alpha * x + beta));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.Max(Vector256<T>.Zero, Vector256.Min(Vector256<T>.One, alpha * x + beta));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.Max(Vector512<T>.Zero, Vector512.Min(Vector512<T>.One, alpha * x + beta));
}

/// <summary>x > alpha ? x : 0 (beta unused).</summary>
public struct ThresholdedReluOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>() || VecT.IsF64<T>();
    public static T Invoke(T x, T alpha, T beta) => x > alpha ? x : T.Zero;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.ConditionalSelect(Vector128.GreaterThan(x, alpha), x, Vector128<T>.Zero);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.ConditionalSelect(Vector256.GreaterThan(x, alpha), x, Vector256<T>.Zero);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.ConditionalSelect(Vector512.GreaterThan(x, alpha), x, Vector512<T>.Zero);
}

/// <summary>x &lt; -lambd ? x + bias : x &gt; lambd ? x - bias : 0, with lambd passed as alpha and bias as beta.</summary>
public struct ShrinkOp<T> : IUnaryParamOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T alpha, T beta) => x < -alpha ? x + beta : x > alpha ? x - beta : T.Zero;
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.ConditionalSelect(Vector128.LessThan(x, -alpha), x + beta, Vector128.ConditionalSelect(Vector128.GreaterThan(x, alpha), x - beta, Vector128<T>.Zero));
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.ConditionalSelect(Vector256.LessThan(x, -alpha), x + beta, Vector256.ConditionalSelect(Vector256.GreaterThan(x, alpha), x - beta, Vector256<T>.Zero));
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.ConditionalSelect(Vector512.LessThan(x, -alpha), x + beta, Vector512.ConditionalSelect(Vector512.GreaterThan(x, alpha), x - beta, Vector512<T>.Zero));
}

/// <summary>x sigmoid(alpha x) (beta unused).</summary>
public struct SwishOp<T> : IUnaryParamOp<T> where T : unmanaged, IFloatingPointIeee754<T>
{
    public static bool Vectorizable => VecT.IsF32<T>();
    public static T Invoke(T x, T alpha, T beta) => x / (T.One + T.Exp(-alpha * x));
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => x * VecT.Sigmoid(alpha * x);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => x * VecT.Sigmoid(alpha * x);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => x * VecT.Sigmoid(alpha * x);
}

/// <summary>min(max(x, lo), hi) with lo passed as alpha and hi as beta (NaN stays NaN).</summary>
public struct ClipOp<T> : IUnaryParamOp<T> where T : unmanaged, INumber<T>
{
    public static bool Vectorizable => true;
    public static T Invoke(T x, T alpha, T beta) => T.Min(T.Max(x, alpha), beta);
    public static Vector128<T> Invoke(Vector128<T> x, Vector128<T> alpha, Vector128<T> beta) => Vector128.Min(Vector128.Max(x, alpha), beta);
    public static Vector256<T> Invoke(Vector256<T> x, Vector256<T> alpha, Vector256<T> beta) => Vector256.Min(Vector256.Max(x, alpha), beta);
    public static Vector512<T> Invoke(Vector512<T> x, Vector512<T> alpha, Vector512<T> beta) => Vector512.Min(Vector512.Max(x, alpha), beta);
}
