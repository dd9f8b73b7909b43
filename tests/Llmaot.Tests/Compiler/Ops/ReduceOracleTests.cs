using System.Runtime.InteropServices;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Reductions, normalizations, softmax-like ops and losses checked against ONNX Runtime on seeded inputs.</summary>
public class ReduceOracleTests
{
    private static float[] Rand(long n, int seed, float lo = -1, float hi = 1)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(lo + r.NextDouble() * (hi - lo));
        return a;
    }

    private static object[] Dims(long[] s) => s.Cast<object>().ToArray();

    [Theory]
    // op, opset, shape, axes (null: default), keepdims
    [InlineData("ReduceSum", 11, new long[] { 2, 3, 4, 5 }, new long[] { 1 }, 0L)]
    [InlineData("ReduceSum", 13, new long[] { 2, 3, 4, 5 }, new long[] { 0, 2 }, 1L)]
    [InlineData("ReduceSum", 13, new long[] { 2, 3, 40 }, new long[] { -1 }, 0L)]
    [InlineData("ReduceMean", 11, new long[] { 2, 3, 4, 5 }, new long[] { 1, 2 }, 1L)]
    [InlineData("ReduceMean", 18, new long[] { 3, 37 }, new long[] { 1 }, 0L)]
    [InlineData("ReduceMax", 11, new long[] { 2, 3, 4, 5 }, new long[] { 0, 3 }, 0L)]
    [InlineData("ReduceMax", 18, new long[] { 2, 3, 4, 5 }, null, 1L)]
    [InlineData("ReduceMin", 18, new long[] { 6, 33 }, new long[] { 0 }, 1L)]
    [InlineData("ReduceProd", 18, new long[] { 2, 3, 4 }, new long[] { 1 }, 1L)]
    [InlineData("ReduceSumSquare", 18, new long[] { 2, 3, 4, 5 }, new long[] { 2, 3 }, 0L)]
    [InlineData("ReduceL1", 11, new long[] { 2, 3, 4 }, new long[] { 0 }, 1L)]
    [InlineData("ReduceL2", 18, new long[] { 2, 3, 19 }, new long[] { 2 }, 1L)]
    [InlineData("ReduceLogSum", 18, new long[] { 2, 3, 4 }, new long[] { 0, 2 }, 0L)]
    [InlineData("ReduceLogSumExp", 11, new long[] { 2, 3, 4 }, new long[] { 1 }, 1L)]
    [InlineData("ReduceLogSumExp", 18, new long[] { 2, 3, 4 }, null, 0L)]
    public void Reductions_match(string op, int opset, long[] shape, long[]? axes, long keepdims)
    {
        var w = new OnnxWriter().Opset(opset).Input("x", ElementType.Float, Dims(shape)).Output("y", ElementType.Float, null);
        bool axesInput = opset >= (op == "ReduceSum" ? 13 : 18);
        var attrs = new List<(string, object)> { ("keepdims", keepdims) };
        var inputs = new List<string> { "x" };
        if (axes != null && axesInput)
        {
            w.Initializer("axes", ElementType.Int64, [axes.Length], axes);
            inputs.Add("axes");
        }
        else if (axes != null) attrs.Add(("axes", axes));
        w.Node(op, inputs.ToArray(), ["y"], attrs.ToArray());
        string path = Oracle.Save(w, op.ToLowerInvariant());
        Dictionary<string, HostTensor>? feed = null;
        if (op == "ReduceLogSum") // log of a sum needs positive inputs to be defined everywhere
        {
            var x = Rand(shape.Aggregate(1L, (a, b) => a * b), 3, 0.1f, 2f);
            feed = new() { ["x"] = new(ElementType.Float, shape, MemoryMarshal.AsBytes(x.AsSpan()).ToArray()) };
        }
        Oracle.Check(path, inputs: feed);
    }

    [Theory]
    [InlineData(ElementType.Int32, "ReduceSum")]
    [InlineData(ElementType.Int64, "ReduceMax")]
    [InlineData(ElementType.Double, "ReduceMean")]
    [InlineData(ElementType.Int32, "ReduceMin")]
    public void Typed_reductions_match(ElementType t, string op)
    {
        var w = new OnnxWriter().Opset(18).Input("x", t, 3L, 4L, 5L).Output("y", t, null)
            .Initializer("axes", ElementType.Int64, [1], new long[] { 1 })
            .Node(op, ["x", "axes"], ["y"], ("keepdims", 0L));
        Oracle.Check(Oracle.Save(w, op + t));
    }

    [Fact]
    public void Reduce_with_empty_axes_and_noop_is_elementwise()
    {
        var w = new OnnxWriter().Opset(18).Input("x", ElementType.Float, 2L, 3L).Output("y", ElementType.Float, null)
            .Initializer("axes", ElementType.Int64, [0], Array.Empty<long>())
            .Node("ReduceSumSquare", ["x", "axes"], ["y"], ("noop_with_empty_axes", 1L));
        Oracle.Check(Oracle.Save(w, "reduce_noop"));
    }

    [Fact]
    public void Reduce_of_constant_shape_folds()
    {
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, 2L, 3L, 4L).Output("y", ElementType.Float, null)
            .Node("Shape", ["x"], ["s"])
            .Node("ReduceProd", ["s"], ["n"], ("keepdims", 1L))
            .Node("Reshape", ["x", "n"], ["y"]);
        string path = Oracle.Save(w, "reduce_fold");
        Assert.DoesNotContain("Reduce.", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    [Theory]
    [InlineData(new long[] { 2, 3, 24 }, -1L, true)]
    [InlineData(new long[] { 2, 3, 4, 5 }, 1L, false)]
    public void LayerNormalization_matches(long[] shape, long axis, bool bias)
    {
        int a = (int)(axis < 0 ? axis + shape.Length : axis);
        var ps = shape.Skip(a).ToArray();
        long pn = ps.Aggregate(1L, (x, y) => x * y);
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, Dims(shape))
            .Output("y", ElementType.Float, null).Output("mean", ElementType.Float, null).Output("inv", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, ps, Rand(pn, 1));
        if (bias) w.Initializer("b", ElementType.Float, ps, Rand(pn, 2));
        w.Node("LayerNormalization", bias ? ["x", "scale", "b"] : ["x", "scale"], ["y", "mean", "inv"], ("axis", axis), ("epsilon", 1e-3f));
        Oracle.Check(Oracle.Save(w, "layernorm"));
    }

    [Fact]
    public void LayerNormalization_with_an_omitted_middle_output_matches()
    {
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, 4L, 10L)
            .Output("y", ElementType.Float, null).Output("inv", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, [10], Rand(10, 4))
            .Node("LayerNormalization", ["x", "scale"], ["y", "", "inv"]);
        Oracle.Check(Oracle.Save(w, "layernorm_skip"));
    }

    [Fact]
    public void RmsNormalization_matches()
    {
        var w = new OnnxWriter().Opset(23).Input("x", ElementType.Float, 2L, 3L, 20L).Output("y", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, [3, 20], Rand(60, 8))
            .Node("RMSNormalization", ["x", "scale"], ["y"], ("axis", 1L), ("epsilon", 1e-3f));
        Oracle.Check(Oracle.Save(w, "rmsnorm"));
    }

    [Theory]
    [InlineData(18)]
    [InlineData(21)]
    public void GroupNormalization_matches(int opset)
    {
        long c = 6, g = 3, pc = opset >= 21 ? c : g;
        var w = new OnnxWriter().Opset(opset).Input("x", ElementType.Float, 2L, c, 3L, 4L).Output("y", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, [pc], Rand(pc, 3))
            .Initializer("bias", ElementType.Float, [pc], Rand(pc, 4))
            .Node("GroupNormalization", ["x", "scale", "bias"], ["y"], ("num_groups", g), ("epsilon", 1e-4f));
        Oracle.Check(Oracle.Save(w, "groupnorm" + opset));
    }

    [Fact]
    public void InstanceNormalization_and_runtime_batchnorm_match()
    {
        var w = new OnnxWriter().Opset(15).Input("x", ElementType.Float, 2L, 3L, 5L, 4L)
            .Input("s", ElementType.Float, 3L).Input("b", ElementType.Float, 3L).Input("m", ElementType.Float, 3L)
            .Output("y", ElementType.Float, null).Output("z", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, [3], Rand(3, 5))
            .Initializer("bias", ElementType.Float, [3], Rand(3, 6))
            .Initializer("var", ElementType.Float, [3], new[] { 0.5f, 1f, 2f })
            .Node("InstanceNormalization", ["x", "scale", "bias"], ["y"], ("epsilon", 1e-3f))
            .Node("BatchNormalization", ["x", "s", "b", "m", "var"], ["z"]);
        string path = Oracle.Save(w, "instnorm_bn");
        Assert.Contains("Normalization.BatchNorm(", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    [Fact]
    public void Lp_mvn_lrn_hardmax_match()
    {
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, 2L, 4L, 3L, 5L)
            .Output("lp1", ElementType.Float, null).Output("lp2", ElementType.Float, null)
            .Output("mvn", ElementType.Float, null).Output("mvn1", ElementType.Float, null)
            .Output("lrn", ElementType.Float, null).Output("hm", ElementType.Float, null).Output("hm11", ElementType.Float, null)
            .Node("LpNormalization", ["x"], ["lp1"], ("axis", 1L), ("p", 1L))
            .Node("LpNormalization", ["x"], ["lp2"])
            .Node("MeanVarianceNormalization", ["x"], ["mvn"])
            .Node("MeanVarianceNormalization", ["x"], ["mvn1"], ("axes", new long[] { 1, 3 }))
            .Node("LRN", ["x"], ["lrn"], ("size", 3L), ("alpha", 0.01f), ("beta", 0.6f), ("bias", 1.5f))
            .Node("Hardmax", ["x"], ["hm"], ("axis", 1L));
        w.Node("Identity", ["hm"], ["hm11"]);
        Oracle.Check(Oracle.Save(w, "lp_mvn_lrn_hardmax"));
    }

    [Theory]
    [InlineData(ElementType.Double, "Softmax", 1L)]
    [InlineData(ElementType.Double, "LogSoftmax", -1L)]
    [InlineData(ElementType.Float16, "Softmax", -1L)]
    [InlineData(ElementType.Float16, "LogSoftmax", 1L)]
    public void Softmax_other_types_match(ElementType t, string op, long axis)
    {
        var w = new OnnxWriter().Opset(13).Input("x", t, 2L, 5L, 3L).Output("y", t, null).Node(op, ["x"], ["y"], ("axis", axis));
        Oracle.Check(Oracle.Save(w, op + t), atol: 1e-3, rtol: 1e-3);
    }

    [Theory]
    [InlineData("mean", true, true)]
    [InlineData("sum", false, true)]
    [InlineData("none", true, false)]
    public void Losses_match(string reduction, bool weight, bool ignore)
    {
        var attrs = new List<(string, object)> { ("reduction", reduction) };
        if (ignore) attrs.Add(("ignore_index", 2L));
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, 3L, 5L, 4L).Input("t", ElementType.Int64, 3L, 4L)
            .Output("nll", ElementType.Float, null).Output("sce", ElementType.Float, null).Output("lp", ElementType.Float, null);
        var ins = new List<string> { "x", "t" };
        if (weight) { w.Initializer("w", ElementType.Float, [5], Rand(5, 9, 0.2f, 1.5f)); ins.Add("w"); }
        w.Node("NegativeLogLikelihoodLoss", ins.ToArray(), ["nll"], attrs.ToArray());
        w.Node("SoftmaxCrossEntropyLoss", ins.ToArray(), ["sce", "lp"], attrs.ToArray());
        Oracle.Check(Oracle.Save(w, "loss_" + reduction));
    }

    [Fact]
    public void Float16_reductions_and_normalizations_run_in_float32()
    {
        var w = new OnnxWriter().Opset(18).Input("x", ElementType.Float16, 2L, 4L, 3L, 8L)
            .Output("mean", ElementType.Float16, null).Output("sumT", ElementType.Float16, null)
            .Output("ln", ElementType.Float16, null).Output("gn", ElementType.Float16, null).Output("bn", ElementType.Float16, null)
            .Initializer("axes", ElementType.Int64, [1], new long[] { -1 })
            .Initializer("axes2", ElementType.Int64, [2], new long[] { 0, 2 })
            .Initializer("scale", ElementType.Float16, [8], Array.ConvertAll(Rand(8, 1), v => (Half)v))
            .Initializer("c4", ElementType.Float16, [4], Array.ConvertAll(Rand(4, 2, 0.5f, 1.5f), v => (Half)v))
            .Initializer("g2", ElementType.Float16, [2], Array.ConvertAll(Rand(2, 3), v => (Half)v))
            .Node("ReduceMean", ["x", "axes"], ["mean"])
            .Node("ReduceSum", ["x", "axes2"], ["sumT"], ("keepdims", 0L))
            .Node("LayerNormalization", ["x", "scale"], ["ln"])
            .Node("GroupNormalization", ["x", "g2", "g2"], ["gn"], ("num_groups", 2L))
            .Node("BatchNormalization", ["x", "c4", "c4", "c4", "c4"], ["bn"]);
        string path = Oracle.Save(w, "fp16_norms");
        Assert.Contains("FloatShim.Widen(", Oracle.Generate(path).Source);
        Oracle.Check(path, atol: 2e-3, rtol: 2e-3);
    }
}
