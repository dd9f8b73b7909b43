using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// SwiGLU (opset 28): y = Swish(a, alpha) · b = a·sigmoid(alpha·a)·b elementwise (alpha default 1), a and b of one shape.
/// </summary>
public sealed class SwiGluOp : OpDef
{
    public override string Op => "SwiGLU";
    public override int SinceVersion => 28;

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        var b = Input(n, 1);
        if (a.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16) || b.Elem != a.Elem)
            throw Error(n, Codes.UnsupportedType, $"SwiGLU supports float32, float16 and double inputs of one type");
        var s = InShape(n, 0);
        if (!s.Equals(InShape(n, 1))) throw Error(n, Codes.ShapeMismatch, $"a {s} and b {InShape(n, 1)} must have the same shape");
        Set(n, 0, a.Elem, s);
    }

    public override void Select(Node n) => n.Kernel = "Gated.SwiGlu";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        e.W.Line($"Gated.SwiGlu({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(y)}, count: {y.Shape.Count}, alpha: {Lit.F(n.Float("alpha", 1f))});");
    }
}
