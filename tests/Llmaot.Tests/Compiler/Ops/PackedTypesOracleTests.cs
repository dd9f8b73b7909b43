using Llmaot.Diagnostics;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>
/// Packed sub-byte (int4, uint4, int2, uint2, float4 E2M1) and float8 types against ONNX Runtime. ORT's oracle takes and
/// returns plain types only, so each model round-trips: float -> Cast/QuantizeLinear -> packed -> Cast/DequantizeLinear -> float.
/// ORT's CPU provider has no float4 E2M1 Cast/QuantizeLinear (nor E8M0 Cast), so those are checked against the ONNX
/// backend test data in the conformance run and against known values in PackedTypesKernelTests.
/// </summary>
public class PackedTypesOracleTests
{
    /// <summary>21 values (an odd count, so the last byte of a 4-bit tensor is half padding) spanning the interesting ranges.</summary>
    private static readonly float[] Values =
    [
        -20f, -9f, -8.5f, -7.9f, -6f, -3.5f, -2.5f, -1.25f, -0.3f, -0f, 0f, 0.24f, 0.76f, 1.5f, 2.5f, 3.49f, 5f, 7f, 8f, 15.7f, 300f,
    ];

    private static Dictionary<string, HostTensor> Feed(float[] v) => new()
    {
        ["x"] = new HostTensor(ElementType.Float, [3, 7], v.SelectMany(BitConverter.GetBytes).ToArray()),
    };

    [Theory]
    [InlineData(ElementType.Int4)]
    [InlineData(ElementType.UInt4)]
    [InlineData(ElementType.Int2)]
    [InlineData(ElementType.UInt2)]
    [InlineData(ElementType.Float8E4M3FN)]
    [InlineData(ElementType.Float8E5M2)]
    public void Cast_round_trip_matches(ElementType via)
    {
        var w = new OnnxWriter().Opset(25).Input("x", ElementType.Float, 3L, 7L).Output("y", ElementType.Float, null)
            .Node("Cast", ["x"], ["p"], ("to", (long)via))
            .Node("Cast", ["p"], ["y"], ("to", (long)ElementType.Float));
        var v = via is ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2
            ? Values.Select(MathF.Truncate).ToArray() // float -> integer out of range is undefined in ONNX; keep to integers
            : Values;
        Oracle.Check(Oracle.Save(w, $"cast_rt_{via}"), inputs: Feed(v));
    }

    [Theory]
    [InlineData(ElementType.Float8E4M3FN)]
    [InlineData(ElementType.Float8E5M2)]
    public void Quantize_dequantize_per_axis_matches(ElementType q)
    {
        var w = new OnnxWriter().Opset(23).Input("x", ElementType.Float, 3L, 7L).Output("y", ElementType.Float, null)
            .Initializer("s", ElementType.Float, [3], new[] { 0.5f, 2f, 0.125f })
            .Initializer("z", q, [3], new byte[q == ElementType.Float4E2M1 ? 2 : 3])
            .Node("QuantizeLinear", ["x", "s", "z"], ["p"], ("axis", 0L))
            .Node("DequantizeLinear", ["p", "s", "z"], ["y"], ("axis", 0L));
        Oracle.Check(Oracle.Save(w, $"qdq_{q}"), inputs: Feed(Values));
    }

    [Fact]
    public void Transpose_of_a_packed_tensor_is_rejected()
    {
        var w = new OnnxWriter().Opset(21).Input("x", ElementType.Float, 3L, 7L).Output("y", ElementType.Float, null)
            .Node("Cast", ["x"], ["p"], ("to", (long)ElementType.Int4))
            .Node("Transpose", ["p"], ["t"])
            .Node("Cast", ["t"], ["y"], ("to", (long)ElementType.Float));
        var ex = Assert.Throws<LlmaotException>(() => Oracle.Generate(Oracle.Save(w, "transpose_int4")));
        Assert.Equal(Codes.UnsupportedType, ex.Code);
        Assert.Contains("packed", ex.Message);
    }

    [Fact]
    public void Slice_of_a_packed_tensor_is_rejected()
    {
        var w = new OnnxWriter().Opset(21).Input("x", ElementType.Float, 3L, 7L).Output("y", ElementType.Float, null)
            .Initializer("st", ElementType.Int64, [1], new[] { 1L })
            .Initializer("en", ElementType.Int64, [1], new[] { 4L })
            .Initializer("ax", ElementType.Int64, [1], new[] { 1L })
            .Node("Cast", ["x"], ["p"], ("to", (long)ElementType.UInt4))
            .Node("Slice", ["p", "st", "en", "ax"], ["t"])
            .Node("Cast", ["t"], ["y"], ("to", (long)ElementType.Float));
        var ex = Assert.Throws<LlmaotException>(() => Oracle.Generate(Oracle.Save(w, "slice_uint4")));
        Assert.Equal(Codes.UnsupportedType, ex.Code);
    }
}
