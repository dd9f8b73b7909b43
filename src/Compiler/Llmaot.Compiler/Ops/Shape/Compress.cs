using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Compress (opset 9, 11: negative axis): keeps the slices j along <c>axis</c> (x flattened without one) whose bool
/// condition[j] is true (j &lt; min(n, len(condition))). The kept count is the output size: a constant condition gives
/// it at compile time; otherwise the model must declare the output's static shape, checked at run time (a mismatch throws).
/// </summary>
public sealed class CompressOp : OpDef
{
    public override string Op => "Compress";

    private static (long Outer, long N, long Inner, int Axis) Geometry(Node n, long[] xs)
    {
        if (!n.Attrs.ContainsKey("axis")) return (1, ShapeHelpers.Prod(xs), 1, -1);
        int a = Axis(n, n.Int("axis", 0), xs.Length);
        return (ShapeHelpers.Prod(xs[..a]), xs[a], ShapeHelpers.Prod(xs[(a + 1)..]), a);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var c = Input(n, 1);
        ShapeHelpers.RequireStorable(n, x);
        if (c.Elem != ElementType.Bool) throw Error(n, Codes.UnsupportedType, "condition must be bool");
        var xs = ShapeHelpers.StaticShape(n, 0);
        var (_, len, _, axis) = Geometry(n, xs);
        Dim count;
        if (c.IsConst) count = Dim.Of(c.Const!.Span[..(int)Math.Min(len, c.Const.Length)].ToArray().Count(b => b != 0));
        else if (n.Outputs[0].Type.Shape is { IsStatic: true } declared && declared.Rank == (axis < 0 ? 1 : xs.Length)) count = declared[Math.Max(axis, 0)];
        else throw Error(n, Codes.DataDependentShape, "the kept count depends on the condition's values; make the condition constant, or declare the output's static shape in the model (checked at run time)");
        var dims = axis < 0 ? [count] : xs.Select(Dim.Of).ToArray();
        if (axis >= 0) dims[axis] = count;
        Set(n, 0, x.Elem, new Shape(dims));
    }

    public override void Select(Node n) => n.Kernel = "Indexing.Compress";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var c = n.Inputs[1]!;
        var y = n.Outputs[0];
        var (outer, len, inner, axis) = Geometry(n, x.Shape.ToLongs());
        long count = y.Shape[Math.Max(axis, 0)].Value;
        e.W.Line($"if (!Indexing.Compress({e.Bytes(x)}, {e.P(c)}, {e.Bytes(y)}, outer: {outer}, n: {len}, innerBytes: {inner * ElementTypes.BlockBytes(x.Elem)}, condLength: {c.Shape.Count}, count: {count}))");
        e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: Compress '{n.Name}': the condition keeps a number of entries other than the {count} this model was compiled for")});");
    }
}
