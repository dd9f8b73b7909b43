using Llmaot.Ir;
using Llmaot.Onnx;
using Llmaot.Ops;
using Llmaot.Runtime;
using Llmaot.Passes;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Passes;

public class MemoryPlannerTests
{
    [Theory]
    [InlineData("models/onnx/mnist.onnx")]
    [InlineData("models/onnx/cnn_mnist_pytorch.onnx")]
    public void Tensors_alive_at_the_same_time_never_overlap(string model)
    {
        using var m = Pipeline.Compile(SharedData.File(model), new CompileOptions());
        var g = m.Graph;
        var blocks = new List<(string What, long Off, long Size, int Start, int End)>();
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            foreach (var v in n.Outputs.Where(v => v.ArenaOffset >= 0))
            {
                int end = i;
                for (int j = i; j < g.Nodes.Count; j++)
                    if (g.Nodes[j].Inputs.Any(x => x != null && MemoryPlanner.Root(x) == v)) end = j;
                blocks.Add((v.Name, v.ArenaOffset, v.Bytes, i, end));
            }
            if (n.ScratchOffset >= 0) blocks.Add((n.Name + " scratch", n.ScratchOffset, n.ScratchBytes, i, i));
        }
        Assert.NotEmpty(blocks);
        foreach (var a in blocks)
        {
            Assert.True(a.Off % 64 == 0, $"{a.What} at {a.Off} is not 64-byte aligned");
            Assert.True(a.Off + a.Size <= m.ArenaBytes, $"{a.What} ends past the arena");
            foreach (var b in blocks)
            {
                if (ReferenceEquals(a.What, b.What) && a.Off == b.Off) continue;
                bool timeOverlap = a.Start <= b.End && b.Start <= a.End;
                bool memOverlap = a.Off < b.Off + b.Size && b.Off < a.Off + a.Size;
                Assert.False(timeOverlap && memOverlap, $"{a.What} [{a.Off},+{a.Size}) and {b.What} [{b.Off},+{b.Size}) overlap while both alive");
            }
        }
        long sum = blocks.Sum(b => (b.Size + 63) / 64 * 64);
        Assert.True(m.ArenaBytes <= sum);
    }

    [Fact]
    public void Reuse_makes_the_arena_smaller_than_the_sum_of_tensors()
    {
        using var m = Pipeline.Compile(SharedData.File("models/onnx/cnn_mnist_pytorch.onnx"), new CompileOptions());
        long sum = m.Graph.Nodes.SelectMany(n => n.Outputs).Where(v => v.ArenaOffset >= 0).Sum(v => v.Bytes)
                 + m.Graph.Nodes.Sum(n => n.ScratchBytes);
        Assert.True(m.ArenaBytes < sum, $"arena {m.ArenaBytes} vs sum {sum}");
    }

    [Fact]
    public void Views_alias_their_input_and_use_no_arena()
    {
        using var m = Pipeline.Compile(SharedData.File("models/onnx/mnist.onnx"), new CompileOptions());
        var reshape = m.Graph.Nodes.Single(n => n.Op == "Reshape");
        Assert.NotNull(reshape.Outputs[0].AliasOf);
        Assert.Equal(-1, reshape.Outputs[0].ArenaOffset);
    }

    [Fact]
    public void Body_values_and_captured_outer_values_live_for_the_whole_loop()
    {
        // r = Relu(x) is read only inside the Loop body; after the Loop, z = Neg(x) could reuse r's bytes.
        var body = new OnnxWriter { GraphName = "body" }
            .Input("i", ElementType.Int64, []).Input("c", ElementType.Bool, []).Input("s_in", ElementType.Float, 64L)
            .Output("c_out", ElementType.Bool, []).Output("s_out", ElementType.Float, 64L)
            .Node("Identity", ["c"], ["c_out"]).Node("Add", ["s_in", "r"], ["t"]).Node("Mul", ["t", "r"], ["s_out"]);
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, 64L)
            .Output("s", ElementType.Float, 64L).Output("z", ElementType.Float, 64L)
            .Initializer("M", ElementType.Int64, [], new long[] { 3 })
            .Node("Relu", ["x"], ["r"]).Node("Loop", ["M", "", "x"], ["s"], ("body", body))
            .Node("Neg", ["x"], ["n"]).Node("Abs", ["n"], ["z"]);
        using var m = Pipeline.Compile(Oracle.Save(w, "loop_plan"), new CompileOptions());
        var loop = m.Graph.Nodes.Single(n => n.Op == "Loop");
        var r = m.Graph.Nodes.Single(n => n.Op == "Relu").Outputs[0];
        Assert.Contains(r, ControlFlow.OuterReads(loop));
        var bodyValues = ControlFlow.BodyValues(loop).Where(v => v.ArenaOffset >= 0).ToList();
        Assert.Equal(5, bodyValues.Count); // i, c, s_in, t, s_out (c_out aliases c)
        var live = bodyValues.Append(r).ToList();
        foreach (var a in live)
            foreach (var b in live)
                if (a != b)
                    Assert.False(a.ArenaOffset < b.ArenaOffset + b.Bytes && b.ArenaOffset < a.ArenaOffset + a.Bytes,
                        $"'{a.Name}' and '{b.Name}' share bytes while the Loop runs");
    }
}
