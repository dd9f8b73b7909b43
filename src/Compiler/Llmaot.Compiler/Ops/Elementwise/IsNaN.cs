using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>IsNaN (opset 9/13/20): y = x is NaN, bool output, float types.</summary>
public sealed class IsNaNOp : OpDef
{
    public override string Op => "IsNaN";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, Types.Float);
        Set(n, 0, ElementType.Bool, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n) => Ew.FoldN(n, ElementType.Bool, v => double.IsNaN(v[0]) ? 1 : 0, null);

    public override void Select(Node n) => n.Kernel = "Elementwise.Map<IsNaNOp>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        string t = EmitContext.T(x);
        e.W.Line($"Elementwise.Map<IsNaNOp<{t}>, {t}, bool>({e.P(x)}, {e.P(n.Outputs[0])}, {x.Shape.Count});");
    }
}

/// <summary>IsInf (opset 10/20): y = x is +inf (detect_positive, default 1) or -inf (detect_negative, default 1); bool output.</summary>
public sealed class IsInfOp : OpDef
{
    public override string Op => "IsInf";

    private static string Struct(Node n) => (n.Int("detect_positive", 1) != 0, n.Int("detect_negative", 1) != 0) switch
    {
        (true, true) => "IsInfOp",
        (true, false) => "IsPosInfOp",
        (false, true) => "IsNegInfOp",
        _ => "none",
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, Types.Float);
        Set(n, 0, ElementType.Bool, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = $"Elementwise.Map<{Struct(n)}>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        string t = EmitContext.T(x);
        if (Struct(n) == "none") e.W.Line($"new Span<bool>({e.P(y)}, {y.Shape.Count}).Clear(); // detects neither +inf nor -inf");
        else e.W.Line($"Elementwise.Map<{Struct(n)}<{t}>, {t}, bool>({e.P(x)}, {e.P(y)}, {x.Shape.Count});");
    }
}
