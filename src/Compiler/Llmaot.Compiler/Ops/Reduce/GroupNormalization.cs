using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// GroupNormalization (opset 18, 21): X [N, C, ...] split into <c>num_groups</c> groups of C/num_groups channels;
/// each (n, group) is normalized by its mean and variance (epsilon default 1e-5), then
/// Y = norm * scale + bias. Opset 21: scale and bias are per channel [C]; opset 18: per group [num_groups].
/// float32 (statistics in double).
/// </summary>
public sealed class GroupNormalizationOp : OpDef
{
    public override string Op => "GroupNormalization";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        if (xs.Rank < 2) throw Error(n, Codes.ShapeMismatch, $"input {xs} needs a channel dim");
        long groups = n.Int("num_groups", 0);
        if (groups <= 0 || xs[1].IsKnown && xs[1].Value % groups != 0)
            throw Error(n, Codes.BadAttribute, $"num_groups {groups} must divide the {xs[1]} channels");
        var expected = n.Opset >= 21 ? xs[1] : Dim.Of(groups);
        for (int i = 1; i <= 2; i++)
        {
            FloatShim.RequireFloatLike(n, Input(n, i));
            var p = InShape(n, i);
            if (p.Rank != 1 || p[0].IsKnown && expected.IsKnown && p[0].Value != expected.Value)
                throw Error(n, Codes.ShapeMismatch, $"parameter {i} has shape {p}; expected [{expected}] (opset {n.Opset})");
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
        e.W.Line($"Normalization.GroupNorm({e.P(n.Inputs[0]!)}, scale: {e.P(n.Inputs[1]!)}, bias: {e.P(n.Inputs[2]!)}, {e.P(n.Outputs[0])}, batch: {xs[0]}, channels: {xs[1]}, groups: {n.Int("num_groups", 1)}, spatial: {spatial}, epsilon: {Lit.F(n.Float("epsilon", 1e-5f))}, perChannel: {Lit.B(n.Opset >= 21)});");
        FloatShim.End(n, ctx, e);
    }
}
