using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Unique (opset 11): the distinct elements of X (flattened), or distinct slices along <c>axis</c>, sorted ascending
/// (sorted = 1, default; slices lexicographically) or in order of first occurrence; outputs Y, indices (first
/// occurrences), inverse_indices (per element/slice, its position in Y) and counts. The number of distinct values
/// depends on the data: the model must declare Y's static shape; the generated code throws LLMAOT9021 when the
/// run-time count differs (never a truncated or padded result).
/// </summary>
public sealed class UniqueOp : OpDef
{
    public override string Op => "Unique";
    public override int SinceVersion => 11;

    private static (long Outer, long Len, long Inner, int Axis) Geometry(Node n, long[] xs)
    {
        if (!n.Attrs.ContainsKey("axis")) return (1, ShapeHelpers.Prod(xs), 1, -1);
        int a = Axis(n, n.Int("axis", 0), xs.Length);
        return (ShapeHelpers.Prod(xs[..a]), xs[a], ShapeHelpers.Prod(xs[(a + 1)..]), a);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        ShapeHelpers.RequireStorable(n, x);
        if (ElementTypes.BlockSize(x.Elem) > 1 || Float8.Is(x.Elem) || x.Elem == ElementType.BFloat16)
            throw Error(n, Codes.UnsupportedType, $"Unique does not support {ElementTypes.Name(x.Elem)}");
        var xs = ShapeHelpers.StaticShape(n, 0);
        var (_, len, _, axis) = Geometry(n, xs);
        if (n.Outputs[0].Type.Shape is not { IsStatic: true } declared || declared.Rank != (axis < 0 ? 1 : xs.Length))
            throw Error(n, Codes.DataDependentShape, "the number of distinct values depends on the input; declare the static shape of Y in the model (checked at run time)");
        long count = declared[Math.Max(axis, 0)].Value;
        var y = axis < 0 ? [count] : (long[])xs.Clone();
        if (axis >= 0) y[axis] = count;
        Set(n, 0, x.Elem, new Shape(y));
        Set(n, 1, ElementType.Int64, new Shape([count]));
        Set(n, 2, ElementType.Int64, new Shape([len]));
        Set(n, 3, ElementType.Int64, new Shape([count]));
    }

    public override void Select(Node n)
    {
        var (_, len, _, _) = Geometry(n, n.Inputs[0]!.Shape.ToLongs());
        n.ScratchBytes = Runtime.Kernels.Selection.UniqueScratch(len) * sizeof(long);
        n.Kernel = "Selection.Unique" + (n.Int("sorted", 1) != 0 ? "[sorted]" : "");
    }

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var (outer, len, inner, axis) = Geometry(n, x.Shape.ToLongs());
        long count = n.Outputs[0].Shape[Math.Max(axis, 0)].Value;
        string Out(int i) => i < n.Outputs.Count ? e.P(n.Outputs[i]) : i == 0 ? $"({EmitContext.T(x)}*)null" : "(long*)null";
        e.W.Line($"if (!Selection.Unique({e.P(x)}, {Out(0)}, {Out(1)}, {Out(2)}, {Out(3)}, outer: {outer}, len: {len}, inner: {inner},");
        e.W.Line($"    sorted: {Lit.B(n.Int("sorted", 1) != 0)}, count: {count}, scratch: {EmitContext.Scratch(n, "long")}))");
        e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: Unique '{n.Name}': the input has a number of distinct values other than the {count} this model was compiled for")});");
    }
}
