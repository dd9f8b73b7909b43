namespace Llmaot.Runtime;

/// <summary>
/// Element types. Values 0..25 are ONNX's TensorProto.DataType numbers, so a model's dtype casts straight in.
/// Values from 1000 up are block-quantized weight formats (ggml naming kept verbatim), which pack
/// <see cref="ElementTypes.BlockSize"/> elements into <see cref="ElementTypes.BlockBytes"/> bytes.
/// </summary>
public enum ElementType
{
    Undefined = 0, Float = 1, UInt8 = 2, Int8 = 3, UInt16 = 4, Int16 = 5, Int32 = 6, Int64 = 7, String = 8, Bool = 9,
    Float16 = 10, Double = 11, UInt32 = 12, UInt64 = 13, Complex64 = 14, Complex128 = 15, BFloat16 = 16,
    Float8E4M3FN = 17, Float8E4M3FNUZ = 18, Float8E5M2 = 19, Float8E5M2FNUZ = 20, UInt4 = 21, Int4 = 22,
    Float4E2M1 = 23, Float8E8M0 = 24, UInt2 = 25, Int2 = 26,

    /// <summary>ggml Q8_0: blocks of 32 int8 with one fp16 scale; 8.5 bits per weight.</summary>
    Q8_0 = 1000,
    /// <summary>ggml Q4_0: blocks of 32 4-bit values (offset 8) with one fp16 scale; 4.5 bits per weight.</summary>
    Q4_0 = 1001,
    /// <summary>ggml Q4_1: blocks of 32 4-bit values with fp16 scale and min; 5 bits per weight.</summary>
    Q4_1 = 1002,
    /// <summary>ggml Q5_0: 5.5 bits per weight.</summary>
    Q5_0 = 1003,
    /// <summary>ggml Q5_1: 6 bits per weight.</summary>
    Q5_1 = 1004,
    /// <summary>ggml Q4_K: super-blocks of 256; 4.5 bits per weight.</summary>
    Q4_K = 1010,
    /// <summary>ggml Q5_K: super-blocks of 256; 5.5 bits per weight.</summary>
    Q5_K = 1011,
    /// <summary>ggml Q6_K: super-blocks of 256; 6.5625 bits per weight.</summary>
    Q6_K = 1012,
    /// <summary>
    /// com.microsoft MatMulNBits 4-bit weights with block size 32, no zero points (offset 8), as a decoder weight: per row
    /// ceil(K/32) blocks of 16 bytes (element 2j in the low nibble of byte j, 2j+1 in the high nibble), then the float scales
    /// [rows, blocks]; 5 bits per weight.
    /// </summary>
    MatMulNBits4 = 1020,
}

/// <summary>Traits of <see cref="ElementType"/>: sizes, names and the C# type used for storage.</summary>
public static class ElementTypes
{
    /// <summary>Number of elements that share one storage block (1 for plain types).</summary>
    public static int BlockSize(ElementType t) => t switch
    {
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 => 2,
        ElementType.UInt2 or ElementType.Int2 => 4,
        ElementType.Q8_0 or ElementType.Q4_0 or ElementType.Q4_1 or ElementType.Q5_0 or ElementType.Q5_1 => 32,
        ElementType.Q4_K or ElementType.Q5_K or ElementType.Q6_K => 256,
        _ => 1,
    };

    /// <summary>Bytes of one storage block; for plain types the element size.</summary>
    public static int BlockBytes(ElementType t) => t switch
    {
        ElementType.Float or ElementType.Int32 or ElementType.UInt32 => 4,
        ElementType.UInt8 or ElementType.Int8 or ElementType.Bool => 1,
        ElementType.UInt16 or ElementType.Int16 or ElementType.Float16 or ElementType.BFloat16 => 2,
        ElementType.Int64 or ElementType.UInt64 or ElementType.Double or ElementType.Complex64 => 8,
        ElementType.Complex128 => 16,
        ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float8E8M0 => 1,
        ElementType.UInt4 or ElementType.Int4 or ElementType.Float4E2M1 or ElementType.UInt2 or ElementType.Int2 => 1,
        ElementType.Q8_0 => 34,
        ElementType.Q4_0 => 18,
        ElementType.Q4_1 => 20,
        ElementType.Q5_0 => 22,
        ElementType.Q5_1 => 24,
        ElementType.Q4_K => 144,
        ElementType.Q5_K => 176,
        ElementType.Q6_K => 210,
        _ => 0,
    };

