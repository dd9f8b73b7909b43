namespace Llmaot.Runtime;

/// <summary>How a cast to float8 E8M0 rounds a value that is not a power of two (ONNX Cast <c>round_mode</c>).</summary>
public enum E8M0Rounding
{
    /// <summary>"up": the next power of two away from zero (the ONNX default).</summary>
    Up,
    /// <summary>"down": the power of two below (toward zero).</summary>
    Down,
    /// <summary>"nearest": the nearer power of two in the mantissa sense, ties (mantissa 1.5) going up.</summary>
    Nearest,
}

/// <summary>
/// The 8-bit float formats of ONNX (opset 19+), stored as bytes: E4M3FN (bias 7, no infinities, NaN S.1111.111,
/// max 448), E4M3FNUZ (bias 8, NaN 0x80 only, no -0, max 240), E5M2 (bias 15, IEEE-like with infinities, max 57344) and
/// E5M2FNUZ (bias 16, NaN 0x80 only, no -0, max 57344). Encoding rounds to nearest even; out-of-range values saturate
/// to +-max when <c>saturate</c> is set, else become infinity (E5M2) or NaN (the others).
/// E8M0 (opset 24+, the MX scale type) is an unsigned power of two 2^(b - 127) for b in 0..254, 0xFF is NaN; encoding
/// rounds by <see cref="E8M0Rounding"/>, and out-of-range values (0 included) saturate to 2^-127 / 2^127 or become NaN.
/// </summary>
public static class Float8
{
    private readonly record struct Format(int ExpBits, int ManBits, int Bias, bool HasInf, bool Uz);

    private static Format Of(ElementType t) => t switch
    {
        ElementType.Float8E4M3FN => new(4, 3, 7, false, false),
        ElementType.Float8E4M3FNUZ => new(4, 3, 8, false, true),
        ElementType.Float8E5M2 => new(5, 2, 15, true, false),
        ElementType.Float8E5M2FNUZ => new(5, 2, 16, false, true),
        _ => throw new ArgumentOutOfRangeException(nameof(t), t, "not a float8 type"),
    };

    /// <summary>True for the five float8 types this class encodes (E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ, E8M0).</summary>
    public static bool Is(ElementType t) => t is ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0;

    private static double Max(in Format f)
    {
        // E4M3FN: the all-ones pattern is NaN, so the top mantissa is 110; E5M2: exponent 11111 is inf/NaN;
        // the FNUZ formats use every pattern except 0x80.
        int topExp = (1 << f.ExpBits) - 1 - (f.HasInf ? 1 : 0);
        int topMan = (1 << f.ManBits) - 1 - (!f.HasInf && !f.Uz ? 1 : 0);
        return (1 + topMan / (double)(1 << f.ManBits)) * Math.Pow(2, topExp - f.Bias);
    }

    private static byte Nan(in Format f) => f.Uz ? (byte)0x80 : (byte)0x7F;

    /// <summary>Encodes <paramref name="x"/> in format <paramref name="t"/> (<paramref name="round"/> applies to E8M0 only).</summary>
    public static byte Encode(double x, ElementType t, bool saturate, E8M0Rounding round = E8M0Rounding.Up)
    {
        if (t == ElementType.Float8E8M0) return EncodeE8M0(x, saturate, round);
        var f = Of(t);
        if (double.IsNaN(x)) return Nan(f);
        int sign = double.IsNegative(x) ? 0x80 : 0;
        double a = Math.Abs(x), max = Max(f);
        byte Big()
        {
            if (saturate) return (byte)(sign | EncodeMagnitude(max, f));
            if (f.HasInf) return (byte)(sign | (((1 << f.ExpBits) - 1) << f.ManBits));
            return Nan(f);
        }
        if (double.IsInfinity(a)) return Big();
        int minExp = 1 - f.Bias;
        int e = a == 0 ? minExp : Math.Max(Math.ILogB(a), minExp);
        double quantum = Math.ScaleB(1.0, e - f.ManBits);
        double q = Math.Round(a / quantum, MidpointRounding.ToEven) * quantum;
        if (q > max) return Big();
        if (q == 0) return f.Uz ? (byte)0 : (byte)sign;
        return (byte)(sign | EncodeMagnitude(q, f));
    }

    private static int EncodeMagnitude(double q, in Format f)
    {
        int minExp = 1 - f.Bias;
        int e = Math.ILogB(q);
        if (e < minExp) return (int)(q / Math.ScaleB(1.0, minExp - f.ManBits)); // subnormal
        int mant = (int)(q / Math.ScaleB(1.0, e - f.ManBits)) - (1 << f.ManBits);
        return ((e + f.Bias) << f.ManBits) | mant;
    }

    /// <summary>
    /// E8M0 from |x| (the format has no sign; ONNX leaves negative inputs unspecified): NaN is 0xFF; 2^k stays exact;
    /// otherwise rounds per <paramref name="round"/>. Results above 2^127 (and infinity) saturate to 0xFE or become NaN;
    /// below 2^-127 (and 0) they saturate to 0x00 or become NaN, except that rounding up never underflows.
    /// </summary>
    public static byte EncodeE8M0(double x, bool saturate, E8M0Rounding round)
    {
        const byte nan = 0xFF;
        if (double.IsNaN(x)) return nan;
        double a = Math.Abs(x);
        if (double.IsInfinity(a)) return saturate ? (byte)0xFE : nan;
        if (a == 0) return saturate ? (byte)0 : nan;
        int e = Math.ILogB(a);
        double m = Math.ScaleB(a, -e); // in [1, 2)
        if (round == E8M0Rounding.Up && m > 1 || round == E8M0Rounding.Nearest && m >= 1.5) e++;
        if (e > 127) return saturate ? (byte)0xFE : nan;
        if (e < -127) return saturate || round == E8M0Rounding.Up ? (byte)0 : nan;
        return (byte)(e + 127);
    }

    /// <summary>Decodes one float8 byte of format <paramref name="t"/> exactly.</summary>
    public static double Decode(byte b, ElementType t)
    {
        if (t == ElementType.Float8E8M0) return b == 0xFF ? double.NaN : Math.ScaleB(1.0, b - 127);
        var f = Of(t);
        if (f.Uz && b == 0x80) return double.NaN;
        bool neg = (b & 0x80) != 0;
        int exp = (b >> f.ManBits) & ((1 << f.ExpBits) - 1);
        int mant = b & ((1 << f.ManBits) - 1);
        double v;
        if (f.HasInf && exp == (1 << f.ExpBits) - 1) v = mant == 0 ? double.PositiveInfinity : double.NaN;
        else if (!f.HasInf && !f.Uz && exp == (1 << f.ExpBits) - 1 && mant == (1 << f.ManBits) - 1) v = double.NaN;
        else if (exp == 0) v = mant * Math.ScaleB(1.0, 1 - f.Bias - f.ManBits);
        else v = (1 + mant / (double)(1 << f.ManBits)) * Math.ScaleB(1.0, exp - f.Bias);
        return neg ? -v : v;
    }
}
