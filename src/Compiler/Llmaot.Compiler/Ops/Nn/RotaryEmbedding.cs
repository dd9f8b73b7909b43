using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// RotaryEmbedding (opset 23): rotates the first rotary_embedding_dim (default: all) elements of each head vector
/// pairwise, x1' = x1·cos - x2·sin, x2' = x2·cos + x1·sin, with pairs (i, i + rot/2) or (2i, 2i+1) when interleaved.
/// input: [B, heads, S, d] or [B, S, num_heads·d]; cos_cache/sin_cache: [max_pos, rot/2] indexed by position_ids [B, S],
/// or [B, S, rot/2] without position_ids.
/// </summary>
public sealed class RotaryEmbeddingOp : OpDef
{
    public override string Op => "RotaryEmbedding";
    public override int SinceVersion => 23;

    private sealed record Geo(int B, int H, int S, int D, int Rot, bool ThreeD);

    private static Geo Geometry(Node n)
    {
        var x = InShape(n, 0);
        if (!x.IsStatic) throw Error(n, Codes.UnboundDim, "RotaryEmbedding needs a static input shape");
        var c = InShape(n, 1);
        Geo g;
        if (x.Rank == 4) g = new Geo((int)x[0].Value, (int)x[1].Value, (int)x[2].Value, (int)x[3].Value, 0, false);
        else if (x.Rank == 3)
        {
            long heads = n.Int("num_heads", 0);
            if (heads <= 0) throw Error(n, Codes.BadAttribute, "3-D input needs the num_heads attribute");
            g = new Geo((int)x[0].Value, (int)heads, (int)x[1].Value, (int)(x[2].Value / heads), 0, true);
        }
        else throw Error(n, Codes.ShapeMismatch, $"input {x} must be 3-D or 4-D");
        int rot = (int)n.Int("rotary_embedding_dim", 0);
        if (rot == 0) rot = g.D;
        if (rot % 2 != 0 || rot > g.D) throw Error(n, Codes.BadAttribute, $"rotary_embedding_dim {rot} must be even and at most the head size {g.D}");
        if (c[c.Rank - 1].IsKnown && c[c.Rank - 1].Value != rot / 2) throw Error(n, Codes.ShapeMismatch, $"cos_cache {c} must end in rot/2 = {rot / 2}");
        return g with { Rot = rot };
    }

    public override void Infer(Node n)
    {
        var t = Input(n, 0).Elem;
        if (t is not (ElementType.Float or ElementType.Float16 or ElementType.Double)) throw Error(n, Codes.UnsupportedType, $"RotaryEmbedding does not support {ElementTypes.Name(t)}");
        Geometry(n);
        Set(n, 0, t, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = "Rotary.Run" + (n.Int("interleaved", 0) != 0 ? "[interleaved]" : "");

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var (sB, sH, sS) = g.ThreeD ? ((long)g.S * g.H * g.D, (long)g.D, (long)g.H * g.D) : ((long)g.H * g.S * g.D, (long)g.S * g.D, (long)g.D);
        string pos = n.In(3) is { } p ? e.P(p) : "(long*)null";
        if (n.In(3) is { } pv && pv.Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "position_ids must be int64");
        int maxPos = (int)n.Inputs[1]!.Shape[0].Value;
        e.W.Line($"Rotary.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {pos}, {e.P(n.Outputs[0])}, batch: {g.B}, heads: {g.H}, seq: {g.S}, headSize: {g.D}, rotDim: {g.Rot},");
        e.W.Line($"    interleaved: {Lit.B(n.Int("interleaved", 0) != 0)}, sB: {sB}, sH: {sH}, sS: {sS}, maxPos: {maxPos});");
    }
}
