using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>LpNormalization (opset 1, 22): y = x / ||x||_p along <c>axis</c> (default -1), p = 1 or 2 (default 2). Floating types.</summary>
public sealed class LpNormalizationOp : OpDef
{
    public override string Op => "LpNormalization";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(x.Elem)}; LpNormalization supports float, double and float16");
        var xs = InShape(n, 0);
        Axis(n, n.Int("axis", -1), xs.Rank);
        long p = n.Int("p", 2);
        if (p is not (1 or 2)) throw Error(n, Codes.BadAttribute, $"p = {p}; ONNX allows 1 or 2");
        Set(n, 0, x.Elem, xs);
    }

    public override void Select(Node n) => n.Kernel = "Normalization.LpNorm";

    public override void Emit(Node n, EmitContext e)
    {
        var (outer, len, inner) = SoftmaxOp.Split3(n.Inputs[0]!.Shape.ToLongs(), Axis(n, n.Int("axis", -1), n.Inputs[0]!.Shape.Rank));
        e.W.Line($"Normalization.LpNorm({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, outer: {outer}, n: {len}, inner: {inner}, p: {n.Int("p", 2)});");
    }
}
