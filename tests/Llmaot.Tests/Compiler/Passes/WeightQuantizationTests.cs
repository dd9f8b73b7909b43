using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Onnx;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Compiler.Passes;

/// <summary>
/// <see cref="WeightQuantization"/> (<c>--quantize int8|q8_0|q4_0</c> on ONNX graphs): the rewrite, the generated code against
/// ONNX Runtime's float result, and the accuracy report on real models (thresholds a user of the report would rely on).
/// </summary>
public class WeightQuantizationTests
{
    /// <summary>
    /// x [1,8,12,12] → 1x1 Conv+Relu → depthwise 3x3 → 1x1 Conv to 32 → 3x3 Conv 32→8 (a Winograd candidate) → 3x3 stride-2
    /// Conv 8→6 (im2col) → Flatten → Gemm (transB) and, in parallel, MatMul + Add: every kernel family the pass uses.
    /// </summary>
    private static string Model()
    {
        var r = new Random(12);
        float[] R(int n, float s = 0.5f) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1) * s).ToArray();
        var w = new OnnxWriter().Input("x", ElementType.Float, 1L, 8L, 12L, 12L)
            .Output("y1", ElementType.Float, null).Output("y2", ElementType.Float, null)
            .Initializer("w1", ElementType.Float, [16, 8, 1, 1], R(128)).Initializer("b1", ElementType.Float, [16], R(16))
            .Initializer("wd", ElementType.Float, [16, 1, 3, 3], R(144)).Initializer("bd", ElementType.Float, [16], R(16))
            .Initializer("w2", ElementType.Float, [32, 16, 1, 1], R(512, 0.3f))
            .Initializer("w3", ElementType.Float, [8, 32, 3, 3], R(2304, 0.1f)).Initializer("b3", ElementType.Float, [8], R(8))
            .Initializer("w4", ElementType.Float, [6, 8, 3, 3], R(432, 0.2f))
            .Initializer("wg", ElementType.Float, [10, 216], R(2160, 0.1f)).Initializer("bg", ElementType.Float, [10], R(10))
            .Initializer("wm", ElementType.Float, [216, 7], R(1512, 0.1f)).Initializer("bm", ElementType.Float, [7], R(7))
            .Node("Conv", ["x", "w1", "b1"], ["c1"])
            .Node("Relu", ["c1"], ["r1"])
            .Node("Conv", ["r1", "wd", "bd"], ["cd"], ("group", 16L), ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Conv", ["cd", "w2"], ["c2"])
            .Node("Conv", ["c2", "w3", "b3"], ["c3"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Relu", ["c3"], ["r3"])
            .Node("Conv", ["r3", "w4"], ["c4"], ("pads", new long[] { 1, 1, 1, 1 }), ("strides", new long[] { 2, 2 }))
            .Node("Flatten", ["c4"], ["f"])
            .Node("Gemm", ["f", "wg", "bg"], ["y1"], ("transB", 1L))
            .Node("MatMul", ["f", "wm"], ["mm"])
            .Node("Add", ["mm", "bm"], ["y2"]);
        return Oracle.Save(w, "quant_mix");
    }

    [Fact]
    public void Int8_rewrites_every_weighted_node_and_drops_the_float_weights()
    {
        var o = new CompileOptions { Quantize = "int8", StopAfter = Phase.Selected };
        using var m = Pipeline.Compile(Model(), o);
        var g = m.Graph;
        Assert.DoesNotContain(g.Nodes, n => n.Domain == "" && n.Op is "Conv" or "Gemm" or "MatMul");
        var kinds = g.Nodes.Where(n => n.Op == "QConvInt8").Select(n => n.Facts["qkind"]).ToList();
        Assert.Equal(["pointwise", "depthwise", "pointwise", "winograd", "im2col"], kinds);
        Assert.Equal(2, g.Nodes.Count(n => n.Op == "QuantGemm" && n.Str("format", "") == "int8"));
        Assert.Contains(g.Nodes, n => n.Kernel is { } k && k.StartsWith("ConvInt8.RunPointwise", StringComparison.Ordinal) && k.Contains("+Relu"));
        foreach (var name in new[] { "w1", "wd", "w2", "w3", "w4", "wg", "wm" }) Assert.DoesNotContain(g.Constants, c => c.Name == name);
        Assert.Contains(g.Constants, c => c.Name == "w1/int8" && c.Elem == ElementType.Int8);
        var report = o.QuantizationReport!;
        Assert.Equal(7, report.Tensors.Count);
        Assert.All(report.Tensors, t => Assert.InRange(t.RelativeError, 1e-5, 0.02));
        Assert.Empty(report.Kept);
    }

    [Fact]
    public void Block_formats_keep_depthwise_in_float_and_pad_the_reduction()
    {
        var o = new CompileOptions { Quantize = "q4_0", StopAfter = Phase.Selected };
        using var m = Pipeline.Compile(Model(), o);
        var report = o.QuantizationReport!;
        Assert.Single(report.Kept);
        Assert.Contains("group 16", report.Kept[0]);
        Assert.Contains(m.Graph.Nodes, n => n.Domain == "" && n.Op == "Conv" && n.Int("group", 1) == 16);
        // w1: k = 8 padded to 32; w4: k = 72 padded to 96; the Gemm's k = 216 to 224.
        Assert.Contains(report.Tensors, t => t.Name == "w1" && t.Op.Contains("k 8 padded to 32"));
        Assert.Contains(report.Tensors, t => t.Name == "wg" && t.Op.Contains("k 216 padded to 224"));
        Assert.All(report.Tensors, t => Assert.InRange(t.RelativeError, 0.01, 0.2));
    }

    [Fact]
    public void Stop_after_packed_runs_every_pass_of_the_phase()
    {
        var plain = new CompileOptions { StopAfter = Phase.Packed };
        using (var m = Pipeline.Compile(Model(), plain))
            Assert.Contains(m.Graph.Nodes, n => n.Op == "Conv" && n.Facts.ContainsKey("packedWeights"));
        var quant = new CompileOptions { Quantize = "q8_0", StopAfter = Phase.Packed };
        using (var m = Pipeline.Compile(Model(), quant))
        {
            Assert.Contains(m.Graph.Nodes, n => n.Op == "QuantGemm");
            // the depthwise Conv stays float in the block formats, and WeightPacking still sees it
            Assert.Contains(m.Graph.Nodes, n => n.Op == "Conv");
            Assert.All(m.Graph.Nodes, n => Assert.Null(n.Kernel));
        }
    }

    [Fact]
    public void Without_quantize_the_pass_does_nothing()
    {
        var o = new CompileOptions { StopAfter = Phase.Selected };
        using var m = Pipeline.Compile(Model(), o);
        Assert.DoesNotContain(m.Graph.Nodes, n => n.Domain == "llmaot");
        Assert.Null(o.QuantizationReport);
    }

    [Theory]
    [InlineData("int8", 0.03)]
    [InlineData("q8_0", 0.03)]
    [InlineData("q4_0", 0.25)]
    public void Quantized_code_matches_onnx_runtime_within_the_quantization_error(string mode, double tol)
    {
        // The outputs are O(1): an absolute tolerance relative to that scale.
        var results = Oracle.Check(Model(), new CompileOptions { Quantize = mode }, atol: tol, rtol: tol);
        Assert.All(results, c => Assert.True(c.MaxAbs > 0, "quantization changed nothing: was the pass applied?"));
    }

    private static QuantizationReport Report(string model, string mode, params (string, long[])[] shapes)
    {
        var o = new CompileOptions { Quantize = mode };
        foreach (var (n, s) in shapes) o.Shapes[n] = s;
        var g = Oracle.Generate(SharedData.File(model), o);
        Assert.NotNull(g.Quantization);
        using var loaded = InMemoryCompiler.Compile([g]);
        Assert.Empty(loaded.Warnings);
        return g.Quantization!;
    }

    [Fact]
    public void Ppocr_det_int8_report_meets_the_acceptance_bar()
    {
        var r = Report("models/onnx/ppocr_v4_det.onnx", "int8", ("x", [1, 3, 640, 640]));
        Assert.Equal(62, r.Tensors.Count);
        Assert.Empty(r.Kept);
        Assert.All(r.Tensors, t => Assert.InRange(t.RelativeError, 1e-4, 0.03));
        var images = Assert.Single(r.Outputs, o => o.Inputs == "images");
        Assert.True(images.Cosine >= 0.99, $"cosine {images.Cosine} on synthetic images");
        Assert.Contains(r.Outputs, o => o.Inputs == "noise");
        Assert.True(r.QuantizedWeightsBytes <= 0.30 * r.FloatWeightsBytes, $"{r.QuantizedWeightsBytes} of {r.FloatWeightsBytes} weight bytes");
        Assert.Contains("cosine", r.Format());
    }

    [Theory]
    [InlineData("int8", 0.9999)]
    [InlineData("q8_0", 0.9999)]
    [InlineData("q4_0", 0.999)]
    public void Cnn_mnist_keeps_its_predictions(string mode, double minCosine)
    {
        var r = Report("models/onnx/cnn_mnist_pytorch.onnx", mode);
        Assert.Equal(4, r.Tensors.Count);
        var o = Assert.Single(r.Outputs);
        Assert.True(o.Cosine >= minCosine, $"{mode}: cosine {o.Cosine}");
        Assert.Equal(1.0, o.Top1);
        Assert.True(r.QuantizedWeightsBytes < r.FloatWeightsBytes * (mode == "q4_0" ? 0.2 : 0.3));
    }

    [Fact]
    public void Report_also_runs_models_whose_weights_live_in_a_file()
    {
        var o = new CompileOptions { Quantize = "int8" };
        var g = global::Llmaot.Compiler.Compile(SharedData.File("models/onnx/cnn_mnist_pytorch.onnx"), o,
            new EmitOptions { ClassName = "CnnMnistFileWeights", Name = "cnn_mnist_file", Weights = WeightsMode.File });
        var output = Assert.Single(g.Quantization!.Outputs);
        Assert.True(output.Cosine >= 0.9999, $"cosine {output.Cosine}");
        Assert.Equal(g.WeightsBytes, g.Quantization.QuantizedWeightsBytes);
    }

    [Theory]
    [InlineData("int8", 0.999)]
    [InlineData("q8_0", 0.9999)]
    [InlineData("q4_0", 0.98)]
    public void Mnist_keeps_its_predictions(string mode, double minCosine)
    {
        var r = Report("models/onnx/mnist.onnx", mode);
        var o = Assert.Single(r.Outputs);
        Assert.True(o.Cosine >= minCosine, $"{mode}: cosine {o.Cosine}");
        Assert.Equal(1.0, o.Top1);
    }

    [Theory]
    [InlineData("q8_0", 0.9999)]
    [InlineData("q4_0", 0.98)]
    public void Bert_toy_block_formats(string mode, double minCosine)
    {
        var r = Report("models/onnx/bert_toy_optimized.onnx", mode);
        Assert.NotEmpty(r.Tensors);
        Assert.All(r.Tensors, t => Assert.Matches("^(MatMul|Gemm)", t.Op));
        Assert.Equal(2, r.Outputs.Count);
        Assert.All(r.Outputs, o => Assert.True(o.Cosine >= minCosine, $"{mode} {o.Name}: cosine {o.Cosine}"));
        Assert.True(r.QuantizedWeightsBytes < r.FloatWeightsBytes * 0.5);
    }
}
