using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Vectorized transcendental functions for float (Cephes-style polynomials with range reduction).
/// Exp: exp(x) = 2^n * e^r, n = round(x*log2(e)), r = x - n*ln2 (two-part ln2), degree-7 polynomial;
/// overflow gives +inf, underflow gives denormals / 0, NaN propagates. About 1-2 ulp.
/// </summary>
internal static class VectorMath
{
    private const float ExpHi = 89.0f;        // exp(x) overflows to +inf above ~88.7228
    private const float ExpLo = -104.0f;      // exp(x) underflows to 0 below ~-103.97
    private const float Log2E = 1.44269504088896341f;
    private const float C1 = 0.693359375f;
    private const float C2 = -2.12194440e-4f;
    private const float P0 = 1.9875691500E-4f;
    private const float P1 = 1.3981999507E-3f;
    private const float P2 = 8.3334519073E-3f;
    private const float P3 = 4.1665795894E-2f;
    private const float P4 = 1.6666665459E-1f;
    private const float P5 = 5.0000001201E-1f;

    private const float TanhSmall = 0.625f;
    private const float T0 = -5.70498872745E-3f;
    private const float T1 = 2.06390887954E-2f;
    private const float T2 = -5.37397155531E-2f;
    private const float T3 = 1.33314422036E-1f;
    private const float T4 = -3.33332819422E-1f;

    // ---------------- scalar ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Exp(float x) => MathF.Exp(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Tanh(float x) => MathF.Tanh(x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Sigmoid(float x) => 1f / (1f + MathF.Exp(-x));

