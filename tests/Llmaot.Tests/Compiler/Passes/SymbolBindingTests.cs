using Llmaot.Diagnostics;
using Llmaot.Onnx;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Passes;

public class SymbolBindingTests
{
    private static string Model() => Oracle.Save(new OnnxWriter()
        .Input("x", ElementType.Float, "batch", 3L, "len").Input("y", ElementType.Float, "batch", 3L, 1L)
        .Output("z", ElementType.Float, null).Node("Add", ["x", "y"], ["z"]), "sym");

    [Fact]
    public void Shape_option_binds_every_symbol_of_that_input_and_propagates()
    {
        var o = new CompileOptions();
        o.Shapes["x"] = [2, 3, 7];
        using var m = Pipeline.Compile(Model(), o);
        Assert.Equal("[2,3,7]", m.Graph.Outputs[0].Shape.ToString());
        Assert.Equal("[2,3,1]", m.Graph.Inputs[1].Shape.ToString());
        Assert.Empty(o.Warnings);
    }

    [Fact]
    public void Dim_option_binds_by_symbol_name()
    {
        var o = new CompileOptions();
        o.Dims["batch"] = 4;
        o.Dims["len"] = 5;
        using var m = Pipeline.Compile(Model(), o);
        Assert.Equal("[4,3,5]", m.Graph.Outputs[0].Shape.ToString());
    }

    [Fact]
    public void Unbound_symbols_default_to_one_with_a_warning()
    {
        var o = new CompileOptions();
        using var m = Pipeline.Compile(Model(), o);
        Assert.Equal("[1,3,1]", m.Graph.Outputs[0].Shape.ToString());
        Assert.Contains(o.Warnings, w => w.Contains("'batch'") && w.Contains("--dim batch=N"));
    }

    [Fact]
    public void Conflicting_bindings_are_errors()
    {
        var o = new CompileOptions();
        o.Shapes["x"] = [2, 3, 7];
        o.Shapes["y"] = [5, 3, 1];
        var e = Assert.Throws<LlmaotException>(() => Pipeline.Compile(Model(), o));
        Assert.Equal(Codes.BadBinding, e.Code);
    }

    [Fact]
    public void A_fixed_dim_cannot_be_rebound()
    {
        var o = new CompileOptions();
        o.Shapes["x"] = [2, 4, 7];
        var e = Assert.Throws<LlmaotException>(() => Pipeline.Compile(Model(), o));
        Assert.Contains("fixed at 3", e.Message);
    }
}
