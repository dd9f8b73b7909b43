using System.Numerics;
using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.Kernels;

/// <summary>Scalar helpers for operator structs whose formula is not a one-liner.</summary>
internal static class ScalarMath
{
    private const double TwoOverSqrtPi = 1.1283791670955126;

    /// <summary>
    /// erf(x) in double: the Maclaurin series 2/sqrt(pi) * sum (-1)^n x^(2n+1) / (n! (2n+1)) for |x| &lt; 3 (cancellation
    /// error below 1e-12 there), the continued fraction of erfc for 3 &lt;= |x| &lt; 6, and +-1 beyond (erfc(6) &lt; 3e-17).
    /// </summary>
    internal static double Erf(double x)
    {
        if (double.IsNaN(x)) return x;
        double ax = Math.Abs(x);
        if (ax >= 6) return Math.CopySign(1.0, x);
        if (ax < 3)
        {
            double x2 = x * x, term = x, sum = x;
            for (int n = 1; n < 80; n++)
            {
                term *= -x2 / n;
                double t = term / (2 * n + 1);
                sum += t;
                if (Math.Abs(t) < 1e-17 * Math.Abs(sum)) break;
            }
            return TwoOverSqrtPi * sum;
        }
        // erfc(x) = exp(-x^2)/sqrt(pi) * 1/(x + (1/2)/(x + 1/(x + (3/2)/(x + 2/(x + ...))))), evaluated bottom-up.
        double f = ax;
        for (int k = 60; k >= 1; k--) f = ax + k * 0.5 / f;
        double erfc = Math.Exp(-ax * ax) / (f * 1.7724538509055159);
        return Math.CopySign(1.0 - erfc, x);
    }

    /// <summary>Gelu with the exact erf: x/2 * (1 + erf(x / sqrt 2)).</summary>
    internal static double Gelu(double x) => 0.5 * x * (1.0 + Erf(x * 0.70710678118654752));

    /// <summary>a mod b with the sign of the divisor (Python's %); b == 0 follows the type's own % (throws for integers).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T FloorMod<T>(T a, T b) where T : INumber<T>
    {
        T r = a % b;
        if (r != T.Zero && (r < T.Zero) != (b < T.Zero)) r += b;
        return r;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T ShiftLeft<T>(T a, T b) where T : IBinaryInteger<T>
    {
        int bits = Unsafe.SizeOf<T>() * 8;
        return b < T.Zero || b >= T.CreateTruncating(bits) ? T.Zero : a << int.CreateTruncating(b);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static T ShiftRight<T>(T a, T b) where T : IBinaryInteger<T>
    {
        int bits = Unsafe.SizeOf<T>() * 8;
        return b < T.Zero || b >= T.CreateTruncating(bits) ? T.Zero : a >>> int.CreateTruncating(b);
    }

    private static bool IsFloat<T>() => typeof(T) == typeof(float) || typeof(T) == typeof(double) || typeof(T) == typeof(Half);

    /// <summary>a^b in a's type: exact repeated squaring for integer a and integer b &gt;= 0, otherwise Math.Pow in double.</summary>
    internal static TA Pow<TA, TB>(TA a, TB b) where TA : INumber<TA> where TB : INumber<TB>
    {
        if (!IsFloat<TA>() && !IsFloat<TB>() && b >= TB.Zero)
        {
            TA r = TA.One, p = a;
            ulong e = ulong.CreateTruncating(b);
            while (e != 0)
            {
                if ((e & 1) != 0) r *= p;
                p *= p;
                e >>= 1;
            }
            return r;
        }
        return TA.CreateTruncating(Math.Pow(double.CreateTruncating(a), double.CreateTruncating(b)));
    }
}
