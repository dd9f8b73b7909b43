using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Vector math generic over T for operator structs: dispatches to the float or double implementation. Callers
/// guard with <see cref="IsF32{T}"/> / <see cref="IsF64{T}"/> (via their <c>Vectorizable</c>); the JIT folds the type tests.
/// </summary>
internal static class VecT
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsF32<T>() => typeof(T) == typeof(float);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static bool IsF64<T>() => typeof(T) == typeof(double);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Exp<T>(Vector128<T> x) => IsF32<T>() ? VectorMath.Exp(x.AsSingle()).As<float, T>() : Vector128.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Log<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Log(x.AsSingle()).As<float, T>() : Vector128.Log(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Sin<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Sin(x.AsSingle()).As<float, T>() : Vector128.Sin(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Cos<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Cos(x.AsSingle()).As<float, T>() : Vector128.Cos(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Floor<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Floor(x.AsSingle()).As<float, T>() : Vector128.Floor(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Ceiling<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Ceiling(x.AsSingle()).As<float, T>() : Vector128.Ceiling(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Round<T>(Vector128<T> x) => IsF32<T>() ? Vector128.Round(x.AsSingle()).As<float, T>() : Vector128.Round(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Tanh<T>(Vector128<T> x) => VectorMath.Tanh(x.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<T> Sigmoid<T>(Vector128<T> x) => VectorMath.Sigmoid(x.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Exp<T>(Vector256<T> x) => IsF32<T>() ? VectorMath.Exp(x.AsSingle()).As<float, T>() : Vector256.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Log<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Log(x.AsSingle()).As<float, T>() : Vector256.Log(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Sin<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Sin(x.AsSingle()).As<float, T>() : Vector256.Sin(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Cos<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Cos(x.AsSingle()).As<float, T>() : Vector256.Cos(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Floor<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Floor(x.AsSingle()).As<float, T>() : Vector256.Floor(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Ceiling<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Ceiling(x.AsSingle()).As<float, T>() : Vector256.Ceiling(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Round<T>(Vector256<T> x) => IsF32<T>() ? Vector256.Round(x.AsSingle()).As<float, T>() : Vector256.Round(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Tanh<T>(Vector256<T> x) => VectorMath.Tanh(x.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<T> Sigmoid<T>(Vector256<T> x) => VectorMath.Sigmoid(x.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Exp<T>(Vector512<T> x) => IsF32<T>() ? VectorMath.Exp(x.AsSingle()).As<float, T>() : Vector512.Exp(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Log<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Log(x.AsSingle()).As<float, T>() : Vector512.Log(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Sin<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Sin(x.AsSingle()).As<float, T>() : Vector512.Sin(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Cos<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Cos(x.AsSingle()).As<float, T>() : Vector512.Cos(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Floor<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Floor(x.AsSingle()).As<float, T>() : Vector512.Floor(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Ceiling<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Ceiling(x.AsSingle()).As<float, T>() : Vector512.Ceiling(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Round<T>(Vector512<T> x) => IsF32<T>() ? Vector512.Round(x.AsSingle()).As<float, T>() : Vector512.Round(x.AsDouble()).As<double, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Tanh<T>(Vector512<T> x) => VectorMath.Tanh(x.AsSingle()).As<float, T>();

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<T> Sigmoid<T>(Vector512<T> x) => VectorMath.Sigmoid(x.AsSingle()).As<float, T>();
}
