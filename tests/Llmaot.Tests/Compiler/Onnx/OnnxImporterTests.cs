using Llmaot.Ir;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Onnx;

public class OnnxImporterTests
{
    [Fact]
    public void Mnist_imports_with_opsets_initializer_defaults_and_names()
    {
        using var m = OnnxImporter.Import(SharedData.File("models/onnx/mnist.onnx"));
        Assert.Equal(3, m.IrVersion);
        Assert.Equal(7, m.Opsets[""]);
        Assert.Single(m.Graph.Inputs);
        Assert.Equal("Input3", m.Graph.Inputs[0].Name);
        Assert.Equal("[1,1,28,28]", m.Graph.Inputs[0].Shape.ToString());
        // IR 3 exporters list initializers as graph inputs: they stay constants (overridable defaults).
        var p5 = m.Graph.Constants.Single(c => c.Name == "Parameter5");
        Assert.True(p5.IsOverridableDefault);
        Assert.Equal("[8,1,5,5]", p5.Shape.ToString());
        Assert.Equal(12, m.Graph.Nodes.Count);
    }

    [Fact]
    public void Raw_data_weights_are_views_of_the_mapped_file_not_copies()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 1000L).Output("y", ElementType.Float, null)
            .Initializer("big", ElementType.Float, [1000], Enumerable.Range(0, 1000).Select(i => (float)i).ToArray())
            .Node("Add", ["x", "big"], ["y"]);
        using var m = OnnxImporter.Import(Oracle.Save(w, "big"));
        var big = m.Graph.Constants.Single(c => c.Name == "big");
        Assert.Equal("FileSlice", big.Const!.GetType().Name);
        Assert.Equal(999f, big.Const.As<float>()[999]);
    }

    [Fact]
    public void External_data_is_read_from_the_file_beside_the_model()
    {
        string dir = SharedData.TempDir("ext");
        var data = new byte[32 + 16];
        BitConverter.GetBytes(2.5f).CopyTo(data, 32);
        BitConverter.GetBytes(-1f).CopyTo(data, 44);
        File.WriteAllBytes(Path.Combine(dir, "weights.bin"), data);
        var w = new OnnxWriter().Input("x", ElementType.Float, 4L).Output("y", ElementType.Float, null)
            .ExternalInitializer("w", ElementType.Float, [4], "weights.bin", 32, 16).Node("Add", ["x", "w"], ["y"]);
        string p = Path.Combine(dir, "ext.onnx");
        w.Save(p);
        using var m = OnnxImporter.Import(p);
        var c = m.Graph.Constants.Single(v => v.Name == "w");
        Assert.Equal(new[] { 2.5f, 0, 0, -1f }, c.Const!.As<float>().ToArray());
        Oracle.Check(p);
    }

    [Fact]
    public void Symbolic_and_unknown_dims_are_kept()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, "batch", 3L).Output("y", ElementType.Float, null).Node("Relu", ["x"], ["y"]);
        using var m = OnnxImporter.Import(Oracle.Save(w, "sym"));
        Assert.Equal("[batch,3]", m.Graph.Inputs[0].Shape.ToString());
        Assert.False(m.Graph.Inputs[0].Shape.IsStatic);
    }

    [Fact]
    public void Nodes_out_of_topological_order_are_sorted()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 2L).Output("y", ElementType.Float, null)
            .Node("Relu", ["a"], ["y"]).Node("Neg", ["x"], ["a"]);
        using var m = OnnxImporter.Import(Oracle.Save(w, "order"));
        Assert.Equal(["Neg", "Relu"], m.Graph.Nodes.Select(n => n.Op));
    }

    [Fact]
    public void Subgraph_attributes_read_outer_values()
    {
        using var m = OnnxImporter.Import(SharedData.File("onnx-node-tests/node/test_if/model.onnx"));
        var iff = m.Graph.Nodes.Single(n => n.Op == "If");
        Assert.NotNull(iff.Attrs["then_branch"].G);
        Assert.NotNull(iff.Attrs["else_branch"].G);
        Assert.Equal(Attr.Kinds.Graph, iff.Attrs["then_branch"].Kind);
    }

    [Fact]
    public void Ir_printer_shows_phases_decisions()
    {
        using var m = Llmaot.Passes.Pipeline.Compile(SharedData.File("models/onnx/mnist.onnx"), new Llmaot.Passes.CompileOptions());
        string text = IrPrinter.Print(m);
        Assert.Contains("@kernel=", text);
        Assert.Contains("@arena=", text);
        Assert.Contains("input %", text);
        Assert.Contains("return %", text);
    }
}
