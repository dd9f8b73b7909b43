using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// TensorScatter (opset 24): present = past_cache with present[b, .., write_indices[b] + i, ..] = update[b, .., i, ..]
/// along <c>axis</c> (default -2, not the batch axis), for i &lt; update's length there; mode "circular" wraps the position
/// modulo the cache length, "linear" (default) requires it to fit. write_indices [batch] (int64) defaults to zeros.
/// </summary>
public sealed class TensorScatterOp : OpDef
{
    public override string Op => "TensorScatter";
    public override int SinceVersion => 24;

    private sealed record Geo(int Batch, long Outer, int MaxSeq, int Seq, long Inner);

    private static Geo Geometry(Node n)
    {
        var ps = ShapeHelpers.StaticShape(n, 0);
        var us = ShapeHelpers.StaticShape(n, 1);
        int ax = Axis(n, n.Int("axis", -2), ps.Length);
        if (ax == 0) throw Error(n, Codes.BadAttribute, "axis must not be the batch axis");
        if (us.Length != ps.Length || Enumerable.Range(0, ps.Length).Any(i => i != ax && ps[i] != us[i]) || us[ax] > ps[ax])
            throw Error(n, Codes.ShapeMismatch, $"update [{string.Join(",", us)}] does not fit past_cache [{string.Join(",", ps)}] along axis {ax}");
        return new Geo((int)ps[0], ShapeHelpers.Prod(ps[1..ax]), (int)ps[ax], (int)us[ax], ShapeHelpers.Prod(ps[(ax + 1)..]));
    }

    public override void Infer(Node n)
    {
        var p = Input(n, 0);
        ShapeHelpers.RequireStorable(n, p);
        if (ElementTypes.BlockSize(p.Elem) > 1) throw Error(n, Codes.UnsupportedType, $"{ElementTypes.Name(p.Elem)} is not supported");
        if (Input(n, 1).Elem != p.Elem) throw Error(n, Codes.UnsupportedType, "past_cache and update types differ");
        if (n.In(2) is { } w && w.Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "write_indices must be int64");
        string mode = n.Str("mode", "linear");
        if (mode is not ("linear" or "circular")) throw Error(n, Codes.BadAttribute, $"unknown mode '{mode}'");
        Geometry(n);
        Set(n, 0, p.Elem, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = "Scatter.TensorScatter[" + n.Str("mode", "linear") + "]";

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        string w = n.In(2) is { } wv ? e.P(wv) : "(long*)null";
        string T = EmitContext.StorageT(n.Inputs[0]!);
        e.W.Line($"Scatter.TensorScatter(({T}*){e.P(n.Inputs[0]!)}, ({T}*){e.P(n.Inputs[1]!)}, {w}, ({T}*){e.P(n.Outputs[0])}, batch: {g.Batch}, outer: {g.Outer},");
        e.W.Line($"    maxSeq: {g.MaxSeq}, seq: {g.Seq}, inner: {g.Inner}, circular: {Lit.B(n.Str("mode", "linear") == "circular")});");
    }
}
