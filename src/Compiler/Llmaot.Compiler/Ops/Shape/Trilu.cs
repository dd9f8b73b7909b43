using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Trilu (opset 14): over the last two dims [rows, cols], keeps x[i, j] where j - i &gt;= k (upper=1, default) or
/// j - i &lt;= k (upper=0), zero elsewhere. k (input 1, default 0) may be a run-time value.
/// </summary>
public sealed class TriluOp : OpDef
{
    public override string Op => "Trilu";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (xs.Rank < 2) throw Error(n, Codes.ShapeMismatch, $"the input must have rank 2 or more, not {xs}");
        if (n.In(1) is { } k && k.Elem != Runtime.ElementType.Int64) throw Error(n, Codes.UnsupportedType, "k must be int64");
        Set(n, 0, Input(n, 0).Elem, xs);
    }

    public override void Select(Node n) => n.Kernel = "Indexing.Trilu";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        var s = x.Shape.ToLongs();
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        string k = n.In(1) is { } kv ? (EmitContext.TryScalar(kv, out var lit) ? lit : $"{e.P(kv)}[0]") : "0";
        e.W.Line($"Indexing.Trilu({e.P(x)}, {e.P(y)}, batch: {ShapeHelpers.Prod(s[..^2])}, rows: {s[^2]}, cols: {s[^1]}, k: {k}, upper: {Lit.B(n.Int("upper", 1) != 0)});");
    }
}
