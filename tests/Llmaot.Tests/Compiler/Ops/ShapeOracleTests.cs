using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Shape, indexing and data-movement ops checked against ONNX Runtime (shape-deciding inputs are initializers).</summary>
public class ShapeOracleTests
{
    private static object[] D(params long[] dims) => dims.Cast<object>().ToArray();

    private static OnnxWriter One(string op, long[] x, string[] extra, int opset, params (string, object)[] attrs) =>
        new OnnxWriter().Opset(opset).Input("x", ElementType.Float, D(x)).Output("y", ElementType.Float, null)
            .Node(op, ["x", .. extra], ["y"], attrs);

    [Theory]
    [InlineData(new long[] { 1, -1 }, new long[] { 6, -12 }, new long[] { 0, 2 }, new long[] { 2, -3 })]
    [InlineData(new long[] { -2, 0 }, new long[] { 100, -100 }, new long[] { -1, 1 }, new long[] { -1, 1 })]
    [InlineData(new long[] { 5 }, new long[] { 1 }, new long[] { 1 }, new long[] { -2 })]
    public void Slice_matches(long[] starts, long[] ends, long[] axes, long[] steps)
    {
        var w = One("Slice", [4, 7, 5], ["s", "e", "a", "t"], 13)
            .Initializer("s", ElementType.Int64, [starts.Length], starts).Initializer("e", ElementType.Int64, [ends.Length], ends)
            .Initializer("a", ElementType.Int64, [axes.Length], axes).Initializer("t", ElementType.Int64, [steps.Length], steps);
        Oracle.Check(Oracle.Save(w, "slice"));
    }

    [Theory]
    [InlineData("constant")]
    [InlineData("reflect")]
    [InlineData("edge")]
    [InlineData("wrap")]
    public void Pad_modes_match(string mode)
    {
        var w = One("Pad", [2, 4, 5], ["p"], 19, ("mode", mode))
            .Initializer("p", ElementType.Int64, [6], new long[] { 0, 2, 3, 1, 3, -1 });
        Oracle.Check(Oracle.Save(w, "pad_" + mode));
    }

    [Fact]
    public void Expand_and_tile_match()
    {
        Oracle.Check(Oracle.Save(One("Expand", [3, 1], ["s"], 13).Initializer("s", ElementType.Int64, [3], new long[] { 2, 1, 6 }), "expand"));
        Oracle.Check(Oracle.Save(One("Tile", [2, 3, 1], ["r"], 13).Initializer("r", ElementType.Int64, [3], new long[] { 2, 1, 3 }), "tile"));
    }

    [Fact]
    public void Split_uneven_num_outputs_matches()
    {
        var w = new OnnxWriter().Opset(18).Input("x", ElementType.Float, D(3, 11)).Output("a", ElementType.Float, null).Output("b", ElementType.Float, null)
            .Output("c", ElementType.Float, null).Node("Split", ["x"], ["a", "b", "c"], ("axis", 1L), ("num_outputs", 3L));
        Assert.Equal(3, Oracle.Check(Oracle.Save(w, "split")).Count);
    }

    [Theory]
    [InlineData("DCR")]
    [InlineData("CRD")]
    public void DepthToSpace_and_back_match(string mode)
    {
        Oracle.Check(Oracle.Save(One("DepthToSpace", [2, 12, 3, 2], [], 13, ("blocksize", 2L), ("mode", mode)), "d2s_" + mode));
        Oracle.Check(Oracle.Save(One("SpaceToDepth", [2, 3, 4, 6], [], 13, ("blocksize", 2L)), "s2d"));
    }

    [Theory]
    [InlineData(1L, 1L)]
    [InlineData(0L, 0L)]
    public void TopK_matches(long largest, long axis)
    {
        var w = new OnnxWriter().Opset(11).Input("x", ElementType.Float, D(3, 9, 4)).Output("v", ElementType.Float, null).Output("i", ElementType.Int64, null)
            .Initializer("k", ElementType.Int64, [1], new long[] { 3 })
            .Node("TopK", ["x", "k"], ["v", "i"], ("axis", axis), ("largest", largest));
        Oracle.Check(Oracle.Save(w, "topk"));
    }

