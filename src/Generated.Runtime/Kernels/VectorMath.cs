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

    // erf: |x| < 1: x * A(x^2) (degree 6); 1 <= |x| < 3.92: B(t), t = |x| * ErfS + ErfO in [-1, 1] (degree 12);
    // beyond, +-1 (erfc(3.92) < 6e-9). Chebyshev fits of erf computed for this file; max error about 1.5 ulp.
    private const float ErfSplit = 1f, ErfOne = 3.92f, ErfS = 6.849315166e-01f, ErfO = -1.684931517e+00f;
    private const float A0 = 1.128379107e+00f, A1 = -3.761262596e-01f, A2 = 1.128359437e-01f, A3 = -2.685421146e-02f,
        A4 = 5.189087242e-03f, A5 = -8.016864303e-04f, A6 = 7.875874871e-05f;
    private const float B0 = 9.994966388e-01f, B1 = 3.877989482e-03f, B2 = -1.392967533e-02f, B3 = 3.060258366e-02f,
        B4 = -4.502784461e-02f, B5 = 4.508956522e-02f, B6 = -2.860312536e-02f, B7 = 6.545546465e-03f, B8 = 7.880931720e-03f,
        B9 = -9.102396667e-03f, B10 = 2.448028186e-03f, B11 = 1.636310131e-03f, B12 = -9.146298980e-04f;

    // exp flushing results below float.MinNormal to 0 (see ExpFlushed).
    private const float ExpNormalLo = -87.3365402f;

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

    /// <summary>erf(x) by the same polynomials as the vector paths (scalar reference and tails).</summary>
    internal static float Erf(float x)
    {
        float a = MathF.Abs(x);
        if (a < ErfSplit)
        {
            float u = x * x;
            float p = MathF.FusedMultiplyAdd(A6, u, A5);
            p = MathF.FusedMultiplyAdd(p, u, A4);
            p = MathF.FusedMultiplyAdd(p, u, A3);
            p = MathF.FusedMultiplyAdd(p, u, A2);
            p = MathF.FusedMultiplyAdd(p, u, A1);
            p = MathF.FusedMultiplyAdd(p, u, A0);
            return x * p;
        }
        if (!(a < ErfOne)) return float.IsNaN(x) ? x : MathF.CopySign(1f, x);
        float t = MathF.FusedMultiplyAdd(a, ErfS, ErfO);
        float q = MathF.FusedMultiplyAdd(B12, t, B11);
        q = MathF.FusedMultiplyAdd(q, t, B10);
        q = MathF.FusedMultiplyAdd(q, t, B9);
        q = MathF.FusedMultiplyAdd(q, t, B8);
        q = MathF.FusedMultiplyAdd(q, t, B7);
        q = MathF.FusedMultiplyAdd(q, t, B6);
        q = MathF.FusedMultiplyAdd(q, t, B5);
        q = MathF.FusedMultiplyAdd(q, t, B4);
        q = MathF.FusedMultiplyAdd(q, t, B3);
        q = MathF.FusedMultiplyAdd(q, t, B2);
        q = MathF.FusedMultiplyAdd(q, t, B1);
        q = MathF.FusedMultiplyAdd(q, t, B0);
        return MathF.CopySign(q, x);
    }

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
    /// <summary>erf(x), see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> Erf(Vector128<float> x)
    {
        var a = Vector128.Abs(x);
        var u = x * x;
        var p = Vector128.MultiplyAddEstimate(Vector128.Create(A6), u, Vector128.Create(A5));
        p = Vector128.MultiplyAddEstimate(p, u, Vector128.Create(A4));
        p = Vector128.MultiplyAddEstimate(p, u, Vector128.Create(A3));
        p = Vector128.MultiplyAddEstimate(p, u, Vector128.Create(A2));
        p = Vector128.MultiplyAddEstimate(p, u, Vector128.Create(A1));
        p = Vector128.MultiplyAddEstimate(p, u, Vector128.Create(A0));
        var small = x * p;
        var t = Vector128.MultiplyAddEstimate(Vector128.Min(a, Vector128.Create(ErfOne)), Vector128.Create(ErfS), Vector128.Create(ErfO));
        var q = Vector128.MultiplyAddEstimate(Vector128.Create(B12), t, Vector128.Create(B11));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B10));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B9));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B8));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B7));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B6));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B5));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B4));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B3));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B2));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B1));
        q = Vector128.MultiplyAddEstimate(q, t, Vector128.Create(B0));
        q = Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(ErfOne)), q, Vector128<float>.One);
        var large = Vector128.CopySign(q, x);
        // NaN: a < ErfSplit is false, so it takes large; keep x itself.
        large = Vector128.ConditionalSelect(Vector128.Equals(x, x), large, x);
        return Vector128.ConditionalSelect(Vector128.LessThan(a, Vector128.Create(ErfSplit)), small, large);
    }

    /// <summary>
    /// exp(x) with results below float.MinNormal (x &lt; -87.3365) flushed to +0, so no denormal ever reaches a
    /// multiply (which costs a microcode assist per lane on x86). For callers that normalize or sum the result (softmax).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector128<float> ExpFlushed(Vector128<float> x)
    {
        var y = Exp(Vector128.Max(x, Vector128.Create(ExpNormalLo)));
        return Vector128.ConditionalSelect(Vector128.LessThan(x, Vector128.Create(ExpNormalLo)), Vector128<float>.Zero, y);
    }

    /// <summary>erf(x), see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Erf(Vector256<float> x)
    {
        var a = Vector256.Abs(x);
        var u = x * x;
        var p = Vector256.MultiplyAddEstimate(Vector256.Create(A6), u, Vector256.Create(A5));
        p = Vector256.MultiplyAddEstimate(p, u, Vector256.Create(A4));
        p = Vector256.MultiplyAddEstimate(p, u, Vector256.Create(A3));
        p = Vector256.MultiplyAddEstimate(p, u, Vector256.Create(A2));
        p = Vector256.MultiplyAddEstimate(p, u, Vector256.Create(A1));
        p = Vector256.MultiplyAddEstimate(p, u, Vector256.Create(A0));
        var small = x * p;
        var t = Vector256.MultiplyAddEstimate(Vector256.Min(a, Vector256.Create(ErfOne)), Vector256.Create(ErfS), Vector256.Create(ErfO));
        var q = Vector256.MultiplyAddEstimate(Vector256.Create(B12), t, Vector256.Create(B11));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B10));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B9));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B8));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B7));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B6));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B5));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B4));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B3));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B2));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B1));
        q = Vector256.MultiplyAddEstimate(q, t, Vector256.Create(B0));
        q = Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(ErfOne)), q, Vector256<float>.One);
        var large = Vector256.CopySign(q, x);
        // NaN: a < ErfSplit is false, so it takes large; keep x itself.
        large = Vector256.ConditionalSelect(Vector256.Equals(x, x), large, x);
        return Vector256.ConditionalSelect(Vector256.LessThan(a, Vector256.Create(ErfSplit)), small, large);
    }

    /// <summary>
    /// exp(x) with results below float.MinNormal (x &lt; -87.3365) flushed to +0, so no denormal ever reaches a
    /// multiply (which costs a microcode assist per lane on x86). For callers that normalize or sum the result (softmax).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> ExpFlushed(Vector256<float> x)
    {
        var y = Exp(Vector256.Max(x, Vector256.Create(ExpNormalLo)));
        return Vector256.ConditionalSelect(Vector256.LessThan(x, Vector256.Create(ExpNormalLo)), Vector256<float>.Zero, y);
    }

    /// <summary>erf(x), see <see cref="Erf(float)"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Erf(Vector512<float> x)
    {
        var a = Vector512.Abs(x);
        var u = x * x;
        var p = Vector512.MultiplyAddEstimate(Vector512.Create(A6), u, Vector512.Create(A5));
        p = Vector512.MultiplyAddEstimate(p, u, Vector512.Create(A4));
        p = Vector512.MultiplyAddEstimate(p, u, Vector512.Create(A3));
        p = Vector512.MultiplyAddEstimate(p, u, Vector512.Create(A2));
        p = Vector512.MultiplyAddEstimate(p, u, Vector512.Create(A1));
        p = Vector512.MultiplyAddEstimate(p, u, Vector512.Create(A0));
        var small = x * p;
        var t = Vector512.MultiplyAddEstimate(Vector512.Min(a, Vector512.Create(ErfOne)), Vector512.Create(ErfS), Vector512.Create(ErfO));
        var q = Vector512.MultiplyAddEstimate(Vector512.Create(B12), t, Vector512.Create(B11));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B10));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B9));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B8));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B7));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B6));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B5));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B4));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B3));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B2));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B1));
        q = Vector512.MultiplyAddEstimate(q, t, Vector512.Create(B0));
        q = Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(ErfOne)), q, Vector512<float>.One);
        var large = Vector512.CopySign(q, x);
        // NaN: a < ErfSplit is false, so it takes large; keep x itself.
        large = Vector512.ConditionalSelect(Vector512.Equals(x, x), large, x);
        return Vector512.ConditionalSelect(Vector512.LessThan(a, Vector512.Create(ErfSplit)), small, large);
    }

    /// <summary>
    /// exp(x) with results below float.MinNormal (x &lt; -87.3365) flushed to +0, so no denormal ever reaches a
    /// multiply (which costs a microcode assist per lane on x86). For callers that normalize or sum the result (softmax).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> ExpFlushed(Vector512<float> x)
    {
        var y = Exp(Vector512.Max(x, Vector512.Create(ExpNormalLo)));
        return Vector512.ConditionalSelect(Vector512.LessThan(x, Vector512.Create(ExpNormalLo)), Vector512<float>.Zero, y);
    }
}
