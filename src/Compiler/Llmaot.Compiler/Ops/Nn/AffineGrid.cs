using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// AffineGrid (opset 20): grid[n, s..., :] = theta[n] · (x, y[, z], 1) where (x, y, z) are the normalized coordinates of
/// output position s (innermost dim first): (2i + 1)/size - 1, or linspace(-1, 1, size) with align_corners.
/// theta: [N, 2, 3] (2-D) or [N, 3, 4] (3-D); size (constant): [N, C, H, W] or [N, C, D, H, W];
/// grid: [N, H, W, 2] or [N, D, H, W, 3].
/// </summary>
public sealed class AffineGridOp : OpDef
{
    public override string Op => "AffineGrid";
    public override int SinceVersion => 20;

    public override void Infer(Node n)
    {
        var t = Input(n, 0);
        if (t.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"AffineGrid supports float32, float16 and double, not {ElementTypes.Name(t.Elem)}");
        var size = ShapeHelpers.ConstShapeInput(n, 1, "size");
        int r = size.Length - 2;
        if (r is not (2 or 3)) throw Error(n, Codes.ShapeMismatch, $"size must have 4 or 5 values, got {size.Length}");
        var ts = InShape(n, 0);
        if (ts.Rank != 3 || ts[1].IsKnown && ts[1].Value != r || ts[2].IsKnown && ts[2].Value != r + 1)
            throw Error(n, Codes.ShapeMismatch, $"theta {ts} must be [N, {r}, {r + 1}] for size [{string.Join(",", size)}]");
        var dims = new List<long> { size[0] };
        dims.AddRange(size[2..]);
        dims.Add(r);
        Set(n, 0, t.Elem, new Shape(dims.ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "GridSample.Affine";

    public override void Emit(Node n, EmitContext e)
    {
        var size = ConstInts(n, 1)!;
        e.W.Line($"GridSample.Affine({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, batch: {size[0]}, dims: {EmitContext.Ints(size[2..])}, alignCorners: {Lit.B(n.Int("align_corners", 0) != 0)});");
    }
}
