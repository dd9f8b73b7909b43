using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ScatterElements (opset 11, 13, 16: reduction add/mul, 18: max/min) and the deprecated Scatter (opset 9-10, no
/// reduction): y = data; then, in index order, y[i with coordinate <c>axis</c> replaced by indices[i]] =
/// reduce(y[...], updates[i]) where reduce is replace, +, ·, max or min. Negative indices count from the end.
/// </summary>
public sealed class ScatterElementsOp(string op = "ScatterElements") : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var ds = InShape(n, 0);
        var iss = InShape(n, 1);
        var u = Input(n, 2);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (n.Str("reduction", "none") != "none") ShapeHelpers.RequireNumeric(n, Input(n, 0));
        if (Input(n, 1).Elem is not (ElementType.Int64 or ElementType.Int32)) throw Error(n, Codes.UnsupportedType, "indices must be int32 or int64");
        if (u.Elem != Input(n, 0).Elem) throw Error(n, Codes.UnsupportedType, "updates and data differ in type");
        if (iss.Rank != ds.Rank || u.Type.Shape is not { } us || us.Rank != iss.Rank) throw Error(n, Codes.ShapeMismatch, "data, indices and updates must have the same rank");
        Axis(n, n.Int("axis", 0), ds.Rank);
        ShapeHelpers.Reduction(n, "float");
        Set(n, 0, Input(n, 0).Elem, ds);
    }

    public override void Select(Node n) => n.Kernel = "Indexing.ScatterElements";

    public override void Emit(Node n, EmitContext e)
    {
        var d = n.Inputs[0]!;
        var ix = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        int axis = Axis(n, n.Int("axis", 0), d.Shape.Rank);
        string t = EmitContext.T(d);
        e.W.Line($"if (!Indexing.ScatterElements<{t}, {EmitContext.T(ix)}, {ShapeHelpers.Reduction(n, t)}>({e.P(d)}, {e.P(ix)}, {e.P(n.Inputs[2]!)}, {e.P(y)}, dataShape: {EmitContext.Ints(d.Shape.ToLongs())}, idxShape: {EmitContext.Ints(ix.Shape.ToLongs())}, axis: {axis}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, $"an index is outside [-{d.Shape[axis]}, {d.Shape[axis]})"));
    }
}
