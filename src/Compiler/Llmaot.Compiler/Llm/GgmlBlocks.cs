using System.Buffers.Binary;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>
/// GGUF tensor formats that have no decoder kernel of their own, widened to float at build time so the emitter can pack them
/// in a format it runs (<see cref="LlmEmitter"/>: Q8_0 for matrices, or --quantize's target). Layouts (ggml, little endian,
/// fp16 scales):
/// <list type="bullet">
/// <item>Q4_1 (20 bytes / 32): d, m, 16 bytes of nibbles; x = d·q + m, low nibbles are elements 0-15, high 16-31.</item>
/// <item>Q5_0 (22 bytes / 32): d, 4 bytes of fifth bits (bit j for element j), 16 bytes of nibbles; x = d·(q - 16).</item>
/// <item>Q5_1 (24 bytes / 32): d, m, fifth bits, nibbles; x = d·q + m.</item>
/// <item>Q4_K (144 bytes / 256): d, dmin, 12 bytes of 6-bit scales and mins for 8 sub-blocks of 32, 128 bytes of nibbles;
/// each 64 elements take 32 bytes, low nibbles the first sub-block, high the second; x = d·sc·q - dmin·m.</item>
/// <item>Q5_K (176 bytes / 256): d, dmin, scales as Q4_K, 32 bytes of fifth bits (bit 2j / 2j + 1 of byte l for elements
/// l of the 64-element chunk j's two sub-blocks), 128 bytes of nibbles.</item>
/// <item>Q6_K (210 bytes / 256): 128 bytes of low 4 bits, 64 bytes of high 2 bits, 16 int8 scales (one per 16 elements), d
/// last; per 128 elements, four groups of 32 from the low/high nibbles of two 32-byte runs and 2-bit fields of one; q - 32.</item>
/// <item>BF16: the upper half of a float32.</item>
/// </list>
/// Tests compare every format against ggml's own quantizer (llama.cpp's library, test-only).
/// </summary>
public static class GgmlBlocks
{
    /// <summary>True for the formats <see cref="ToFloat"/> widens.</summary>
    public static bool Widens(ElementType t) =>
        t is ElementType.Q4_1 or ElementType.Q5_0 or ElementType.Q5_1 or ElementType.Q4_K or ElementType.Q5_K or ElementType.Q6_K or ElementType.BFloat16;

    /// <summary>The <paramref name="count"/> elements of <paramref name="data"/> (format <paramref name="type"/>) as float.</summary>
    public static float[] ToFloat(ElementType type, ReadOnlySpan<byte> data, long count)
    {
        var y = new float[count];
        int block = ElementTypes.BlockSize(type);
        int bytes = ElementTypes.BlockBytes(type);
        if (count % block != 0 || data.Length < count / block * bytes)
            throw new InvalidDataException($"{ElementTypes.Name(type)}: {count} elements do not fill whole blocks of {block} in {data.Length} bytes");
        for (long b = 0; b < count / block; b++)
        {
            var s = data.Slice((int)(b * bytes), bytes);
            var o = y.AsSpan((int)(b * block), block);
            switch (type)
            {
                case ElementType.Q4_1: Q4_1(s, o); break;
                case ElementType.Q5_0: Q5(s, o, hasMin: false); break;
                case ElementType.Q5_1: Q5(s, o, hasMin: true); break;
                case ElementType.Q4_K: Q4_K(s, o); break;
                case ElementType.Q5_K: Q5_K(s, o); break;
                case ElementType.Q6_K: Q6_K(s, o); break;
                case ElementType.BFloat16: o[0] = BitConverter.UInt32BitsToSingle((uint)BinaryPrimitives.ReadUInt16LittleEndian(s) << 16); break;
                default: throw new ArgumentException($"{type} is not widened here", nameof(type));
            }
        }
        return y;
    }

    private static float H(ReadOnlySpan<byte> s, int at) => (float)BitConverter.UInt16BitsToHalf(BinaryPrimitives.ReadUInt16LittleEndian(s[at..]));

    private static void Q4_1(ReadOnlySpan<byte> s, Span<float> o)
    {
        float d = H(s, 0), m = H(s, 2);
        for (int j = 0; j < 16; j++)
        {
            o[j] = d * (s[4 + j] & 0x0F) + m;
            o[j + 16] = d * (s[4 + j] >> 4) + m;
        }
    }

