using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// GatherND (opset 11, 12: batch_dims, 13): with b = batch_dims and q = indices.shape[-1], each index tuple of length q
/// picks the slice data[batch, i0, .., iq-1, :]; y is indices.shape[:-1] + data.shape[b + q:].
/// </summary>
public sealed class GatherNDOp : OpDef
{
    public override string Op => "GatherND";

    public override void Infer(Node n)
    {
        var ds = ShapeHelpers.StaticShape(n, 0);
        var iss = ShapeHelpers.StaticShape(n, 1);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (Input(n, 1).Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "indices must be int64");
        int b = (int)n.Int("batch_dims", 0);
        if (iss.Length < 1 || b < 0 || b >= iss.Length || b >= ds.Length) throw Error(n, Codes.BadAttribute, $"batch_dims {b} does not fit data {ds.Length}-D and indices {iss.Length}-D");
        long q = iss[^1];
        if (q < 1 || b + q > ds.Length) throw Error(n, Codes.ShapeMismatch, $"index tuples of length {q} do not fit data of rank {ds.Length} after {b} batch dims");
        for (int i = 0; i < b; i++) if (ds[i] != iss[i]) throw Error(n, Codes.ShapeMismatch, "the batch dims of data and indices differ");
        Set(n, 0, Input(n, 0).Elem, new Shape(iss[..^1].Concat(ds[(int)(b + q)..]).ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "Indexing.GatherND";

    public override void Emit(Node n, EmitContext e)
    {
        var d = n.Inputs[0]!;
        var ix = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var ds = d.Shape.ToLongs();
        var iss = ix.Shape.ToLongs();
        int b = (int)n.Int("batch_dims", 0), q = (int)iss[^1];
        long batch = ShapeHelpers.Prod(ds[..b]), tuples = ShapeHelpers.Prod(iss[b..^1]);
        long slice = ShapeHelpers.Prod(ds[(b + q)..]) * ElementTypes.BlockBytes(d.Elem);
        e.W.Line($"if (!Indexing.GatherND({e.Bytes(d)}, {e.P(ix)}, {e.Bytes(y)}, batch: {batch}, tuples: {tuples}, indexed: {EmitContext.Ints(ds[b..(b + q)])}, sliceBytes: {slice}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, "an index is out of range"));
    }
}