    /// <summary>Bytes needed to store <paramref name="count"/> elements (rounded up to whole blocks).</summary>
    public static long ByteCount(ElementType t, long count)
    {
        int bs = BlockSize(t);
        return (count + bs - 1) / bs * BlockBytes(t);
    }

    /// <summary>The C# type that holds one element, or null for packed/unsupported types.</summary>
    public static string? CSharpName(ElementType t) => t switch
    {
        ElementType.Float => "float", ElementType.Double => "double", ElementType.Float16 => "Half",
        ElementType.BFloat16 => "BFloat16",
        ElementType.Int8 => "sbyte", ElementType.UInt8 => "byte", ElementType.Int16 => "short", ElementType.UInt16 => "ushort",
        ElementType.Int32 => "int", ElementType.UInt32 => "uint", ElementType.Int64 => "long", ElementType.UInt64 => "ulong",
        ElementType.Bool => "bool",
        _ => null,
    };

    /// <summary>Lower-case name as ONNX Runtime and numpy users know it.</summary>
    public static string Name(ElementType t) => t switch
    {
        ElementType.Float => "float32", ElementType.Double => "float64", ElementType.Float16 => "float16",
        ElementType.BFloat16 => "bfloat16", ElementType.Int8 => "int8", ElementType.UInt8 => "uint8",
        ElementType.Int16 => "int16", ElementType.UInt16 => "uint16", ElementType.Int32 => "int32",
        ElementType.UInt32 => "uint32", ElementType.Int64 => "int64", ElementType.UInt64 => "uint64",
        ElementType.Bool => "bool", ElementType.String => "string",
        // The rest by their enum names, spelled out: Enum.ToString would pull reflection into every generated binary.
        ElementType.Undefined => "Undefined", ElementType.Complex64 => "Complex64", ElementType.Complex128 => "Complex128",
        ElementType.Float8E4M3FN => "Float8E4M3FN", ElementType.Float8E4M3FNUZ => "Float8E4M3FNUZ", ElementType.Float8E5M2 => "Float8E5M2",
        ElementType.Float8E5M2FNUZ => "Float8E5M2FNUZ", ElementType.UInt4 => "UInt4", ElementType.Int4 => "Int4",
        ElementType.Float4E2M1 => "Float4E2M1", ElementType.Float8E8M0 => "Float8E8M0", ElementType.UInt2 => "UInt2", ElementType.Int2 => "Int2",
        ElementType.Q8_0 => "Q8_0", ElementType.Q4_0 => "Q4_0", ElementType.Q4_1 => "Q4_1", ElementType.Q5_0 => "Q5_0", ElementType.Q5_1 => "Q5_1",
        ElementType.Q4_K => "Q4_K", ElementType.Q5_K => "Q5_K", ElementType.Q6_K => "Q6_K",
        _ => ((int)t).ToString(System.Globalization.CultureInfo.InvariantCulture),
    };

    /// <summary>numpy dtype descriptor for .npy files, or null if numpy has none.</summary>
    public static string? NpyDescr(ElementType t) => t switch
    {
        ElementType.Float => "<f4", ElementType.Double => "<f8", ElementType.Float16 => "<f2",
        ElementType.Int8 => "|i1", ElementType.UInt8 => "|u1", ElementType.Int16 => "<i2", ElementType.UInt16 => "<u2",
        ElementType.Int32 => "<i4", ElementType.UInt32 => "<u4", ElementType.Int64 => "<i8", ElementType.UInt64 => "<u8",
        ElementType.Bool => "|b1",
        _ => null,
    };

    /// <summary>Parses a numpy dtype descriptor (little-endian or byte-order-free only).</summary>
    public static ElementType FromNpyDescr(string d) => d.Replace('=', '<') switch
    {
        "<f4" => ElementType.Float, "<f8" => ElementType.Double, "<f2" => ElementType.Float16,
        "|i1" or "<i1" => ElementType.Int8, "|u1" or "<u1" => ElementType.UInt8, "<i2" => ElementType.Int16, "<u2" => ElementType.UInt16,
        "<i4" => ElementType.Int32, "<u4" => ElementType.UInt32, "<i8" => ElementType.Int64, "<u8" => ElementType.UInt64,
        "|b1" or "<b1" => ElementType.Bool,
        _ => ElementType.Undefined,
    };
}
