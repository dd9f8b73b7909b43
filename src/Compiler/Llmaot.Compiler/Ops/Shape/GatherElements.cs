using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// GatherElements (opset 11, 13): y has the indices' shape; y[i] = data[i with coordinate <c>axis</c> replaced by
/// indices[i]] (negative indices count from the end; out of range throws at run time).
/// </summary>
public sealed class GatherElementsOp : OpDef
{
    public override string Op => "GatherElements";

    public override void Infer(Node n)
    {
        var ds = InShape(n, 0);
        var iss = InShape(n, 1);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (Input(n, 1).Elem is not (ElementType.Int64 or ElementType.Int32)) throw Error(n, Codes.UnsupportedType, "indices must be int32 or int64");
        if (iss.Rank != ds.Rank) throw Error(n, Codes.ShapeMismatch, $"indices {iss} and data {ds} differ in rank");
        Axis(n, n.Int("axis", 0), ds.Rank);
        Set(n, 0, Input(n, 0).Elem, iss);
    }

    public override void Select(Node n) => n.Kernel = "Indexing.GatherElements";

    public override void Emit(Node n, EmitContext e)
    {
        var d = n.Inputs[0]!;
        var ix = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        int axis = Axis(n, n.Int("axis", 0), d.Shape.Rank);
        e.W.Line($"if (!Indexing.GatherElements({e.P(d)}, {e.P(ix)}, {e.P(y)}, dataShape: {EmitContext.Ints(d.Shape.ToLongs())}, idxShape: {EmitContext.Ints(ix.Shape.ToLongs())}, axis: {axis}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, $"an index is outside [-{d.Shape[axis]}, {d.Shape[axis]})"));
    }
}
