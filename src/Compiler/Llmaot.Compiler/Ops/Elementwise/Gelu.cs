using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Gelu (opset 20): approximate="none" gives x/2 * (1 + erf(x / sqrt 2)) (scalar, exact erf);
/// approximate="tanh" gives x/2 * (1 + tanh(sqrt(2/pi) * (x + 0.044715 x^3))) (vectorized for float32).
/// </summary>
public sealed class GeluOp : OpDef
{
    public override string Op => "Gelu";

    private static bool Tanh(Node n) => n.Str("approximate", "none") == "tanh";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, Types.Float);
        if (n.Str("approximate", "none") is not ("none" or "tanh")) throw Error(n, Diagnostics.Codes.BadAttribute, "approximate must be 'none' or 'tanh'");
        Set(n, 0, x.Elem, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = Tanh(n) ? "Elementwise.Unary<GeluTanhOp>" : "Elementwise.Map<GeluOp>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        string t = EmitContext.T(y);
        if (Tanh(n)) e.W.Line($"Elementwise.Unary<GeluTanhOp<{t}>, {t}>({e.P(x)}, {e.P(y)}, {y.Shape.Count});");
        else e.W.Line($"Elementwise.Map<GeluOp<{t}>, {t}, {t}>({e.P(x)}, {e.P(y)}, {y.Shape.Count});");
    }
}
