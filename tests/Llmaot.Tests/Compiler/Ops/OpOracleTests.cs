using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Single-op models checked against ONNX Runtime on seeded inputs: one case per attribute combination that matters.</summary>
public class OpOracleTests
{
    private static readonly Random Rng = new(7);

    private static float[] Rand(long n, int seed)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)(r.NextDouble() * 2 - 1);
        return a;
    }

    private static OnnxWriter Unary(string op, long[] shape, int opset = 17, params (string, object)[] attrs) =>
        new OnnxWriter().Opset(opset).Input("x", ElementType.Float, shape.Cast<object>().ToArray()).Output("y", ElementType.Float, null)
            .Node(op, ["x"], ["y"], attrs);

    [Theory]
    [InlineData("Relu")]
    [InlineData("Sigmoid")]
    [InlineData("Tanh")]
    public void Unary_ops_match(string op)
    {
        Oracle.Check(Oracle.Save(Unary(op, [3, 67]), op));
    }

    [Theory]
    [InlineData("Add", new long[] { 2, 3, 4 }, new long[] { 2, 3, 4 })]
    [InlineData("Sub", new long[] { 2, 3, 4 }, new long[] { 4 })]
    [InlineData("Mul", new long[] { 2, 3, 4 }, new long[] { 3, 1 })]
    [InlineData("Div", new long[] { 1, 3, 1 }, new long[] { 2, 1, 5 })]
    [InlineData("Add", new long[] { 5 }, new long[] { 1 })]
    [InlineData("Mul", new long[] { 1 }, new long[] { 2, 37 })]
    [InlineData("Add", new long[] { 2, 1, 4, 1 }, new long[] { 3, 1, 6 })]
    public void Binary_ops_broadcast(string op, long[] a, long[] b)
    {
        var w = new OnnxWriter().Input("a", ElementType.Float, a.Cast<object>().ToArray()).Input("b", ElementType.Float, b.Cast<object>().ToArray())
            .Output("y", ElementType.Float, null).Node(op, ["a", "b"], ["y"]);
        Oracle.Check(Oracle.Save(w, op));
    }

    [Fact]
    public void Binary_with_constant_scalar_is_inlined_and_correct()
    {
        var w = new OnnxWriter().Input("a", ElementType.Float, 4L, 5L).Output("y", ElementType.Float, null)
            .Initializer("s", ElementType.Float, [], new[] { 0.25f })
            .Node("Div", ["a", "s"], ["y"]);
        string path = Oracle.Save(w, "div_scalar");
        Assert.Contains("0.25f", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    public static IEnumerable<object[]> ConvCases() =>
    [
        // x shape, w shape, attrs
        [new long[] { 1, 1, 28, 28 }, new long[] { 8, 1, 5, 5 }, new (string, object)[] { ("pads", new long[] { 2, 2, 2, 2 }) }, true],
        [new long[] { 2, 3, 9, 11 }, new long[] { 4, 3, 3, 3 }, new (string, object)[] { ("strides", new long[] { 2, 2 }) }, false],
        [new long[] { 1, 4, 10, 10 }, new long[] { 6, 2, 3, 3 }, new (string, object)[] { ("group", 2L), ("pads", new long[] { 1, 0, 2, 1 }) }, true],
        [new long[] { 1, 6, 12, 12 }, new long[] { 6, 1, 3, 3 }, new (string, object)[] { ("group", 6L), ("pads", new long[] { 1, 1, 1, 1 }) }, true],
        [new long[] { 1, 3, 13, 13 }, new long[] { 5, 3, 3, 3 }, new (string, object)[] { ("dilations", new long[] { 2, 2 }), ("pads", new long[] { 2, 1, 2, 2 }) }, false],
        [new long[] { 1, 3, 13, 14 }, new long[] { 5, 3, 4, 2 }, new (string, object)[] { ("strides", new long[] { 3, 2 }), ("auto_pad", "SAME_LOWER") }, true],
        [new long[] { 1, 16, 7, 7 }, new long[] { 8, 16, 1, 1 }, new (string, object)[0], true],
        [new long[] { 1, 3, 20 }, new long[] { 4, 3, 5 }, new (string, object)[] { ("pads", new long[] { 2, 1 }), ("strides", new long[] { 2 }) }, true],
    ];

    [Theory]
    [MemberData(nameof(ConvCases))]
    public void Conv_matches(long[] x, long[] wShape, (string, object)[] attrs, bool bias)
    {
        long wn = wShape.Aggregate(1L, (a, b) => a * b);
        var w = new OnnxWriter().Input("x", ElementType.Float, x.Cast<object>().ToArray()).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, wShape, Rand(wn, 1));
        if (bias) w.Initializer("b", ElementType.Float, [wShape[0]], Rand(wShape[0], 2));
        w.Node("Conv", bias ? ["x", "w", "b"] : ["x", "w"], ["y"], attrs);
        Oracle.Check(Oracle.Save(w, "conv"));
    }

    [Fact]
    public void Conv_add_relu_fuse_into_one_kernel_and_match()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 1L, 3L, 8L, 8L).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [4, 3, 3, 3], Rand(108, 3))
            .Initializer("b", ElementType.Float, [4, 1, 1], Rand(4, 4))
            .Node("Conv", ["x", "w"], ["c"], ("pads", new long[] { 1, 1, 1, 1 }))
            .Node("Add", ["c", "b"], ["s"])
            .Node("Relu", ["s"], ["y"]);
        string path = Oracle.Save(w, "conv_add_relu");
        var src = Oracle.Generate(path).Source;
        Assert.Contains("epi: Epilogue.Relu", src);
        Assert.DoesNotContain("Elementwise.", src);
        Oracle.Check(path);
    }

    [Fact]
    public void Conv_batchnorm_folds_into_weights_and_matches()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 1L, 3L, 6L, 6L).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [4, 3, 3, 3], Rand(108, 5))
            .Initializer("scale", ElementType.Float, [4], new[] { 1.5f, 0.5f, -1f, 2f })
            .Initializer("bias", ElementType.Float, [4], new[] { 0.1f, -0.2f, 0.3f, 0f })
            .Initializer("mean", ElementType.Float, [4], new[] { 0.05f, 0.1f, -0.1f, 0.2f })
            .Initializer("var", ElementType.Float, [4], new[] { 1f, 0.5f, 2f, 0.25f })
            .Node("Conv", ["x", "w"], ["c"])
            .Node("BatchNormalization", ["c", "scale", "bias", "mean", "var"], ["y"], ("epsilon", 1e-3f));
        string path = Oracle.Save(w, "conv_bn");
        var src = Oracle.Generate(path).Source;
        Assert.DoesNotContain("Elementwise.", src);
        Oracle.Check(path);
    }

    [Fact]
    public void BatchNormalization_alone_matches()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 2L, 3L, 5L).Output("y", ElementType.Float, null)
            .Initializer("scale", ElementType.Float, [3], new[] { 1.5f, 0.5f, -1f })
            .Initializer("bias", ElementType.Float, [3], new[] { 0.1f, -0.2f, 0.3f })
            .Initializer("mean", ElementType.Float, [3], new[] { 0.05f, 0.1f, -0.1f })
            .Initializer("var", ElementType.Float, [3], new[] { 1f, 0.5f, 2f })
            .Node("BatchNormalization", ["x", "scale", "bias", "mean", "var"], ["y"]);
        Oracle.Check(Oracle.Save(w, "bn"));
    }

    [Theory]
    [InlineData(false, false, 1f, 1f, "row")]
    [InlineData(true, false, 0.5f, 1f, "none")]
    [InlineData(false, true, 1f, 2f, "full")]
    [InlineData(true, true, 1.5f, 0.5f, "col")]
    [InlineData(false, true, 1f, 1f, "scalar")]
    public void Gemm_matches(bool transA, bool transB, float alpha, float beta, string c)
    {
        long m = 5, k = 7, n = 6;
        var w = new OnnxWriter().Input("a", ElementType.Float, transA ? new object[] { k, m } : [m, k]).Output("y", ElementType.Float, null)
            .Initializer("b", ElementType.Float, transB ? [n, k] : [k, n], Rand(n * k, 6));
        var inputs = new List<string> { "a", "b" };
        long[]? cs = c switch { "row" => [n], "full" => [m, n], "col" => [m, 1], "scalar" => [], _ => null };
        if (cs != null) { w.Initializer("c", ElementType.Float, cs, Rand(cs.Aggregate(1L, (x, y) => x * y), 7)); inputs.Add("c"); }
        w.Node("Gemm", inputs.ToArray(), ["y"], ("transA", transA ? 1L : 0L), ("transB", transB ? 1L : 0L), ("alpha", alpha), ("beta", beta));
        Oracle.Check(Oracle.Save(w, "gemm"));
    }

    [Theory]
    [InlineData(new long[] { 3, 4 }, new long[] { 4, 5 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 4, 5 })]
    [InlineData(new long[] { 2, 3, 4 }, new long[] { 2, 4, 5 })]
    [InlineData(new long[] { 2, 1, 3, 4 }, new long[] { 3, 4, 5 })]
    [InlineData(new long[] { 4 }, new long[] { 4, 5 })]
    [InlineData(new long[] { 3, 4 }, new long[] { 4 })]
    [InlineData(new long[] { 1, 256 }, new long[] { 256, 10 })]
    public void MatMul_matches(long[] a, long[] b)
    {
        var w = new OnnxWriter().Input("a", ElementType.Float, a.Cast<object>().ToArray()).Input("b", ElementType.Float, b.Cast<object>().ToArray())
            .Output("y", ElementType.Float, null).Node("MatMul", ["a", "b"], ["y"]);
        Oracle.Check(Oracle.Save(w, "matmul"));
    }

    public static IEnumerable<object[]> PoolCases() =>
    [
        ["MaxPool", new long[] { 1, 2, 8, 8 }, new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) }],
        ["MaxPool", new long[] { 1, 3, 9, 7 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("pads", new long[] { 1, 1, 1, 1 }) }],
        ["MaxPool", new long[] { 1, 2, 10, 10 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 3, 3 }), ("ceil_mode", 1L) }],
        ["MaxPool", new long[] { 1, 2, 9, 9 }, new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("dilations", new long[] { 2, 2 }) }],
        ["MaxPool", new long[] { 1, 2, 9, 9 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("auto_pad", "SAME_UPPER"), ("strides", new long[] { 2, 2 }) }],
        ["AveragePool", new long[] { 1, 2, 8, 8 }, new (string, object)[] { ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }) }],
        ["AveragePool", new long[] { 1, 3, 7, 7 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }) }],
        ["AveragePool", new long[] { 1, 3, 7, 7 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("pads", new long[] { 1, 1, 1, 1 }), ("count_include_pad", 1L) }],
        ["AveragePool", new long[] { 1, 2, 10, 10 }, new (string, object)[] { ("kernel_shape", new long[] { 3, 3 }), ("strides", new long[] { 2, 2 }), ("ceil_mode", 1L) }],
        ["MaxPool", new long[] { 1, 2, 11 }, new (string, object)[] { ("kernel_shape", new long[] { 3 }), ("strides", new long[] { 2 }) }],
    ];

    [Theory]
    [MemberData(nameof(PoolCases))]
    public void Pool_matches(string op, long[] x, (string, object)[] attrs)
    {
        Oracle.Check(Oracle.Save(Unary(op, x, 17, attrs), op));
    }

    [Theory]
    [InlineData("GlobalAveragePool")]
    [InlineData("GlobalMaxPool")]
    public void GlobalPool_matches(string op) => Oracle.Check(Oracle.Save(Unary(op, [2, 3, 5, 7]), op));

    [Theory]
    [InlineData("Softmax", 13, -1L)]
    [InlineData("Softmax", 13, 1L)]
    [InlineData("Softmax", 11, 1L)]
    [InlineData("LogSoftmax", 13, -1L)]
    [InlineData("LogSoftmax", 13, 0L)]
    public void Softmax_matches(string op, int opset, long axis)
    {
        Oracle.Check(Oracle.Save(Unary(op, [2, 3, 17], opset, ("axis", axis)), op));
    }

    [Fact]
    public void Transpose_concat_gather_reshape_flatten_squeeze_unsqueeze_match()
    {
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, 2L, 3L, 4L).Input("z", ElementType.Float, 2L, 5L, 4L)
            .Output("y", ElementType.Float, null)
            .Initializer("idx", ElementType.Int64, [3], new long[] { 2, 0, -1 })
            .Initializer("shape", ElementType.Int64, [2], new long[] { 0, -1 })
            .Initializer("ax0", ElementType.Int64, [1], new long[] { 0 })
            .Node("Concat", ["x", "z"], ["c"], ("axis", 1L))               // [2,8,4]
            .Node("Transpose", ["c"], ["t"], ("perm", new long[] { 2, 0, 1 })) // [4,2,8]
            .Node("Gather", ["t", "idx"], ["g"], ("axis", 2L))              // [4,2,3]
            .Node("Reshape", ["g", "shape"], ["r"])                         // [4,6]
            .Node("Unsqueeze", ["r", "ax0"], ["u"])                         // [1,4,6]
            .Node("Squeeze", ["u", "ax0"], ["s"])                           // [4,6]
            .Node("Flatten", ["s"], ["y"], ("axis", 1L));
        Oracle.Check(Oracle.Save(w, "movement"));
    }

    [Fact]
    public void Shape_arithmetic_folds_to_a_constant_reshape()
    {
        // PyTorch-style flatten: Shape -> Gather -> Unsqueeze -> Concat -> Reshape
        var w = new OnnxWriter().Opset(11).Input("x", ElementType.Float, 2L, 3L, 4L).Output("y", ElementType.Float, null)
            .Initializer("zero", ElementType.Int64, [], new long[] { 0 })
            .Initializer("minus1", ElementType.Int64, [1], new long[] { -1 })
            .Node("Shape", ["x"], ["s"])
            .Node("Gather", ["s", "zero"], ["b"], ("axis", 0L))
            .Node("Unsqueeze", ["b"], ["bu"], ("axes", new long[] { 0 }))
            .Node("Concat", ["bu", "minus1"], ["shape"], ("axis", 0L))
            .Node("Reshape", ["x", "shape"], ["r"])
            .Node("Relu", ["r"], ["y"]);
        string path = Oracle.Save(w, "flatten_dynamic");
        var src = Oracle.Generate(path).Source;
        Assert.DoesNotContain("Gather", src);
        Oracle.Check(path);
    }

    [Fact]
    public void Identity_output_of_input_is_copied()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 3L).Output("y", ElementType.Float, null).Node("Identity", ["x"], ["y"]);
        Oracle.Check(Oracle.Save(w, "identity"));
    }

    [Fact]
    public void Constant_node_output_is_copied_to_the_output()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 3L).Output("y", ElementType.Float, null).Output("k", ElementType.Float, null)
            .Node("Constant", [], ["k"], ("value", (ElementType.Float, new long[] { 2 }, BitConverter.GetBytes(1.5f).Concat(BitConverter.GetBytes(-2f)).ToArray())))
            .Node("Relu", ["x"], ["y"]);
        Oracle.Check(Oracle.Save(w, "constant_out"));
    }

    [Fact]
    public void Cast_int64_to_float_matches()
    {
        var w = new OnnxWriter().Input("x", ElementType.Int64, 2L, 3L).Output("y", ElementType.Float, null)
            .Node("Cast", ["x"], ["y"], ("to", (long)ElementType.Float));
        Oracle.Check(Oracle.Save(w, "cast"));
    }
}
