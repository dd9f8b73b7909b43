using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// EyeLike (opset 9, 22): a 2-D tensor shaped like x, of type 'dtype' (default x's type), with ones on the diagonal
/// shifted by k (y[i, i + k] = 1) and zeros elsewhere. It depends only on x's shape, so it always folds.
/// </summary>
public sealed class EyeLikeOp : OpDef
{
    public override string Op => "EyeLike";

    private static ElementType Type(Node n) => n.Attrs.TryGetValue("dtype", out var a) ? (ElementType)a.I : Input(n, 0).Elem;

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        if (xs.Rank != 2) throw Error(n, Codes.ShapeMismatch, $"the input must be 2-D, not {xs}");
        var t = Type(n);
        if (ElementTypes.CSharpName(t) == null || t == ElementType.BFloat16) throw Error(n, Codes.UnsupportedType, $"dtype {ElementTypes.Name(t)} is not supported");
        Set(n, 0, t, xs);
    }

    public override TensorData[]? Fold(Node n)
    {
        var ys = n.Outputs[0].Type.Shape!;
        if (!ys.IsStatic || ys.Count > ConstEval.MaxFoldElements) return null;
        long rows = ys[0].Value, cols = ys[1].Value, k = n.Int("k", 0);
        var v = new double[rows * cols];
        for (long i = 0; i < rows; i++)
            if (i + k >= 0 && i + k < cols) v[i * cols + i + k] = 1;
        return [ConstEval.FromDoubles(Type(n), v)];
    }

    public override void Emit(Node n, EmitContext e) =>
        throw Error(n, Codes.UnsupportedOp, $"EyeLike of {n.Outputs[0].Shape} is too large to fold ({ConstEval.MaxFoldElements} elements at most)");
}
