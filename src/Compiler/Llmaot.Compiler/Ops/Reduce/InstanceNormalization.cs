using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// InstanceNormalization (opset 1-22): X [N, C, ...]; each (n, c) plane is normalized by its own mean and variance
/// (epsilon default 1e-5), then Y = norm * scale[c] + B[c]. float32 (statistics in double); it runs as GroupNorm with
/// one channel per group.
/// </summary>
public sealed class InstanceNormalizationOp : OpDef
{
    public override string Op => "InstanceNormalization";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        if (xs.Rank < 2) throw Error(n, Codes.ShapeMismatch, $"input {xs} needs a channel dim");
        for (int i = 1; i <= 2; i++)
        {
            FloatShim.RequireFloatLike(n, Input(n, i));
            var p = InShape(n, i);
            if (p.Rank != 1 || p[0].IsKnown && xs[1].IsKnown && p[0].Value != xs[1].Value)
                throw Error(n, Codes.ShapeMismatch, $"parameter {i} has shape {p}; expected [{xs[1]}]");
        }
        Set(n, 0, x.Elem, xs);
    }

    public override void Select(Node n)
    {
        n.Kernel = "Normalization.GroupNorm";
        FloatShim.Reserve(n, 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var e = FloatShim.Begin(n, ctx);
        var xs = n.Inputs[0]!.Shape.ToLongs();
        long spatial = xs.Skip(2).Aggregate(1L, (a, b) => a * b);
        e.W.Line($"Normalization.GroupNorm({e.P(n.Inputs[0]!)}, scale: {e.P(n.Inputs[1]!)}, bias: {e.P(n.Inputs[2]!)}, {e.P(n.Outputs[0])}, batch: {xs[0]}, channels: {xs[1]}, groups: {xs[1]}, spatial: {spatial}, epsilon: {Lit.F(n.Float("epsilon", 1e-5f))}, perChannel: true);");
        FloatShim.End(n, ctx, e);
    }
}
