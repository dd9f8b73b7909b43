using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Pow (opset 7/12/13/15): y = x^e with broadcasting; y has x's type, e may be any numeric type. Integer powers of
/// integers are exact; the rest goes through double. A constant scalar exponent 2 or 0.5 on float becomes Mul/Sqrt
/// (vectorized); 1 a copy.
/// </summary>
public sealed class PowOp : OpDef
{
    public override string Op => "Pow";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var p = Input(n, 1);
        Ew.Require(n, x, Types.Numeric);
        Ew.Require(n, p, Types.Numeric);
        Set(n, 0, x.Elem, Broadcast(n, InShape(n, 0), InShape(n, 1)));
    }

    public override TensorData[]? Fold(Node n) =>
        Ew.FoldN(n, n.Inputs[0]!.Elem, v => Math.Pow(v[0], v[1]), v => v[1] >= 0 ? (long)Math.Pow(v[0], v[1]) : 0);

    /// <summary>The constant scalar exponent when the output is just x reshaped elementwise (same shape as x).</summary>
    private static double? ScalarExponent(Node n)
    {
        var x = n.Inputs[0]!;
        var p = n.Inputs[1]!;
        if (!ConstEval.Foldable(p) || p.Shape.Count != 1 || !ConstEval.IsFloat(x.Elem) || !x.Shape.Equals(n.Outputs[0].Shape)) return null;
        return p.Const!.ToDouble(p.Elem)[0];
    }

    public override void Select(Node n) => n.Kernel = ScalarExponent(n) switch
    {
        2.0 => "Elementwise.Binary<MulOp>(x, x)",
        0.5 => "Elementwise.Unary<SqrtOp>",
        1.0 => "copy",
        _ => "Elementwise.ZipBroadcast<PowOp>",
    };

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var p = n.Inputs[1]!;
        var y = n.Outputs[0];
        string t = EmitContext.T(y), tp = EmitContext.T(p);
        switch (n.Kernel)
        {
            case "Elementwise.Binary<MulOp>(x, x)":
                e.W.Line($"Elementwise.Binary<MulOp<{t}>, {t}>({e.P(x)}, {e.P(x)}, {e.P(y)}, {y.Shape.Count});");
                break;
            case "Elementwise.Unary<SqrtOp>":
                e.W.Line($"Elementwise.Unary<SqrtOp<{t}>, {t}>({e.P(x)}, {e.P(y)}, {y.Shape.Count});");
                break;
            case "copy":
                e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});");
                break;
            default:
                var (shape, s) = Ew.Collapse(y.Shape.ToLongs(), x.Shape.ToLongs(), p.Shape.ToLongs());
                e.W.Line($"Elementwise.ZipBroadcast<PowOp<{t}, {tp}>, {t}, {tp}, {t}>({e.P(x)}, {e.P(p)}, {e.P(y)}, " +
                         $"{EmitContext.Ints(shape)}, {EmitContext.Ints(s[0])}, {EmitContext.Ints(s[1])});");
                break;
        }
    }
}
