using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Clip: y = min(max(x, lo), hi). Opset 6: float attributes min/max (default the type's range); opset 11+: optional
/// scalar inputs min and max (constant ones become literals, others are read at run time), all numeric types.
/// lo &gt; hi gives hi everywhere, as numpy's clip. Conv/Gemm → Clip with constant bounds is fused by Passes/Fusion.
/// </summary>
public sealed class ClipOp : OpDef
{
    public override string Op => "Clip";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, n.Opset < 11 ? Types.Float : Types.Numeric);
        for (int i = 1; i <= 2; i++)
            if (n.In(i) is { } b && b.Elem != x.Elem)
                throw Error(n, Diagnostics.Codes.UnsupportedType, $"bound '{b.Name}' is {ElementTypes.Name(b.Elem)}, x is {ElementTypes.Name(x.Elem)}");
        Set(n, 0, x.Elem, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n)
    {
        if (n.Opset < 11) return null;
        var x = Input(n, 0);
        double? Bound(int i, bool lo) => n.In(i) is { } b ? (ConstEval.Foldable(b) ? b.Const!.ToDouble(b.Elem)[0] : null) : (lo ? double.NegativeInfinity : double.PositiveInfinity);
        if (!ConstEval.Foldable(x) || Bound(1, true) is not double lo || Bound(2, false) is not double hi) return null;
        var v = x.Const!.ToDouble(x.Elem);
        return [ConstEval.IsFloat(x.Elem) ? ConstEval.FromDoubles(x.Elem, Array.ConvertAll(v, d => Math.Min(Math.Max(d, lo), hi)))
            : ConstEval.FromLongs(x.Elem, Array.ConvertAll(x.Const!.ToInt64(x.Elem), d => (long)Math.Min(Math.Max(d, lo), hi)))];
    }

    public override void Select(Node n) => n.Kernel = "Elementwise.UnaryParam<ClipOp>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        string t = EmitContext.T(y);
        string lo, hi;
        if (n.Opset < 11)
        {
            lo = n.Attrs.ContainsKey("min") ? Ew.Literal(y.Elem, n.Float("min", 0)) : Ew.Lowest(y.Elem);
            hi = n.Attrs.ContainsKey("max") ? Ew.Literal(y.Elem, n.Float("max", 0)) : Ew.Highest(y.Elem);
        }
        else
        {
            lo = n.In(1) is { } min ? Ew.Scalar(e, min) : Ew.Lowest(y.Elem);
            hi = n.In(2) is { } max ? Ew.Scalar(e, max) : Ew.Highest(y.Elem);
        }
        e.W.Line($"Elementwise.UnaryParam<ClipOp<{t}>, {t}>({e.P(x)}, {e.P(y)}, {y.Shape.Count}, alpha: {lo}, beta: {hi});");
    }
}
