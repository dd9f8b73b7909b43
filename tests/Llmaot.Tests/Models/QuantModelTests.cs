using Llmaot.Passes;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Models;

/// <summary>The quantized graphs of ../shared/models/onnx-quant (QDQ, QOperator, MatMulInteger, DynamicQuantizeLinear, MatMulNBits) against ONNX Runtime.</summary>
public class QuantModelTests
{
    [Theory]
    [InlineData("conv.int4_weights.qdq.onnx")]
    [InlineData("conv_qdq_s8s8_perchannel.onnx")]
    [InlineData("conv_qdq_u8u8.onnx")]
    [InlineData("dynamic_quantize_matmul_int8_bias.onnx")]
    [InlineData("dynamic_quantize_matmul_uint8.onnx")]
    [InlineData("matmul_integer_to_float_int8_bias.onnx")]
    [InlineData("matmul_integer_to_float_uint8.onnx")]
    [InlineData("qdq_fusion_int8.onnx")]
    [InlineData("qdq_minimal_model.onnx")]
    [InlineData("matmulnbits_add.onnx")]
    [InlineData("qdq_with_multi_consumer_dq_nodes.onnx")]
    public void Matches_onnx_runtime(string model)
    {
        var co = new CompileOptions();
        co.Dims["M"] = 5;
        Oracle.Check(SharedData.File("models/onnx-quant/" + model), co, atol: 1e-4, rtol: 1e-4);
    }

    [Fact]
    public void Qdq_conv_patterns_become_integer_qlinearconv_kernels()
    {
        using var m = Pipeline.Compile(SharedData.File("models/onnx-quant/qdq_with_multi_consumer_dq_nodes.onnx"), new CompileOptions());
        var convs = m.Graph.Nodes.Where(n => n.Op == "Conv").ToList();
        var fused = m.Graph.Nodes.Where(n => n.Op == "QLinearConv").ToList();
        Assert.Empty(convs);
        Assert.Equal(6, fused.Count);
        Assert.All(fused, n => Assert.Equal("Int8Conv.Run[packed]+Requantize", n.Kernel));
    }

    [Fact]
    public void Int4_stories260K_decoder_step_matches_onnx_runtime()
    {
        var co = new CompileOptions();
        co.Dims["batch_size"] = 1;
        co.Dims["sequence_length"] = 3;
        co.Dims["past_sequence_length"] = 4;
        Oracle.Check(SharedData.File("models/onnx-llm/stories260K.int4.onnx"), co, atol: 1e-4, rtol: 1e-4);
    }
}