    // ---------------- Vector128 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Exp(Vector128<float> x)
    {
        var xc = Vector128.MinNative(Vector128.MaxNative(x, Vector128.Create(ExpLo)), Vector128.Create(ExpHi));
        var fx = Vector128.Round(xc * Log2E);
        var r = Vector128.MultiplyAddEstimate(fx, Vector128.Create(-C1), xc);
        r = Vector128.MultiplyAddEstimate(fx, Vector128.Create(-C2), r);
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(P0), r, Vector128.Create(P1));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P2));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P3));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P4));
        p = Vector128.MultiplyAddEstimate(p, r, Vector128.Create(P5));
        var y = Vector128.MultiplyAddEstimate(p, r * r, r) + Vector128<float>.One;
        var n = Vector128.ConvertToInt32(fx);
        var n1 = Vector128.ShiftRightArithmetic(n, 1);
        var n2 = n - n1;
        var s1 = Vector128.ShiftLeft(n1 + Vector128.Create(127), 23).AsSingle();
        var s2 = Vector128.ShiftLeft(n2 + Vector128.Create(127), 23).AsSingle();
        y = y * s1 * s2;
        return Vector128.ConditionalSelect(Vector128.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Sigmoid(Vector128<float> x)
        => Vector128<float>.One / (Vector128<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Tanh(Vector128<float> x)
    {
        var ax = Vector128.Abs(x);
        var e = Exp(ax + ax);
        var large = Vector128<float>.One - Vector128.Create(2f) / (e + Vector128<float>.One);
        large = Vector128.CopySign(large, x);
        var z = x * x;
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(T0), z, Vector128.Create(T1));
        p = Vector128.MultiplyAddEstimate(p, z, Vector128.Create(T2));
        p = Vector128.MultiplyAddEstimate(p, z, Vector128.Create(T3));
        p = Vector128.MultiplyAddEstimate(p, z, Vector128.Create(T4));
        var small = Vector128.MultiplyAddEstimate(p * z, x, x);
        return Vector128.ConditionalSelect(Vector128.LessThan(ax, Vector128.Create(TanhSmall)), small, large);
    }

    // ---------------- Vector256 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Exp(Vector256<float> x)
    {
        var xc = Vector256.MinNative(Vector256.MaxNative(x, Vector256.Create(ExpLo)), Vector256.Create(ExpHi));
        var fx = Vector256.Round(xc * Log2E);
        var r = Vector256.MultiplyAddEstimate(fx, Vector256.Create(-C1), xc);
        r = Vector256.MultiplyAddEstimate(fx, Vector256.Create(-C2), r);
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(P0), r, Vector256.Create(P1));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P2));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P3));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P4));
        p = Vector256.MultiplyAddEstimate(p, r, Vector256.Create(P5));
        var y = Vector256.MultiplyAddEstimate(p, r * r, r) + Vector256<float>.One;
        var n = Vector256.ConvertToInt32(fx);
        var n1 = Vector256.ShiftRightArithmetic(n, 1);
        var n2 = n - n1;
        var s1 = Vector256.ShiftLeft(n1 + Vector256.Create(127), 23).AsSingle();
        var s2 = Vector256.ShiftLeft(n2 + Vector256.Create(127), 23).AsSingle();
        y = y * s1 * s2;
        return Vector256.ConditionalSelect(Vector256.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Sigmoid(Vector256<float> x)
        => Vector256<float>.One / (Vector256<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Tanh(Vector256<float> x)
    {
        var ax = Vector256.Abs(x);
        var e = Exp(ax + ax);
        var large = Vector256<float>.One - Vector256.Create(2f) / (e + Vector256<float>.One);
        large = Vector256.CopySign(large, x);
        var z = x * x;
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(T0), z, Vector256.Create(T1));
        p = Vector256.MultiplyAddEstimate(p, z, Vector256.Create(T2));
        p = Vector256.MultiplyAddEstimate(p, z, Vector256.Create(T3));
        p = Vector256.MultiplyAddEstimate(p, z, Vector256.Create(T4));
        var small = Vector256.MultiplyAddEstimate(p * z, x, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(ax, Vector256.Create(TanhSmall)), small, large);
    }

    // ---------------- Vector512 ----------------

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Exp(Vector512<float> x)
    {
        var xc = Vector512.MinNative(Vector512.MaxNative(x, Vector512.Create(ExpLo)), Vector512.Create(ExpHi));
        var fx = Vector512.Round(xc * Log2E);
        var r = Vector512.MultiplyAddEstimate(fx, Vector512.Create(-C1), xc);
        r = Vector512.MultiplyAddEstimate(fx, Vector512.Create(-C2), r);
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(P0), r, Vector512.Create(P1));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P2));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P3));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P4));
        p = Vector512.MultiplyAddEstimate(p, r, Vector512.Create(P5));
        var y = Vector512.MultiplyAddEstimate(p, r * r, r) + Vector512<float>.One;
        var n = Vector512.ConvertToInt32(fx);
        var n1 = Vector512.ShiftRightArithmetic(n, 1);
        var n2 = n - n1;
        var s1 = Vector512.ShiftLeft(n1 + Vector512.Create(127), 23).AsSingle();
        var s2 = Vector512.ShiftLeft(n2 + Vector512.Create(127), 23).AsSingle();
        y = y * s1 * s2;
        return Vector512.ConditionalSelect(Vector512.Equals(x, x), y, x);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Sigmoid(Vector512<float> x)
        => Vector512<float>.One / (Vector512<float>.One + Exp(-x));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Tanh(Vector512<float> x)
    {
        var ax = Vector512.Abs(x);
        var e = Exp(ax + ax);
        var large = Vector512<float>.One - Vector512.Create(2f) / (e + Vector512<float>.One);
        large = Vector512.CopySign(large, x);
        var z = x * x;
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(T0), z, Vector512.Create(T1));
        p = Vector512.MultiplyAddEstimate(p, z, Vector512.Create(T2));
        p = Vector512.MultiplyAddEstimate(p, z, Vector512.Create(T3));
        p = Vector512.MultiplyAddEstimate(p, z, Vector512.Create(T4));
        var small = Vector512.MultiplyAddEstimate(p * z, x, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(ax, Vector512.Create(TanhSmall)), small, large);
    }
}
