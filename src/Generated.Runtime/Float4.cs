namespace Llmaot.Runtime;

/// <summary>
/// float4 E2M1 (ONNX opset 23+): S.EE.M with exponent bias 1, no infinities or NaN; magnitudes 0, 0.5, 1, 1.5, 2, 3, 4, 6.
/// Stored two per byte, element 2k in the low nibble. Encoding rounds to nearest even and always saturates to +-6
/// (infinities included). NaN has no encoding: it becomes 0x8 (-0), as the ONNX reference implementation and its
/// backend test data do (the float4 technical note lists 6; the test data is what ONNX Runtime is checked against).
/// </summary>
public static class Float4
{
    private static readonly double[] Magnitudes = [0, 0.5, 1, 1.5, 2, 3, 4, 6];

    /// <summary>Largest finite magnitude.</summary>
    public const double Max = 6;

    /// <summary>Encodes <paramref name="x"/> as a 4-bit code (0..15).</summary>
    public static byte Encode(double x)
    {
        if (double.IsNaN(x)) return 0x8;
        int sign = double.IsNegative(x) ? 0x8 : 0;
        double a = Math.Abs(x);
        if (a >= Max) return (byte)(sign | 0x7);
        // Quantum 0.5 below 2 (subnormals share the exponent-1 spacing), 1 in [2, 4), 2 in [4, 6].
        int e = a == 0 ? 0 : Math.Max(Math.ILogB(a), 0);
        double quantum = Math.ScaleB(1.0, e - 1);
        double q = Math.Min(Math.Round(a / quantum, MidpointRounding.ToEven) * quantum, Max);
        return (byte)(sign | Code(q));
    }

    private static int Code(double q) => q switch
    {
        0 => 0, 0.5 => 1, 1 => 2, 1.5 => 3, 2 => 4, 3 => 5, 4 => 6, _ => 7,
    };

    /// <summary>Decodes the 4-bit code in the low bits of <paramref name="code"/> exactly.</summary>
    public static double Decode(int code)
    {
        double v = Magnitudes[code & 7];
        return (code & 0x8) != 0 ? -v : v;
    }

    /// <summary>Reads element <paramref name="i"/> of packed float4 storage.</summary>
    public static unsafe double Load(byte* p, long i) => Decode(p[i >> 1] >> (int)(4 * (i & 1)));

    /// <summary>Writes the 4-bit code <paramref name="code"/> as element <paramref name="i"/> of packed float4 storage.</summary>
    public static unsafe void Store(byte* p, long i, int code)
    {
        int shift = (int)(4 * (i & 1));
        p[i >> 1] = (byte)((p[i >> 1] & ~(0xF << shift)) | ((code & 0xF) << shift));
    }
}