    private static void Q5(ReadOnlySpan<byte> s, Span<float> o, bool hasMin)
    {
        float d = H(s, 0), m = hasMin ? H(s, 2) : 0;
        int at = hasMin ? 4 : 2;
        uint high = BinaryPrimitives.ReadUInt32LittleEndian(s[at..]);
        var qs = s[(at + 4)..];
        for (int j = 0; j < 16; j++)
        {
            int q0 = (qs[j] & 0x0F) | (int)((high >> j) & 1) << 4;
            int q1 = (qs[j] >> 4) | (int)((high >> (j + 16)) & 1) << 4;
            o[j] = hasMin ? d * q0 + m : d * (q0 - 16);
            o[j + 16] = hasMin ? d * q1 + m : d * (q1 - 16);
        }
    }

    /// <summary>Sub-block <paramref name="j"/>'s 6-bit scale and min from the 12 packed bytes of a Q4_K/Q5_K super-block.</summary>
    private static (int Scale, int Min) ScaleMin(ReadOnlySpan<byte> sc, int j) => j < 4
        ? (sc[j] & 63, sc[j + 4] & 63)
        : ((sc[j + 4] & 0x0F) | (sc[j - 4] >> 6) << 4, (sc[j + 4] >> 4) | (sc[j] >> 6) << 4);

    private static void Q4_K(ReadOnlySpan<byte> s, Span<float> o)
    {
        float d = H(s, 0), dmin = H(s, 2);
        var sc = s.Slice(4, 12);
        var q = s[16..];
        for (int chunk = 0; chunk < 4; chunk++)
        {
            var (s1, m1) = ScaleMin(sc, 2 * chunk);
            var (s2, m2) = ScaleMin(sc, 2 * chunk + 1);
            for (int l = 0; l < 32; l++)
            {
                o[chunk * 64 + l] = d * s1 * (q[chunk * 32 + l] & 0x0F) - dmin * m1;
                o[chunk * 64 + 32 + l] = d * s2 * (q[chunk * 32 + l] >> 4) - dmin * m2;
            }
        }
    }

    private static void Q5_K(ReadOnlySpan<byte> s, Span<float> o)
    {
        float d = H(s, 0), dmin = H(s, 2);
        var sc = s.Slice(4, 12);
        var qh = s.Slice(16, 32);
        var q = s[48..];
        for (int chunk = 0; chunk < 4; chunk++)
        {
            var (s1, m1) = ScaleMin(sc, 2 * chunk);
            var (s2, m2) = ScaleMin(sc, 2 * chunk + 1);
            for (int l = 0; l < 32; l++)
            {
                int lo = (q[chunk * 32 + l] & 0x0F) | ((qh[l] >> (2 * chunk)) & 1) << 4;
                int hi = (q[chunk * 32 + l] >> 4) | ((qh[l] >> (2 * chunk + 1)) & 1) << 4;
                o[chunk * 64 + l] = d * s1 * lo - dmin * m1;
                o[chunk * 64 + 32 + l] = d * s2 * hi - dmin * m2;
            }
        }
    }

    private static void Q6_K(ReadOnlySpan<byte> s, Span<float> o)
    {
        var ql = s[..128];
        var qh = s.Slice(128, 64);
        var sc = s.Slice(192, 16);
        float d = H(s, 208);
        for (int half = 0; half < 2; half++)
        {
            var l4 = ql.Slice(half * 64, 64);
            var h2 = qh.Slice(half * 32, 32);
            var scales = sc.Slice(half * 8, 8);
            for (int l = 0; l < 32; l++)
            {
                int g = l / 16;
                int q1 = ((l4[l] & 0x0F) | ((h2[l] >> 0) & 3) << 4) - 32;
                int q2 = ((l4[l + 32] & 0x0F) | ((h2[l] >> 2) & 3) << 4) - 32;
                int q3 = ((l4[l] >> 4) | ((h2[l] >> 4) & 3) << 4) - 32;
                int q4 = ((l4[l + 32] >> 4) | ((h2[l] >> 6) & 3) << 4) - 32;
                o[half * 128 + l] = d * (sbyte)scales[g] * q1;
                o[half * 128 + l + 32] = d * (sbyte)scales[g + 2] * q2;
                o[half * 128 + l + 64] = d * (sbyte)scales[g + 4] * q3;
                o[half * 128 + l + 96] = d * (sbyte)scales[g + 6] * q4;
            }
        }
    }
}
