using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// BatchNormalization, inference mode (opset 1-15): Y = (X - mean) / sqrt(var + epsilon) * scale + B per channel (dim 1).
/// With constant parameters it folds to Y = X * s + t (s, t per channel, computed at compile time), which
/// fusion then merges into a preceding Conv (see <c>Passes.Lowering</c>). With runtime parameters it runs
/// <c>Normalization.BatchNorm</c> (float16/bfloat16 computed in float32). Training mode is rejected.
/// </summary>
public sealed class BatchNormalizationOp : OpDef
{
    public override string Op => "BatchNormalization";

    public override void Infer(Node n)
    {
        FloatShim.RequireFloatLike(n, Input(n, 0));
        if (n.Int("training_mode", 0) != 0) throw Error(n, Codes.BadAttribute, "training_mode=1 is a training op; export the model in eval mode");
        if (n.Opset < 9 && n.Int("spatial", 1) != 1) throw Error(n, Codes.BadAttribute, "spatial=0 is not supported");
        for (int i = 1; i < n.Outputs.Count; i++)
            if (!n.Outputs[i].Name.Contains(":unused")) throw Error(n, Codes.UnsupportedOp, "the running mean/var outputs are training outputs; export the model in eval mode");
        var x = InShape(n, 0);
        if (x.Rank < 2) throw Error(n, Codes.ShapeMismatch, $"input {x} needs a channel dim");
        for (int i = 1; i <= 4; i++)
        {
            FloatShim.RequireFloatLike(n, Input(n, i));
            var p = InShape(n, i);
            if (p.Rank != 1 || p[0].IsKnown && x[1].IsKnown && p[0].Value != x[1].Value)
                throw Error(n, Codes.ShapeMismatch, $"parameter {i} has shape {p}; expected [{x[1]}]");
        }
        Set(n, 0, Input(n, 0).Elem, x);
    }

    /// <summary>Per-channel (s, t) with Y = X * s + t, or null when the parameters are not constant.</summary>
    internal static (float[] S, float[] T)? Affine(Node n)
    {
        if (Enumerable.Range(0, 5).Any(i => n.Inputs[i]!.Elem != ElementType.Float) || Enumerable.Range(1, 4).Any(i => !n.Inputs[i]!.IsConst)) return null;
        var scale = n.Inputs[1]!.Const!.As<float>();
        var bias = n.Inputs[2]!.Const!.As<float>();
        var mean = n.Inputs[3]!.Const!.As<float>();
        var var_ = n.Inputs[4]!.Const!.As<float>();
        float eps = n.Float("epsilon", 1e-5f);
        var s = new float[scale.Length];
        var t = new float[scale.Length];
        for (int c = 0; c < s.Length; c++)
        {
            s[c] = (float)(scale[c] / Math.Sqrt((double)var_[c] + eps));
            t[c] = (float)(bias[c] - (double)mean[c] * s[c]);
        }
        return (s, t);
    }

    public override void Select(Node n)
    {
        n.Kernel = Affine(n) == null ? "Normalization.BatchNorm" : "Elementwise.ChannelAffine";
        FloatShim.Reserve(n, 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        // The lowering pass turns constant BatchNormalization into Mul + Add before selection; reaching here with constants means it could not.
        if (Affine(n) != null) throw Error(n, Codes.Internal, "BatchNormalization should have been lowered to Mul/Add");
        var e = FloatShim.Begin(n, ctx);
        var xs = n.Inputs[0]!.Shape.ToLongs();
        long spatial = xs.Skip(2).Aggregate(1L, (a, b) => a * b);
        string P(int i) => e.P(n.Inputs[i]!);
        e.W.Line($"Normalization.BatchNorm({P(0)}, scale: {P(1)}, bias: {P(2)}, mean: {P(3)}, var: {P(4)}, {e.P(n.Outputs[0])}, batch: {xs[0]}, channels: {xs[1]}, spatial: {spatial}, epsilon: {Lit.F(n.Float("epsilon", 1e-5f))});");
        FloatShim.End(n, ctx, e);
    }
}
