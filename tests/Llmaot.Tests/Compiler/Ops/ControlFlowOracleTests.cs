using Llmaot.Diagnostics;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>If, Loop and Scan with subgraph bodies, checked against ONNX Runtime.</summary>
public class ControlFlowOracleTests
{
    private static object[] D(params long[] dims) => dims.Cast<object>().ToArray();

    private static HostTensor Bool(bool v) => new(ElementType.Bool, [], [v ? (byte)1 : (byte)0]);

    private static HostTensor Floats(long[] shape, params float[] v) =>
        new(ElementType.Float, shape, System.Runtime.InteropServices.MemoryMarshal.AsBytes(v.AsSpan()).ToArray());

    [Fact]
    public void If_on_a_run_time_condition_takes_either_branch()
    {
        // Both branches read the outer x; then computes x + x, else x * x.
        var then = new OnnxWriter { GraphName = "then" }.Output("t", ElementType.Float, D(2, 3)).Node("Add", ["x", "x"], ["t"]);
        var els = new OnnxWriter { GraphName = "else" }.Output("e", ElementType.Float, D(2, 3)).Node("Mul", ["x", "x"], ["e"]);
        var w = new OnnxWriter().Opset(17).Input("cond", ElementType.Bool, D()).Input("x", ElementType.Float, D(2, 3))
            .Output("y", ElementType.Float, D(2, 3))
            .Node("If", ["cond"], ["y"], ("then_branch", then), ("else_branch", els));
        string path = Oracle.Save(w, "if_runtime");
        Assert.Contains("if (", Oracle.Generate(path).Source);
        Oracle.Check(path, inputs: new() { ["cond"] = Bool(true) });
        Oracle.Check(path, inputs: new() { ["cond"] = Bool(false) });
    }

    [Fact]
    public void If_whose_branches_differ_in_shape_is_a_clear_error()
    {
        var then = new OnnxWriter { GraphName = "then" }.Output("t", ElementType.Float, null).Node("Identity", ["x"], ["t"]);
        var els = new OnnxWriter { GraphName = "else" }.Output("e", ElementType.Float, null).Node("Transpose", ["x"], ["e"]);
        var w = new OnnxWriter().Opset(17).Input("cond", ElementType.Bool, D()).Input("x", ElementType.Float, D(2, 3))
            .Output("y", ElementType.Float, null)
            .Node("If", ["cond"], ["y"], ("then_branch", then), ("else_branch", els));
        var e = Assert.Throws<LlmaotException>(() => Oracle.Generate(Oracle.Save(w, "if_shapes")));
        Assert.Equal(Codes.ShapeMismatch, e.Code);
        Assert.Contains("then_branch", e.Message);
    }

    /// <summary>A Loop with a constant trip count: a carried sum, a scan output, and a condition the body computes.</summary>
    private static OnnxWriter SumLoop(long trips, string condOut)
    {
        var body = new OnnxWriter { GraphName = "body" }
            .Input("i", ElementType.Int64, D()).Input("c", ElementType.Bool, D()).Input("s_in", ElementType.Float, D(3))
            .Output("c_out", ElementType.Bool, D()).Output("s_out", ElementType.Float, D(3)).Output("scan", ElementType.Float, D(3))
            .Initializer("limit", ElementType.Int64, [], new long[] { 2 })
            .Node("Add", ["s_in", "x"], ["s_out"])
            .Node("Mul", ["s_out", "x"], ["scan"]);
        body = condOut == "identity" ? body.Node("Identity", ["c"], ["c_out"]) : body.Node("Less", ["i", "limit"], ["c_out"]);
        return new OnnxWriter().Opset(17).Input("x", ElementType.Float, D(3)).Input("s0", ElementType.Float, D(3))
            .Output("s", ElementType.Float, D(3)).Output("ys", ElementType.Float, null)
            .Initializer("M", ElementType.Int64, [], new long[] { trips }).Initializer("cond", ElementType.Bool, [], new byte[] { 1 })
            .Node("Loop", ["M", "cond", "s0"], ["s", "ys"], ("body", body));
    }

