using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// OneHot (opset 9, 11: negative indices): y inserts a dim of size depth at <c>axis</c> (default -1, counted in the
/// output's rank); y[..., k, ...] = values[1] where indices[...] (truncated, negative + depth) == k, else values[0].
/// depth decides the shape: constant, or (for a run-time depth) the model's declared output shape, checked at run time.
/// </summary>
public sealed class OneHotOp : OpDef
{
    public override string Op => "OneHot";

    public override void Infer(Node n)
    {
        var iss = InShape(n, 0);
        var dv = Input(n, 1);
        var vals = Input(n, 2);
        if (!ShapeHelpers.IsNumeric(Input(n, 0).Elem)) throw Error(n, Codes.UnsupportedType, "indices must be numeric");
        if (!ShapeHelpers.IsNumeric(dv.Elem)) throw Error(n, Codes.UnsupportedType, "depth must be numeric");
        ShapeHelpers.RequireStorable(n, vals);
        int axis = Axis(n, n.Int("axis", -1), iss.Rank + 1);
        Dim depth;
        if (dv.IsConst) depth = Dim.Of((long)dv.Const!.ToDouble(dv.Elem)[0]);
        else if (n.Outputs[0].Type.Shape is { IsStatic: true } declared && declared.Rank == iss.Rank + 1) depth = declared[axis];
        else throw Error(n, Codes.DataDependentShape, $"depth ('{dv.Name}') decides the output shape but is computed at run time; fix it with --const, or declare the output shape in the model");
        var dims = iss.Dims.ToList();
        dims.Insert(axis, depth);
        Set(n, 0, vals.Elem, new Shape(dims.ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "Indexing.OneHot";

    public override void Emit(Node n, EmitContext e)
    {
        var ix = n.Inputs[0]!;
        var dv = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var iss = ix.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", -1), iss.Length + 1);
        long depth = y.Shape[axis].Value;
        if (!dv.IsConst)
        {
            e.W.Line($"if (Indexing.ToInt64({e.P(dv)}[0]) != {depth})");
            e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: OneHot '{n.Name}': depth differs from the {depth} this model was compiled for")});");
        }
        e.W.Line($"Indexing.OneHot({e.P(ix)}, {e.P(n.Inputs[2]!)}, {e.P(y)}, outer: {ShapeHelpers.Prod(iss[..axis])}, depth: {depth}, inner: {ShapeHelpers.Prod(iss[axis..])});");
    }
}
