using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Elementwise family against ONNX Runtime: unary math, activations with attributes, broadcasting variadics, comparisons + Where, Clip, Pow.</summary>
public class ElementwiseOracleTests
{
    private static OnnxWriter Unary(string op, ElementType t, long[] shape, params (string, object)[] attrs) =>
        new OnnxWriter().Opset(18).Input("x", t, shape.Cast<object>().ToArray()).Output("y", t, null).Node(op, ["x"], ["y"], attrs);

    [Theory]
    [InlineData("Abs")]
    [InlineData("Neg")]
    [InlineData("Exp")]
    [InlineData("Sin")]
    [InlineData("Cos")]
    [InlineData("Floor")]
    [InlineData("Round")]
    [InlineData("Erf")]
    [InlineData("Softplus")]
    [InlineData("HardSwish")]
    [InlineData("Atan")]
    public void Float_unary_ops_match(string op)
    {
        Oracle.Check(Oracle.Save(Unary(op, ElementType.Float, [3, 37]), "ew_" + op));
    }

    [Theory]
    [InlineData("Tanh")]
    [InlineData("Sigmoid")]
    [InlineData("Sqrt")]
    public void Double_unary_ops_match(string op)
    {
        Oracle.Check(Oracle.Save(Unary(op, ElementType.Double, [2, 19]), "ew_d_" + op));
    }

    [Theory]
    [InlineData("LeakyRelu", "alpha", 0.2f)]
    [InlineData("Elu", "alpha", 0.7f)]
    [InlineData("Celu", "alpha", 1.5f)]
    [InlineData("ThresholdedRelu", "alpha", 0.3f)]
    [InlineData("HardSigmoid", "alpha", 0.3f)]
    public void Activations_with_attributes_match(string op, string attr, float value)
    {
        Oracle.Check(Oracle.Save(Unary(op, ElementType.Float, [4, 33], (attr, value)), "ew_" + op));
    }

    [Fact]
    public void Variadic_max_broadcasts_three_inputs()
    {
        var w = new OnnxWriter().Opset(13).Input("a", ElementType.Float, 3L).Input("b", ElementType.Float, 2L, 1L).Input("c", ElementType.Float, 4L, 1L, 1L)
            .Output("y", ElementType.Float, null).Node("Max", ["a", "b", "c"], ["y"]);
        Oracle.Check(Oracle.Save(w, "ew_max3"));
    }

    [Fact]
    public void Less_then_where_selects()
    {
        var w = new OnnxWriter().Opset(16).Input("a", ElementType.Float, 2L, 5L).Input("b", ElementType.Float, 5L)
            .Output("y", ElementType.Float, null)
            .Node("Less", ["a", "b"], ["c"]).Node("Where", ["c", "a", "b"], ["y"]);
        Oracle.Check(Oracle.Save(w, "ew_where"));
    }

    [Fact]
    public void Clip_with_constant_bounds_and_pow_by_two()
    {
        var w = new OnnxWriter().Opset(13).Input("x", ElementType.Float, 3L, 41L).Output("y", ElementType.Float, null)
            .Initializer("lo", ElementType.Float, [], new[] { -0.25f }).Initializer("hi", ElementType.Float, [], new[] { 0.5f })
            .Initializer("two", ElementType.Float, [], new[] { 2f })
            .Node("Clip", ["x", "lo", "hi"], ["c"]).Node("Pow", ["c", "two"], ["y"]);
        string path = Oracle.Save(w, "ew_clip_pow");
        Assert.Contains("MulOp<float>", Oracle.Generate(path).Source);
        Oracle.Check(path);
    }
}
