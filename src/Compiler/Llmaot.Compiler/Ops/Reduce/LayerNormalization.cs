using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// LayerNormalization (opset 17): with D = dims [axis, rank) (axis default -1) and each row of prod(D) elements,
/// Y = (X - mean) / sqrt(var + epsilon) * Scale + B (B optional; Scale and B cover D). Optional outputs Mean and
/// InvStdDev have X's dims before axis and 1 after. float32 (statistics in double).
/// </summary>
public sealed class LayerNormalizationOp : OpDef
{
    public override string Op => "LayerNormalization";

    internal static (long Outer, long N) Split(Node n, bool rms = false)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", -1), xs.Length);
        return (xs.Take(axis).Aggregate(1L, (a, b) => a * b), xs.Skip(axis).Aggregate(1L, (a, b) => a * b));
    }

    /// <summary>Checks that an affine parameter covers exactly the normalized dims (after dropping leading 1s).</summary>
    internal static void RequireCovers(Node n, int input, Shape xs, int axis)
    {
        var v = n.In(input);
        if (v == null) return;
        FloatShim.RequireFloatLike(n, v);
        var ps = InShape(n, input);
        var norm = xs.Dims.Skip(axis).ToArray();
        var pd = ps.Dims.SkipWhile((d, i) => ps.Rank - i > norm.Length && d.IsKnown && d.Value == 1).ToArray();
        if (pd.Length != norm.Length || pd.Where((d, i) => d.IsKnown && norm[i].IsKnown && d.Value != norm[i].Value).Any())
            throw Error(n, Codes.UnsupportedOp, $"parameter '{v.Name}' {ps} does not cover the normalized dims [{string.Join(",", norm)}]; broadcast parameters are not supported yet");
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        FloatShim.RequireFloatLike(n, x);
        var xs = InShape(n, 0);
        int axis = Axis(n, n.Int("axis", -1), xs.Rank);
        RequireCovers(n, 1, xs, axis);
        RequireCovers(n, 2, xs, axis);
        Set(n, 0, x.Elem, xs);
        var stat = new Shape(xs.Dims.Select((d, i) => i < axis ? d : Dim.Of(1)).ToArray());
        Set(n, 1, ElementType.Float, stat);
        Set(n, 2, ElementType.Float, stat);
    }

    public override void Select(Node n)
    {
        n.Kernel = "Normalization.LayerNorm";
        FloatShim.Reserve(n, 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var e = FloatShim.Begin(n, ctx);
        var (outer, len) = Split(n);
        string Opt(int i, bool output) => output
            ? (i < n.Outputs.Count ? e.P(n.Outputs[i]) : "null")
            : (n.In(i) is { } v ? e.P(v) : "null");
        e.W.Line($"Normalization.LayerNorm({e.P(n.Inputs[0]!)}, scale: {Opt(1, false)}, bias: {Opt(2, false)}, {e.P(n.Outputs[0])}, mean: {Opt(1, true)}, invStdDev: {Opt(2, true)}, outer: {outer}, n: {len}, epsilon: {Lit.F(n.Float("epsilon", 1e-5f))});");
        FloatShim.End(n, ctx, e);
    }
}
