using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// MeanVarianceNormalization (opset 9, 13): y = (x - mean) / (sqrt(var) + 1e-9) with mean and (population) variance
/// over <c>axes</c> (default [0, 2, 3]). float32. Axes that are not the trailing ones run on a transposed copy in scratch.
/// </summary>
public sealed class MeanVarianceNormalizationOp : OpDef
{
    public override string Op => "MeanVarianceNormalization";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        ReducePlan.Mask(n, n.Ints("axes") ?? [0, 2, 3], xs.Rank);
        Set(n, 0, x.Elem, xs);
    }

    private static ReducePlan Plan(Node n)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        return ReducePlan.For(xs, ReducePlan.Mask(n, n.Ints("axes") ?? [0, 2, 3], xs.Length));
    }

    public override void Select(Node n)
    {
        var p = Plan(n);
        bool direct = p.Layout == ReducePlan.Rows || p.Layout == ReducePlan.Empty;
        n.Kernel = direct ? "Normalization.MeanVarianceRows" : "DataMovement.Transpose+Normalization.MeanVarianceRows";
        FloatShim.Reserve(n, direct ? 0 : 2 * n.Inputs[0]!.Shape.Count * 4);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var p = Plan(n);
        if (p.Layout == ReducePlan.Empty) { ctx.W.Line("// the output is empty: nothing to compute"); return; }
        var e = FloatShim.Begin(n, ctx);
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (p.Layout == ReducePlan.Rows)
            e.W.Line($"Normalization.MeanVarianceRows({e.P(x)}, {e.P(y)}, outer: {p.Outer}, n: {p.N}, epsilon: 1e-9);");
        else
            Transposed(n, e, p);
        FloatShim.End(n, ctx, e);
    }

    /// <summary>Brings the reduced axes last, normalizes rows, transposes back.</summary>
    private static void Transposed(Node n, EmitContext e, ReducePlan p)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        var shape = p.TransposeShape.Length > 0 ? p.TransposeShape : StridedShape(p);
        var perm = p.TransposeShape.Length > 0 ? p.Perm : [0, 2, 1];
        var permuted = perm.Select(i => shape[i]).ToArray();
        var inverse = new long[perm.Length];
        for (int i = 0; i < perm.Length; i++) inverse[perm[i]] = i;
        string s = EmitContext.Scratch(n);
        long total = x.Shape.Count;
        long rowsOuter = p.TransposeShape.Length > 0 ? p.Outer : p.Outer * p.Inner;
        e.W.Line($"DataMovement.Transpose({e.P(x)}, {s}, {EmitContext.Ints(shape)}, {EmitContext.Ints(perm)});");
        e.W.Line($"Normalization.MeanVarianceRows({s}, {s} + {total}, outer: {rowsOuter}, n: {p.N}, epsilon: 1e-9);");
        e.W.Line($"DataMovement.Transpose({s} + {total}, {e.P(y)}, {EmitContext.Ints(permuted)}, {EmitContext.Ints(inverse)});");
    }

    private static long[] StridedShape(ReducePlan p) => [p.Outer, p.N, p.Inner];
}
