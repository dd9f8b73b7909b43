using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// SpaceToDepth (opset 1, 13): x [N, C, H, W] with blocksize b to y [N, C·b², H/b, W/b]: x read as
/// [N, C, H/b, b, W/b, b] and transposed to [N, b, b, C, H/b, W/b].
/// </summary>
public sealed class SpaceToDepthOp : StridedOp
{
    public override string Op => "SpaceToDepth";

    public override void Infer(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        long b = n.Int("blocksize", 0);
        if (xs.Length != 4) throw Error(n, Codes.ShapeMismatch, "the input must be 4-D [N, C, H, W]");
        if (b <= 0 || xs[2] % b != 0 || xs[3] % b != 0) throw Error(n, Codes.BadAttribute, $"blocksize {b} does not divide H={xs[2]} and W={xs[3]}");
        Set(n, 0, Input(n, 0).Elem, new Shape([xs[0], xs[1] * b * b, xs[2] / b, xs[3] / b]));
    }

    internal override (long[] Shape, long[] Strides, long Offset) Plan(Node n)
    {
        var xs = Input(n, 0).Shape.ToLongs();
        long b = n.Int("blocksize", 0), N = xs[0], C = xs[1], H = xs[2], W = xs[3];
        return ([N, b, b, C, H / b, W / b], [C * H * W, W, 1, H * W, b * W, b], 0);
    }
}
