using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>float4 E2M1, float8 E8M0, packed integer casts and float quantization against known values (ONNX spec and backend test data).</summary>
public unsafe class PackedTypesKernelTests
{
    [Fact]
    public void Float4_decodes_every_code_and_encodes_it_back()
    {
        double[] mags = [0, 0.5, 1, 1.5, 2, 3, 4, 6];
        for (int c = 0; c < 16; c++)
        {
            double v = Float4.Decode(c);
            Assert.Equal(c < 8 ? mags[c] : -mags[c - 8], v);
            Assert.Equal(c, Float4.Encode(c == 8 ? -0.0 : v));
        }
    }

    [Theory]
    [InlineData(0.25, 0x0)]   // tie between 0 and 0.5: even (0)
    [InlineData(0.75, 0x2)]   // tie between 0.5 and 1: even (1.0)
    [InlineData(0.48, 0x1)]
    [InlineData(1.05, 0x2)]
    [InlineData(-3.5, 0xE)]   // tie between 3 and 4: even (4)
    [InlineData(5.0, 0x6)]    // tie between 4 and 6: even (4)
    [InlineData(5.01, 0x7)]
    [InlineData(9.0, 0x7)]    // saturates
    [InlineData(-1e6, 0xF)]
    [InlineData(double.PositiveInfinity, 0x7)]
    [InlineData(double.NegativeInfinity, 0xF)]
    [InlineData(1e-7, 0x0)]
    [InlineData(-0.0, 0x8)]
    [InlineData(double.NaN, 0x8)] // as the ONNX backend test data has it
    public void Float4_rounds_to_nearest_even_and_saturates(double x, int code) => Assert.Equal(code, Float4.Encode(x));

    [Theory]
    [InlineData(0.0, true, E8M0Rounding.Up, 0x00)]
    [InlineData(0.124, true, E8M0Rounding.Up, 0x7C)]
    [InlineData(0.25, true, E8M0Rounding.Up, 0x7D)]
    [InlineData(1.1, true, E8M0Rounding.Up, 0x80)]
    [InlineData(1.1, true, E8M0Rounding.Down, 0x7F)]
    [InlineData(1.4, true, E8M0Rounding.Nearest, 0x7F)]
    [InlineData(1.5, true, E8M0Rounding.Nearest, 0x80)]
    [InlineData(8.0, true, E8M0Rounding.Up, 0x82)]
    [InlineData(1e39, true, E8M0Rounding.Up, 0xFE)]
    [InlineData(1e39, false, E8M0Rounding.Up, 0xFF)]
    [InlineData(double.PositiveInfinity, true, E8M0Rounding.Up, 0xFE)]
    [InlineData(double.PositiveInfinity, false, E8M0Rounding.Nearest, 0xFF)]
    [InlineData(0.0, false, E8M0Rounding.Nearest, 0xFF)]
    [InlineData(double.NaN, true, E8M0Rounding.Up, 0xFF)]
    public void E8M0_rounds_and_saturates_as_the_spec_table_says(double x, bool saturate, E8M0Rounding round, int code) =>
        Assert.Equal(code, Float8.Encode(x, ElementType.Float8E8M0, saturate, round));

    [Fact]
    public void E8M0_decodes_powers_of_two()
    {
        Assert.Equal(Math.ScaleB(1.0, -127), Float8.Decode(0x00, ElementType.Float8E8M0));
        Assert.Equal(1.0, Float8.Decode(0x7F, ElementType.Float8E8M0));
        Assert.Equal(Math.ScaleB(1.0, 127), Float8.Decode(0xFE, ElementType.Float8E8M0));
        Assert.True(double.IsNaN(Float8.Decode(0xFF, ElementType.Float8E8M0)));
    }

    [Fact]
    public void Cast_to_int4_truncates_wraps_and_zeroes_the_padding()
    {
        float[] x = [-9, -8, -7.9f, 7, 8, 15, 2.7f];
        var y = new byte[4];
        Array.Fill(y, (byte)0xAA);
        var back = new sbyte[7];
        fixed (float* px = x)
        fixed (byte* py = y)
        fixed (sbyte* pb = back)
        {
            Cast.ToPacked<float, QInt4>(px, py, x.Length);
            Cast.FromPacked<QInt4, sbyte>(py, pb, x.Length);
        }
        Assert.Equal(new sbyte[] { 7, -8, -7, 7, -8, -1, 2 }, back);
        Assert.Equal(0, y[3] >> 4);
    }

    [Fact]
    public void Cast_to_uint2_wraps_like_the_onnx_test_data()
    {
        float[] x = [-3, -2, -1, 0, 1, 2, 3];
        var y = new byte[2];
        fixed (float* px = x)
        fixed (byte* py = y)
            Cast.ToPacked<float, QUInt2>(px, py, x.Length);
        Assert.Equal(new byte[] { 0x39, 0x39 }, y);
    }

    [Fact]
    public void Cast_to_float4_packs_low_nibble_first()
    {
        float[] x = [0.48f, 0.25f, 1.05f, -3.5f, -8f];
        var y = new byte[3];
        var back = new float[5];
        fixed (float* px = x, pb = back)
        fixed (byte* py = y)
        {
            Cast.ToFloat4E2M1(px, py, x.Length);
            Cast.FromFloat4E2M1(py, pb, x.Length);
        }
        Assert.Equal(new byte[] { 0x01, 0xE2, 0x0F }, y);
        Assert.Equal(new[] { 0.5f, 0f, 1f, -4f, -6f }, back);
    }

    [Fact]
    public void Quantize_and_dequantize_float8_and_float4_per_axis()
    {
        float[] x = [0, 2.5f, 4.8f, 8.6f, -30, -20, 6, 9, -0f, -2.5f, -4.8f, -8.6f];
        float[] s = [2, 3, 4];
        var zp = new byte[2];
        var q4 = new byte[6];
        var l = new QuantLayout(Outer: 1, AxisDim: 3, Inner: 4, BlockSize: 0, PerTensor: false);
        fixed (float* px = x, ps = s)
        fixed (byte* pz = zp, pq = q4)
            Quantization.QuantizeFloat(px, ps, pz, pq, l, ElementType.Float4E2M1, saturate: true);
        Assert.Equal(new byte[] { 0x20, 0x64, 0xFF, 0x54, 0x90, 0xCA }, q4); // ONNX test_quantizelinear_float4e2m1

        float[] x8 = [0, 1, 2, 100000, 200];
        float scale = 2;
        var q8 = new byte[5];
        var y = new float[5];
        var pt = new QuantLayout(Outer: 1, AxisDim: 5, Inner: 1, BlockSize: 0, PerTensor: true);
        fixed (float* px = x8, py = y)
        fixed (byte* pq = q8)
        {
            Quantization.QuantizeFloat(px, &scale, null, pq, pt, ElementType.Float8E4M3FN, saturate: true);
            Quantization.DequantizeFloat(pq, &scale, null, py, pt, ElementType.Float8E4M3FN);
        }
        Assert.Equal(new byte[] { 0x00, 0x30, 0x38, 0x7E, 0x6C }, q8); // ONNX test_quantizelinear_e4m3fn
        Assert.Equal(new float[] { 0, 1, 2, 896, 192 }, y);
    }
}
