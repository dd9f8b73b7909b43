using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ScatterND (opset 11, 13, 16: reduction add/mul, 18: max/min): y = data; then for each index tuple t (length q =
/// indices.shape[-1]), in order, the slice y[t, :] = reduce(y[t, :], updates[t]). updates is indices.shape[:-1] +
/// data.shape[q:].
/// </summary>
public sealed class ScatterNDOp : OpDef
{
    public override string Op => "ScatterND";

    public override void Infer(Node n)
    {
        var ds = ShapeHelpers.StaticShape(n, 0);
        var iss = ShapeHelpers.StaticShape(n, 1);
        var us = ShapeHelpers.StaticShape(n, 2);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (n.Str("reduction", "none") != "none") ShapeHelpers.RequireNumeric(n, Input(n, 0));
        if (Input(n, 1).Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "indices must be int64");
        if (Input(n, 2).Elem != Input(n, 0).Elem) throw Error(n, Codes.UnsupportedType, "updates and data differ in type");
        long q = iss.Length > 0 ? iss[^1] : 0;
        if (q < 1 || q > ds.Length) throw Error(n, Codes.ShapeMismatch, $"index tuples of length {q} do not fit data of rank {ds.Length}");
        if (!us.SequenceEqual(iss[..^1].Concat(ds[(int)q..]))) throw Error(n, Codes.ShapeMismatch, "updates must have shape indices.shape[:-1] + data.shape[q:]");
        ShapeHelpers.Reduction(n, "float");
        Set(n, 0, Input(n, 0).Elem, new Shape(ds));
    }

    public override void Select(Node n) => n.Kernel = "Indexing.ScatterND";

    public override void Emit(Node n, EmitContext e)
    {
        var d = n.Inputs[0]!;
        var ix = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var ds = d.Shape.ToLongs();
        var iss = ix.Shape.ToLongs();
        int q = (int)iss[^1];
        string t = EmitContext.T(d);
        e.W.Line($"if (!Indexing.ScatterND<{t}, long, {ShapeHelpers.Reduction(n, t)}>({e.P(d)}, {e.P(ix)}, {e.P(n.Inputs[2]!)}, {e.P(y)}, count: {ShapeHelpers.Prod(ds)}, tuples: {ShapeHelpers.Prod(iss[..^1])}, indexed: {EmitContext.Ints(ds[..q])}, slice: {ShapeHelpers.Prod(ds[q..])}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, "an index is out of range"));
    }
}
