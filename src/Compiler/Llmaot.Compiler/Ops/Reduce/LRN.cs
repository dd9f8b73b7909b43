using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// LRN (opset 1, 13): local response normalization across channels of X [N, C, ...]:
/// y = x / (bias + alpha / size * sum of x² over the <c>size</c> channels around c)^beta
/// (alpha 1e-4, beta 0.75, bias 1 by default; size required). float32.
/// </summary>
public sealed class LrnOp : OpDef
{
    public override string Op => "LRN";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        if (xs.Rank < 2) throw Error(n, Codes.ShapeMismatch, $"input {xs} needs a channel dim");
        if (n.Int("size", 0) <= 0) throw Error(n, Codes.BadAttribute, "attribute 'size' is required and must be positive");
        Set(n, 0, x.Elem, xs);
    }

    public override void Select(Node n)
    {
        n.Kernel = "Normalization.Lrn";
        FloatShim.Reserve(n, 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var e = FloatShim.Begin(n, ctx);
        var xs = n.Inputs[0]!.Shape.ToLongs();
        long spatial = xs.Skip(2).Aggregate(1L, (a, b) => a * b);
        e.W.Line($"Normalization.Lrn({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, batch: {xs[0]}, channels: {xs[1]}, spatial: {spatial}, size: {n.Int("size", 1)}, alpha: {Lit.F(n.Float("alpha", 1e-4f))}, beta: {Lit.F(n.Float("beta", 0.75f))}, bias: {Lit.F(n.Float("bias", 1f))});");
        FloatShim.End(n, ctx, e);
    }
}
