using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// LinearAttention (opset 27), a recurrence over the sequence with a state S [B, kv_num_heads, dk, dv] per head (from
/// past_state or zeros). Per step, update_rule: linear S += k⊗v; gated S = exp(decay)⊙S + k⊗v; delta
/// S += k⊗β(v - Sᵀk); gated_delta (default) S = exp(decay)⊙S, then S += k⊗β(v - Sᵀk). decay is per key dim
/// [B, T, kv·dk] or per head [B, T, kv]; beta [B, T, kv] or [B, T, 1]. Output y[b, t, g] = scale·qᵀS_{g / (q/kv heads)},
/// scale default 1/√dk. query [B, T, q_num_heads·dk], key [B, T, kv·dk], value [B, T, kv·dv]; outputs
/// y [B, T, q_num_heads·dv] and present_state. Computed in double.
/// </summary>
public sealed class LinearAttentionOp : OpDef
{
    public override string Op => "LinearAttention";
    public override int SinceVersion => 27;

    private sealed record Geo(int B, int T, int Hq, int Hkv, int Dk, int Dv, int DecayDim, int BetaHeads, int Rule, double Scale);

    private static Geo Geometry(Node n)
    {
        var qs = ShapeHelpers.StaticShape(n, 0);
        var ks = ShapeHelpers.StaticShape(n, 1);
        var vs = ShapeHelpers.StaticShape(n, 2);
        if (qs.Length != 3 || ks.Length != 3 || vs.Length != 3) throw Error(n, Codes.ShapeMismatch, "query, key and value must be 3-D [batch, seq, heads·size]");
        int hq = (int)n.Int("q_num_heads", 0), hkv = (int)n.Int("kv_num_heads", 0);
        if (hq <= 0 || hkv <= 0 || hq % hkv != 0) throw Error(n, Codes.BadAttribute, $"q_num_heads {hq} must be a positive multiple of kv_num_heads {hkv}");
        if (qs[2] % hq != 0 || ks[2] % hkv != 0 || vs[2] % hkv != 0) throw Error(n, Codes.ShapeMismatch, "hidden sizes are not divisible by the head counts");
        int dk = (int)(ks[2] / hkv), dv = (int)(vs[2] / hkv);
        if (qs[2] / hq != dk) throw Error(n, Codes.ShapeMismatch, $"query head size {qs[2] / hq} differs from key head size {dk}");
        if (ks[0] != qs[0] || vs[0] != qs[0] || ks[1] != qs[1] || vs[1] != qs[1]) throw Error(n, Codes.ShapeMismatch, "query, key and value differ in batch or sequence length");
        int rule = n.Str("update_rule", "gated_delta") switch
        {
            "linear" => 0,
            "gated" => 1,
            "delta" => 2,
            "gated_delta" => 3,
            var r => throw Error(n, Codes.BadAttribute, $"unknown update_rule '{r}'"),
        };
        int decayDim = 0, betaHeads = 0;
        if (rule is 1 or 3)
        {
            var ds = n.In(4) != null ? ShapeHelpers.StaticShape(n, 4) : throw Error(n, Codes.BadGraph, "gated update rules need the decay input");
            if (ds.Length != 3 || ds[0] != qs[0] || ds[1] != qs[1] || ds[2] != hkv * dk && ds[2] != hkv)
                throw Error(n, Codes.ShapeMismatch, $"decay [{string.Join(",", ds)}] must be [B, T, {hkv * dk}] or [B, T, {hkv}]");
            decayDim = ds[2] == hkv * dk ? dk : 1;
        }
        if (rule is 2 or 3)
        {
            var bs = n.In(5) != null ? ShapeHelpers.StaticShape(n, 5) : throw Error(n, Codes.BadGraph, "delta update rules need the beta input");
            if (bs.Length != 3 || bs[0] != qs[0] || bs[1] != qs[1] || bs[2] != hkv && bs[2] != 1)
                throw Error(n, Codes.ShapeMismatch, $"beta [{string.Join(",", bs)}] must be [B, T, {hkv}] or [B, T, 1]");
            betaHeads = (int)bs[2];
        }
        if (n.In(3) != null && !ShapeHelpers.StaticShape(n, 3).SequenceEqual(new long[] { qs[0], hkv, dk, dv }))
            throw Error(n, Codes.ShapeMismatch, $"past_state must be [{qs[0]}, {hkv}, {dk}, {dv}]");
        double scale = n.Attrs.ContainsKey("scale") && n.Float("scale", 0) != 0 ? n.Float("scale", 0) : 1 / Math.Sqrt(dk);
        return new Geo((int)qs[0], (int)qs[1], hq, hkv, dk, dv, decayDim, betaHeads, rule, scale);
    }

    public override void Infer(Node n)
    {
        var q = Input(n, 0);
        if (q.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"LinearAttention supports float32, float16 and double, not {ElementTypes.Name(q.Elem)}");
        for (int i = 1; i < n.Inputs.Count; i++)
            if (n.In(i) is { } v && v.Elem != q.Elem) throw Error(n, Codes.UnsupportedType, $"input {i} ('{v.Name}') differs in type from query");
        var g = Geometry(n);
        Set(n, 0, q.Elem, new Shape([g.B, g.T, (long)g.Hq * g.Dv]));
        Set(n, 1, q.Elem, new Shape([g.B, g.Hkv, g.Dk, g.Dv]));
    }

    public override void Select(Node n)
    {
        var g = Geometry(n);
        n.ScratchBytes = (long)g.B * g.Hkv * g.Dk * g.Dv * sizeof(double);
        n.Kernel = "LinearAttention.Run[" + n.Str("update_rule", "gated_delta") + "]";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        string T = EmitContext.T(n.Inputs[0]!);
        string Opt(int i) => n.In(i) is { } v ? e.P(v) : $"({T}*)null";
        // present_state is required by the kernel; when the graph drops it, the output still has storage.
        string present = n.Outputs.Count > 1 ? e.P(n.Outputs[1]) : throw Error(n, Codes.BadGraph, "present_state output is required");
        e.W.Line($"LinearAttention.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {Opt(3)}, {Opt(4)}, {Opt(5)}, {e.P(n.Outputs[0])}, {present},");
        e.W.Line($"    batch: {g.B}, seq: {g.T}, qHeads: {g.Hq}, kvHeads: {g.Hkv}, dk: {g.Dk}, dv: {g.Dv}, decayDim: {g.DecayDim}, betaHeads: {g.BetaHeads},");
        e.W.Line($"    rule: {g.Rule}, scale: {Lit.D(g.Scale)}, state: {EmitContext.Scratch(n, "double")});");
    }
}
