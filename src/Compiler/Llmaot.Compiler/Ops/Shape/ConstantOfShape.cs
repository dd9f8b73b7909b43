using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ConstantOfShape (opset 9, 20, 21): a tensor of the constant shape input filled with the one-element 'value'
/// attribute (default float32 0). Folds when small; larger ones are filled at run time.
/// </summary>
public sealed class ConstantOfShapeOp : OpDef
{
    public override string Op => "ConstantOfShape";

    private static (ElementType Type, byte[] Bytes) Value(Node n)
    {
        if (n.Attrs.TryGetValue("value", out var a) && a.T is { } t)
        {
            if (t.Data.Length != ElementTypes.BlockBytes(t.Type.Elem) || ElementTypes.CSharpName(t.Type.Elem) == null)
                throw Error(n, Codes.BadAttribute, "'value' must be a one-element numeric or bool tensor");
            return (t.Type.Elem, t.Data.Span.ToArray());
        }
        return (ElementType.Float, new byte[4]);
    }

    public override void Infer(Node n)
    {
        var shape = ShapeHelpers.ConstShapeInput(n, 0, "shape");
        if (shape.Any(d => d < 0)) throw Error(n, Codes.BadAttribute, $"shape [{string.Join(",", shape)}] has a negative dim");
        Set(n, 0, Value(n).Type, new Shape(shape));
    }

    public override TensorData[]? Fold(Node n)
    {
        long count = n.Outputs[0].Shape.Count;
        if (count > ConstEval.MaxFoldElements) return null;
        var (_, b) = Value(n);
        var dst = new byte[count * b.Length];
        for (long i = 0; i < count; i++) b.CopyTo(dst, i * b.Length);
        return [TensorData.Of(dst)];
    }

    public override void Select(Node n) => n.Kernel = "Strided.Fill";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        var (t, b) = Value(n);
        e.W.Line($"Strided.Fill({e.P(y)}, {y.Shape.Count}, {ShapeHelpers.Literal(t, b)});");
    }
}
