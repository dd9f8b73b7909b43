namespace Llmaot.Runtime;

/// <summary>
/// The 8-bit float formats of ONNX (opset 19+), stored as bytes: E4M3FN (bias 7, no infinities, NaN S.1111.111,
/// max 448), E4M3FNUZ (bias 8, NaN 0x80 only, no -0, max 240), E5M2 (bias 15, IEEE-like with infinities, max 57344) and
/// E5M2FNUZ (bias 16, NaN 0x80 only, no -0, max 57344). Encoding rounds to nearest even; out-of-range values saturate
/// to +-max when <c>saturate</c> is set, else become infinity (E5M2) or NaN (the others).
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

    /// <summary>True for the four float8 types this class encodes.</summary>
    public static bool Is(ElementType t) => t is ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ;

    private static double Max(in Format f)
    {
        // E4M3FN: the all-ones pattern is NaN, so the top mantissa is 110; E5M2: exponent 11111 is inf/NaN;
        // the FNUZ formats use every pattern except 0x80.
        int topExp = (1 << f.ExpBits) - 1 - (f.HasInf ? 1 : 0);
        int topMan = (1 << f.ManBits) - 1 - (!f.HasInf && !f.Uz ? 1 : 0);
        return (1 + topMan / (double)(1 << f.ManBits)) * Math.Pow(2, topExp - f.Bias);
    }

    private static byte Nan(in Format f) => f.Uz ? (byte)0x80 : (byte)0x7F;

    /// <summary>Encodes <paramref name="x"/> in format <paramref name="t"/>.</summary>
    public static byte Encode(double x, ElementType t, bool saturate)
    {
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

    /// <summary>Decodes one float8 byte of format <paramref name="t"/> exactly.</summary>
    public static double Decode(byte b, ElementType t)
    {
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
