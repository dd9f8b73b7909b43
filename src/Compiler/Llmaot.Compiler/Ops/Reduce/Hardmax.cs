using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Hardmax (opset 1, 11, 13): 1 at the first maximum along <c>axis</c> (opset 13+, default -1), 0 elsewhere; before
/// opset 13 the input is coerced to 2-D at axis (default 1). float, double, float16.
/// </summary>
public sealed class HardmaxOp : OpDef
{
    public override string Op => "Hardmax";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(x.Elem)}; Hardmax supports float, double and float16");
        var xs = InShape(n, 0);
        Axis(n, n.Int("axis", n.Opset >= 13 ? -1 : 1), xs.Rank);
        Set(n, 0, x.Elem, xs);
    }

    public override void Select(Node n) => n.Kernel = "Softmax.Hardmax";

    public override void Emit(Node n, EmitContext e)
    {
        var (outer, len, inner) = SoftmaxOp.Split(n);
        e.W.Line($"Softmax.Hardmax({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, outer: {outer}, n: {len}, inner: {inner});");
    }
}
