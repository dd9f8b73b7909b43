using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>BitCast (opset 26): reinterprets the bytes of x as the type 'to' of the same element size; a view.</summary>
public sealed class BitCastOp : OpDef
{
    public override string Op => "BitCast";

    public override bool IsView(Node n) => true;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (!n.Attrs.TryGetValue("to", out var a)) throw Error(n, Codes.BadAttribute, "attribute 'to' is required");
        var to = (ElementType)a.I;
        if (ElementTypes.CSharpName(to) == null || ElementTypes.CSharpName(x.Elem) == null)
            throw Error(n, Codes.UnsupportedType, $"bitcast from {ElementTypes.Name(x.Elem)} to {ElementTypes.Name(to)} is not supported");
        if (ElementTypes.BlockBytes(to) != ElementTypes.BlockBytes(x.Elem))
            throw Error(n, Codes.UnsupportedType, $"{ElementTypes.Name(x.Elem)} and {ElementTypes.Name(to)} differ in size");
        Set(n, 0, to, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n) => Input(n, 0).IsConst ? [Input(n, 0).Const!] : null;

    public override void Select(Node n) => n.Kernel = "view";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (y.AliasOf != null) e.W.Line("// no code: the output aliases the input's storage");
        else e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});");
    }
}
