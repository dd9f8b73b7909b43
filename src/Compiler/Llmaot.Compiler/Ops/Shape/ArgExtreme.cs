using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ArgMax and ArgMin (opset 1, 11: negative axis, 12: select_last_index, 13): the int64 index of the maximum
/// (minimum) along <c>axis</c> (default 0), the first one unless select_last_index=1; keepdims (default 1) keeps the
/// reduced dim as 1.
/// </summary>
public sealed class ArgExtremeOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        ShapeHelpers.RequireNumeric(n, Input(n, 0));
        int axis = Axis(n, n.Int("axis", 0), xs.Rank);
        if (xs[axis] is { IsKnown: true, Value: 0 }) throw Error(n, Codes.ShapeMismatch, $"cannot take {Op} over an empty dim");
        var dims = xs.Dims.ToList();
        if (n.Int("keepdims", 1) != 0) dims[axis] = Dim.Of(1); else dims.RemoveAt(axis);
        Set(n, 0, ElementType.Int64, new Shape(dims.ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "Indexing." + Op;

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var xs = x.Shape.ToLongs();
        if (n.Outputs[0].Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        int axis = Axis(n, n.Int("axis", 0), xs.Length);
        e.W.Line($"Indexing.{Op}({e.P(x)}, {e.P(n.Outputs[0])}, outer: {ShapeHelpers.Prod(xs[..axis])}, n: {xs[axis]}, inner: {ShapeHelpers.Prod(xs[(axis + 1)..])}, selectLast: {Lit.B(n.Int("select_last_index", 0) != 0)});");
    }
}
