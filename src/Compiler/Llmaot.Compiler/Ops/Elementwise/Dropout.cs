using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Dropout at inference (opset 1-22): y = x (a view), and the optional mask output is all true (bool from opset 10,
/// x's type with value 1 before). training_mode must be absent or a constant false (ratio then does not matter);
/// training-mode dropout draws random numbers and is out of scope.
/// </summary>
public sealed class DropoutOp : OpDef
{
    public override string Op => "Dropout";

    public override bool IsView(Node n) => true;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (n.In(2) is { } tm)
        {
            if (!tm.IsConst) throw Error(n, Codes.DataDependentShape, "training_mode is not a constant; only inference (training_mode = false) is supported");
            if (tm.Const!.ToInt64(tm.Elem)[0] != 0) throw Error(n, Codes.UnsupportedOp, "training-mode Dropout (random masks) is not supported; export the model in eval mode");
        }
        Set(n, 0, x.Elem, InShape(n, 0));
        Set(n, 1, n.Opset >= 10 ? ElementType.Bool : x.Elem, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n) => null;

    public override void Select(Node n) => n.Kernel = "view";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (y.AliasOf != null) e.W.Line("// no code: the output aliases the input's storage");
        else e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});");
        if (n.Outputs.Count > 1 && n.Outputs[1].Name.Length > 0)
        {
            var m = n.Outputs[1];
            string t = EmitContext.T(m);
            e.W.Line($"new Span<{t}>({e.P(m)}, {m.Shape.Count}).Fill({(m.Elem == ElementType.Bool ? "true" : Ew.Literal(m.Elem, 1))}); // the mask keeps everything");
        }
    }
}
