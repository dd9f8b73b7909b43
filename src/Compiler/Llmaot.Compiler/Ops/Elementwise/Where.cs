using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>Where (opset 9/16): y = cond ? x : z, all three broadcast together; any element type.</summary>
public sealed class WhereOp : OpDef
{
    public override string Op => "Where";

    public override void Infer(Node n)
    {
        var c = Input(n, 0);
        var x = Input(n, 1);
        var z = Input(n, 2);
        if (c.Elem != ElementType.Bool) throw Error(n, Codes.UnsupportedType, $"condition '{c.Name}' must be bool, not {ElementTypes.Name(c.Elem)}");
        if (x.Elem != z.Elem) throw Error(n, Codes.UnsupportedType, $"X and Y are {ElementTypes.Name(x.Elem)} and {ElementTypes.Name(z.Elem)}; ONNX requires one type");
        Ew.Require(n, x, Types.Any);
        Set(n, 0, x.Elem, Ew.BroadcastAll(n, [0, 1, 2]));
    }

    public override TensorData[]? Fold(Node n) =>
        Ew.FoldN(n, n.Inputs[1]!.Elem, v => v[0] != 0 ? v[1] : v[2], v => v[0] != 0 ? v[1] : v[2]);

    public override void Select(Node n) => n.Kernel = "Elementwise.Where";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        var (shape, s) = Ew.Collapse(y.Shape.ToLongs(), n.Inputs[0]!.Shape.ToLongs(), n.Inputs[1]!.Shape.ToLongs(), n.Inputs[2]!.Shape.ToLongs());
        e.W.Line($"Elementwise.Where({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {e.P(y)}, {EmitContext.Ints(shape)}, " +
                 $"{EmitContext.Ints(s[0])}, {EmitContext.Ints(s[1])}, {EmitContext.Ints(s[2])});");
    }
}
