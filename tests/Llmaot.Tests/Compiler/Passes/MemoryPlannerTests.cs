using Llmaot.Ir;
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
}
