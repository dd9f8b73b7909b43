using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Neural-network family ops (ConvTranspose, Resize, pools, RNNs, Einsum, Attention, RotaryEmbedding) against ONNX Runtime.</summary>
public class NnOracleTests
{
    private static float[] Rand(long n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    private static object[] D(params long[] dims) => dims.Cast<object>().ToArray();

    [Theory]
    [InlineData(1L, new long[] { 2, 2 }, new long[] { 1, 0, 1, 2 }, new long[] { 1, 1 })]
    [InlineData(2L, new long[] { 1, 2 }, new long[] { 0, 0, 0, 0 }, new long[] { 0, 1 })]
    public void ConvTranspose_matches(long group, long[] strides, long[] pads, long[] outputPadding)
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, D(2, 4, 5, 6)).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [4, 3, 3, 2], Rand(72, 1))
            .Initializer("b", ElementType.Float, [3 * group], Rand(3 * group, 2))
            .Node("ConvTranspose", ["x", "w", "b"], ["y"], ("group", group), ("strides", strides), ("pads", pads), ("output_padding", outputPadding));
        Oracle.Check(Oracle.Save(w, "convtranspose"));
    }

    [Theory]
    [InlineData("linear", "half_pixel", 2.0f, 1.5f)]
    [InlineData("nearest", "asymmetric", 2.0f, 3.0f)]
    // align_corners with a fractional output length (scale·in) differs between the ONNX reference (used by the node tests,
    // which llmaot follows: it divides by scale·in - 1) and ONNX Runtime (output length - 1); integral lengths agree.
    [InlineData("cubic", "align_corners", 2.0f, 1.5f)]
    [InlineData("linear", "pytorch_half_pixel", 0.5f, 0.75f)]
    public void Resize_with_scales_matches(string mode, string ctm, float sh, float sw)
    {
        var w = new OnnxWriter().Opset(19).Input("x", ElementType.Float, D(1, 2, 7, 8)).Output("y", ElementType.Float, null)
            .Initializer("scales", ElementType.Float, [4], new[] { 1f, 1f, sh, sw })
            .Node("Resize", ["x", "", "scales"], ["y"], ("mode", mode), ("coordinate_transformation_mode", ctm));
        Oracle.Check(Oracle.Save(w, "resize_" + mode));
    }

    [Fact]
    public void MaxPool3d_and_LpPool_match()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, D(1, 2, 6, 7, 5)).Output("y", ElementType.Float, null).Output("z", ElementType.Float, null)
            .Node("MaxPool", ["x"], ["y"], ("kernel_shape", new long[] { 2, 3, 2 }), ("strides", new long[] { 2, 1, 2 }), ("pads", new long[] { 1, 1, 0, 0, 1, 1 }))
            .Node("LpPool", ["x"], ["z"], ("kernel_shape", new long[] { 3, 2, 2 }), ("p", 3L));
        Oracle.Check(Oracle.Save(w, "pool3d"));
    }

    [Theory]
    [InlineData("LSTM", 4, "bidirectional")]
    [InlineData("GRU", 3, "reverse")]
    [InlineData("GRU", 3, "forward", 0L)]
    [InlineData("RNN", 1, "forward")]
    public void Recurrent_matches(string op, int gates, string direction, long linearBeforeReset = 1)
    {
        long s = 5, b = 2, i = 3, h = 4, dirs = direction == "bidirectional" ? 2 : 1;
        var w = new OnnxWriter().Input("x", ElementType.Float, D(s, b, i)).Output("y", ElementType.Float, null).Output("yh", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [dirs, gates * h, i], Rand(dirs * gates * h * i, 3))
            .Initializer("r", ElementType.Float, [dirs, gates * h, h], Rand(dirs * gates * h * h, 4))
            .Initializer("b", ElementType.Float, [dirs, 2 * gates * h], Rand(dirs * 2 * gates * h, 5));
        var attrs = new List<(string, object)> { ("hidden_size", h), ("direction", direction) };
        if (op == "GRU") attrs.Add(("linear_before_reset", linearBeforeReset));
        w.Node(op, ["x", "w", "r", "b"], ["y", "yh"], attrs.ToArray());
        Oracle.Check(Oracle.Save(w, op.ToLowerInvariant()));
    }

    [Theory]
    [InlineData("bij,bjk->bik", new long[] { 3, 2, 4 }, new long[] { 3, 4, 5 })]
    [InlineData("ij,kj", new long[] { 3, 4 }, new long[] { 2, 4 })]
    public void Einsum_matches(string eq, long[] a, long[] b)
    {
        var w = new OnnxWriter().Opset(12).Input("a", ElementType.Float, D(a)).Input("b", ElementType.Float, D(b)).Output("y", ElementType.Float, null)
            .Node("Einsum", ["a", "b"], ["y"], ("equation", eq));
        Oracle.Check(Oracle.Save(w, "einsum"));
    }

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void Attention_gqa_matches(bool causal)
    {
        var w = new OnnxWriter().Opset(23).Input("q", ElementType.Float, D(2, 4, 3, 8)).Input("k", ElementType.Float, D(2, 2, 5, 8)).Input("v", ElementType.Float, D(2, 2, 5, 6))
            .Output("y", ElementType.Float, null)
            .Node("Attention", ["q", "k", "v"], ["y"], ("is_causal", causal ? 1L : 0L));
        Oracle.Check(Oracle.Save(w, "attention"));
    }
}
