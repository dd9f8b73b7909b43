using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>Size (opset 1, 13, 19, 21): the input's element count as an int64 scalar. Always folds (shapes are static).</summary>
public sealed class SizeOp : OpDef
{
    public override string Op => "Size";

    public override void Infer(Node n)
    {
        InShape(n, 0);
        Set(n, 0, ElementType.Int64, Shape.Scalar);
    }

    public override TensorData[]? Fold(Node n) => InShape(n, 0) is { IsStatic: true } s ? [TensorData.Of<long>([s.Count])] : null;

    public override void Emit(Node n, EmitContext e) =>
        throw Error(n, Codes.UnboundDim, $"Size of {n.Inputs[0]!.Shape} is not static; bind the symbolic dims with --dim or --shape");
}
