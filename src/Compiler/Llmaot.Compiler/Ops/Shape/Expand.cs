using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Expand (opset 8, 13): y = x broadcast (numpy rules, in both directions) with the constant shape input 1.
/// A strided copy whose strides are 0 on broadcast dims.
/// </summary>
public sealed class ExpandOp : StridedOp
{
    public override string Op => "Expand";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        var target = ShapeHelpers.ConstShapeInput(n, 1, "target shape");
        Set(n, 0, Input(n, 0).Elem, Broadcast(n, xs, new Shape(target)));
    }

    internal override (long[] Shape, long[] Strides, long Offset) Plan(Node n)
    {
        var xs = Input(n, 0).Shape.ToLongs();
        var ys = n.Outputs[0].Shape.ToLongs();
        var inStr = ShapeHelpers.RowStrides(xs);
        var strides = new long[ys.Length];
        for (int d = 0; d < ys.Length; d++)
        {
            int di = d - (ys.Length - xs.Length);
            strides[d] = di >= 0 && xs[di] != 1 ? inStr[di] : 0;
        }
        return (ys, strides, 0);
    }
}