    [Fact]
    public void Loop_with_a_constant_trip_count_matches()
    {
        string path = Oracle.Save(SumLoop(4, "identity"), "loop_sum");
        Assert.Contains("for (", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    [Fact]
    public void Loop_that_stops_early_throws_rather_than_return_partial_scan_outputs()
    {
        var g = Oracle.Generate(Oracle.Save(SumLoop(5, "less"), "loop_early"));
        using var loaded = InMemoryCompiler.Compile([g]);
        using var model = loaded.Create($"{g.Options.Namespace}.{g.ClassName}");
        var e = Assert.Throws<InvalidOperationException>(() => Verifier.Run(model, Verifier.RandomInputs(model.Info, 1)));
        Assert.StartsWith("LLMAOT9021", e.Message);
    }

    [Fact]
    public void Loop_that_stops_early_without_scan_outputs_matches()
    {
        // cond_out = i < 2: three iterations run out of M = 10.
        var body = new OnnxWriter { GraphName = "body" }
            .Input("i", ElementType.Int64, D()).Input("c", ElementType.Bool, D()).Input("s_in", ElementType.Float, D(2, 2))
            .Output("c_out", ElementType.Bool, D()).Output("s_out", ElementType.Float, D(2, 2))
            .Initializer("limit", ElementType.Int64, [], new long[] { 2 })
            .Node("Less", ["i", "limit"], ["c_out"]).Node("Add", ["s_in", "x"], ["s_out"]);
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, D(2, 2)).Input("cond", ElementType.Bool, D())
            .Output("s", ElementType.Float, D(2, 2))
            .Initializer("M", ElementType.Int64, [], new long[] { 10 })
            .Node("Loop", ["M", "cond", "x"], ["s"], ("body", body));
        string path = Oracle.Save(w, "loop_while");
        Oracle.Check(path, inputs: new() { ["cond"] = Bool(true) });
        Oracle.Check(path, inputs: new() { ["cond"] = Bool(false) });
    }

    [Fact]
    public void Loop_that_swaps_its_carried_values_matches()
    {
        // (a, b) <- (b, a + b): a's next value is b's input, staged so the copies do not overwrite each other.
        var body = new OnnxWriter { GraphName = "body" }
            .Input("i", ElementType.Int64, D()).Input("c", ElementType.Bool, D())
            .Input("a", ElementType.Float, D(4)).Input("b", ElementType.Float, D(4))
            .Output("c_out", ElementType.Bool, D()).Output("a_out", ElementType.Float, D(4)).Output("b_out", ElementType.Float, D(4))
            .Node("Identity", ["c"], ["c_out"]).Node("Identity", ["b"], ["a_out"]).Node("Add", ["a", "b"], ["b_out"]);
        var w = new OnnxWriter().Opset(17).Input("a0", ElementType.Float, D(4)).Input("b0", ElementType.Float, D(4))
            .Output("a", ElementType.Float, D(4)).Output("b", ElementType.Float, D(4))
            .Initializer("M", ElementType.Int64, [], new long[] { 5 })
            .Node("Loop", ["M", "", "a0", "b0"], ["a", "b"], ("body", body));
        string path = Oracle.Save(w, "loop_swap");
        Assert.Contains("staged", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }

    [Theory]
    [InlineData(1L, 0L, 1L)]
    [InlineData(0L, 1L, 0L)]
    public void Scan_along_axis_1_matches(long inDir, long outDir, long outAxis)
    {
        // x [2,5,3] scanned along axis 1 (forwards or from the end); the scan values stack along outAxis.
        var body = new OnnxWriter { GraphName = "body" }
            .Input("s_in", ElementType.Float, D(2, 3)).Input("xt", ElementType.Float, D(2, 3))
            .Output("s_out", ElementType.Float, D(2, 3)).Output("y", ElementType.Float, D(2, 3))
            .Node("Add", ["s_in", "xt"], ["s_out"]).Node("Mul", ["s_out", "xt"], ["y"]);
        var w = new OnnxWriter().Opset(16).Input("s0", ElementType.Float, D(2, 3)).Input("x", ElementType.Float, D(2, 5, 3))
            .Output("s", ElementType.Float, D(2, 3)).Output("ys", ElementType.Float, null)
            .Node("Scan", ["s0", "x"], ["s", "ys"], ("body", body), ("num_scan_inputs", 1L),
                ("scan_input_axes", new long[] { 1 }), ("scan_input_directions", new long[] { inDir }),
                ("scan_output_axes", new long[] { outAxis }), ("scan_output_directions", new long[] { outDir }));
        Oracle.Check(Oracle.Save(w, $"scan_axis1_{inDir}{outDir}{outAxis}"));
    }

    [Fact]
    public void If_inside_a_loop_body_matches()
    {
        // Each iteration adds x on even iterations and subtracts it on odd ones.
        var then = new OnnxWriter { GraphName = "even" }.Output("t", ElementType.Float, D(3)).Node("Add", ["s_in", "x"], ["t"]);
        var els = new OnnxWriter { GraphName = "odd" }.Output("e", ElementType.Float, D(3)).Node("Sub", ["s_in", "x"], ["e"]);
        var body = new OnnxWriter { GraphName = "body" }
            .Input("i", ElementType.Int64, D()).Input("c", ElementType.Bool, D()).Input("s_in", ElementType.Float, D(3))
            .Output("c_out", ElementType.Bool, D()).Output("s_out", ElementType.Float, D(3))
            .Initializer("two", ElementType.Int64, [], new long[] { 2 }).Initializer("zero", ElementType.Int64, [], new long[] { 0 })
            .Node("Mod", ["i", "two"], ["r"]).Node("Equal", ["r", "zero"], ["even"])
            .Node("If", ["even"], ["s_out"], ("then_branch", then), ("else_branch", els))
            .Node("Identity", ["c"], ["c_out"]);
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, D(3)).Output("s", ElementType.Float, D(3))
            .Initializer("M", ElementType.Int64, [], new long[] { 5 })
            .Node("Loop", ["M", "", "x"], ["s"], ("body", body));
        Oracle.Check(Oracle.Save(w, "loop_if"));
    }

    [Fact]
    public void Nested_loops_and_a_scan_inside_a_loop_match()
    {
        // Outer Loop (3 trips) carries s; its body runs an inner Loop (2 trips, s += x each) and a Scan over the
        // rows of m that accumulates them into s; the outer Loop also stacks each iteration's s.
        var inner = new OnnxWriter { GraphName = "inner" }
            .Input("j", ElementType.Int64, D()).Input("c", ElementType.Bool, D()).Input("u", ElementType.Float, D(3))
            .Output("c_out", ElementType.Bool, D()).Output("u_out", ElementType.Float, D(3))
            .Node("Identity", ["c"], ["c_out"]).Node("Add", ["u", "x"], ["u_out"]);
        var scanBody = new OnnxWriter { GraphName = "rows" }
            .Input("acc", ElementType.Float, D(3)).Input("row", ElementType.Float, D(3))
            .Output("acc_out", ElementType.Float, D(3)).Output("seen", ElementType.Float, D(3))
            .Node("Add", ["acc", "row"], ["acc_out"]).Node("Identity", ["acc"], ["seen"]);
        var outer = new OnnxWriter { GraphName = "outer" }
            .Input("i", ElementType.Int64, D()).Input("c", ElementType.Bool, D()).Input("s", ElementType.Float, D(3))
            .Output("c_out", ElementType.Bool, D()).Output("s_out", ElementType.Float, D(3)).Output("trace", ElementType.Float, D(3))
            .Initializer("two", ElementType.Int64, [], new long[] { 2 })
            .Node("Loop", ["two", "", "s"], ["s1"], ("body", inner))
            .Node("Scan", ["s1", "m"], ["s_out", "rows_seen"], ("body", scanBody), ("num_scan_inputs", 1L))
            .Node("Identity", ["c"], ["c_out"]).Node("Identity", ["s_out"], ["trace"]);
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, D(3)).Input("m", ElementType.Float, D(4, 3))
            .Output("s", ElementType.Float, D(3)).Output("traces", ElementType.Float, D(3, 3))
            .Initializer("M", ElementType.Int64, [], new long[] { 3 })
            .Node("Loop", ["M", "", "x"], ["s", "traces"], ("body", outer));
        Oracle.Check(Oracle.Save(w, "loop_nested"));
    }
}
