using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// CumSum (opset 11, 14) and CumProd (opset 26): running sum / product of x along the axis given by input 1 (a scalar
/// that may be a run-time value; negative counts from the end). exclusive=1 leaves each element out of its own
/// result (the first is 0 / 1); reverse=1 runs from the end.
/// </summary>
public sealed class CumulativeOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        ShapeHelpers.RequireNumeric(n, Input(n, 0));
        if (Input(n, 1).Elem is not (ElementType.Int32 or ElementType.Int64)) throw Error(n, Codes.UnsupportedType, "axis must be int32 or int64");
        if (ConstInts(n, 1) is { } a) Axis(n, a[0], xs.Rank);
        Set(n, 0, Input(n, 0).Elem, xs);
    }

    public override void Select(Node n) => n.Kernel = "Indexing." + Op;

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var av = n.Inputs[1]!;
        string axis = ConstInts(n, 1) is { } a ? Axis(n, a[0], x.Shape.Rank).ToString() : $"{e.P(av)}[0]";
        e.W.Line($"if (!Indexing.{Op}({e.P(x)}, {e.P(y)}, shape: {EmitContext.Ints(x.Shape.ToLongs())}, axis: {axis}, exclusive: {Lit.B(n.Int("exclusive", 0) != 0)}, reverse: {Lit.B(n.Int("reverse", 0) != 0)}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, $"the axis is outside [-{x.Shape.Rank}, {x.Shape.Rank})"));
    }
}