    [Theory]
    [InlineData("ArgMax", 1L)]
    [InlineData("ArgMin", 0L)]
    public void Arg_matches(string op, long keep)
    {
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, D(3, 5, 4)).Output("y", ElementType.Int64, null)
            .Node(op, ["x"], ["y"], ("axis", -2L), ("keepdims", keep), ("select_last_index", 1L));
        Oracle.Check(Oracle.Save(w, op));
    }

    [Fact]
    public void CumSum_reverse_exclusive_matches()
    {
        var w = One("CumSum", [3, 6], ["a"], 14, ("exclusive", 1L), ("reverse", 1L)).Initializer("a", ElementType.Int32, [], new[] { 1 });
        Oracle.Check(Oracle.Save(w, "cumsum"));
    }

    [Fact]
    public void GatherElements_and_scatter_match()
    {
        long[] idx = [0, 2, -1, 1, 0, 2];
        Oracle.Check(Oracle.Save(One("GatherElements", [2, 3], ["i"], 13, ("axis", 1L)).Initializer("i", ElementType.Int64, [2, 3], idx), "gather_el"));
        var w = new OnnxWriter().Opset(18).Input("x", ElementType.Float, D(2, 3)).Input("u", ElementType.Float, D(2, 3)).Output("y", ElementType.Float, null)
            .Initializer("i", ElementType.Int64, [2, 3], new long[] { 0, 2, 1, 1, 0, 2 })
            .Node("ScatterElements", ["x", "i", "u"], ["y"], ("axis", 1L), ("reduction", "max"));
        Oracle.Check(Oracle.Save(w, "scatter_el"));
        var nd = new OnnxWriter().Opset(18).Input("x", ElementType.Float, D(4, 3)).Input("u", ElementType.Float, D(3, 3)).Output("y", ElementType.Float, null)
            .Initializer("i", ElementType.Int64, [3, 1], new long[] { 2, 0, 2 })
            .Node("ScatterND", ["x", "i", "u"], ["y"], ("reduction", "add"));
        Oracle.Check(Oracle.Save(nd, "scatter_nd"));
        var gnd = One("GatherND", [2, 3, 4], ["i"], 13, ("batch_dims", 1L)).Initializer("i", ElementType.Int64, [2, 2, 1], new long[] { 2, 0, 1, 1 });
        Oracle.Check(Oracle.Save(gnd, "gather_nd"));
    }

    [Fact]
    public void Trilu_and_onehot_match()
    {
        Oracle.Check(Oracle.Save(One("Trilu", [2, 4, 5], ["k"], 14, ("upper", 0L)).Initializer("k", ElementType.Int64, [], new long[] { -1 }), "trilu"));
        var w = new OnnxWriter().Opset(11).Output("y", ElementType.Float, null)
            .Initializer("i", ElementType.Int64, [2, 3], new long[] { 0, 3, -1, 5, 2, 1 })
            .Initializer("d", ElementType.Int64, [], new long[] { 4 })
            .Input("v", ElementType.Float, D(2))
            .Node("OneHot", ["i", "d", "v"], ["y"], ("axis", 1L));
        Oracle.Check(Oracle.Save(w, "onehot"));
    }

    [Fact]
    public void Slice_of_a_shape_folds_to_a_constant()
    {
        // Shape -> Slice -> Reshape: the target shape must fold at compile time.
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, D(2, 3, 4)).Output("y", ElementType.Float, null)
            .Initializer("s", ElementType.Int64, [1], new long[] { 1 }).Initializer("e", ElementType.Int64, [1], new long[] { long.MaxValue })
            .Initializer("m", ElementType.Int64, [1], new long[] { -1 })
            .Node("Shape", ["x"], ["sh"]).Node("Slice", ["sh", "s", "e"], ["tail"]).Node("Concat", ["m", "tail"], ["target"], ("axis", 0L))
            .Node("Reshape", ["x", "target"], ["y"]);
        string path = Oracle.Save(w, "shape_slice");
        Assert.DoesNotContain("Strided.Copy", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    [Fact]
    public void Compress_with_a_constant_condition_has_a_static_shape()
    {
        var w = One("Compress", [3, 4], ["c"], 11, ("axis", 1L)).Initializer("c", ElementType.Bool, [3], new byte[] { 1, 0, 1 });
        Oracle.Check(Oracle.Save(w, "compress"));
    }
}
