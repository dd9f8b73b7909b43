using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// RMSNormalization (opset 23): with each row of the dims [axis, rank) (axis default -1),
/// Y = X / sqrt(mean(X²) + epsilon) * Scale, Scale covering those dims. float32 (statistics in double).
/// </summary>
public sealed class RmsNormalizationOp : OpDef
{
    public override string Op => "RMSNormalization";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        int axis = Axis(n, n.Int("axis", -1), xs.Rank);
        Input(n, 1);
        LayerNormalizationOp.RequireCovers(n, 1, xs, axis);
        Set(n, 0, x.Elem, xs);
    }

    public override void Select(Node n)
    {
        n.Kernel = "Normalization.RmsNorm";
        FloatShim.Reserve(n, 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var e = FloatShim.Begin(n, ctx);
        var (outer, len) = LayerNormalizationOp.Split(n);
        e.W.Line($"Normalization.RmsNorm({e.P(n.Inputs[0]!)}, scale: {e.P(n.Inputs[1]!)}, {e.P(n.Outputs[0])}, outer: {outer}, n: {len}, epsilon: {Lit.F(n.Float("epsilon", 1e-5f))});");
        FloatShim.End(n, ctx, e);
    }
}
