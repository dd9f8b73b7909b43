using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// DepthToSpace (opset 1, 11: mode DCR or CRD; 13): x [N, C, H, W] with blocksize b to y [N, C/b², H·b, W·b].
/// DCR reads x as [N, b, b, C/b², H, W], CRD as [N, C/b², b, b, H, W]; both transpose to [N, C/b², H, b, W, b].
/// </summary>
public sealed class DepthToSpaceOp : StridedOp
{
    public override string Op => "DepthToSpace";

    public override void Infer(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        long b = n.Int("blocksize", 0);
        if (xs.Length != 4) throw Error(n, Codes.ShapeMismatch, "the input must be 4-D [N, C, H, W]");
        if (b <= 0 || xs[1] % (b * b) != 0) throw Error(n, Codes.BadAttribute, $"blocksize {b} does not divide the {xs[1]} channels into b² groups");
        string mode = n.Str("mode", "DCR");
        if (mode is not ("DCR" or "CRD")) throw Error(n, Codes.BadAttribute, $"mode '{mode}' is not DCR or CRD");
        Set(n, 0, Input(n, 0).Elem, new Shape([xs[0], xs[1] / (b * b), xs[2] * b, xs[3] * b]));
    }

    internal override (long[] Shape, long[] Strides, long Offset) Plan(Node n)
    {
        var xs = Input(n, 0).Shape.ToLongs();
        long b = n.Int("blocksize", 0), N = xs[0], C = xs[1] / (b * b), H = xs[2], W = xs[3];
        long sN = xs[1] * H * W, sH = W, sW = 1, sC, sB1, sB2;
        if (n.Str("mode", "DCR") == "DCR") { sB1 = b * C * H * W; sB2 = C * H * W; sC = H * W; }
        else { sC = b * b * H * W; sB1 = b * H * W; sB2 = H * W; }
        return ([N, C, H, b, W, b], [sN, sC, sH, sB1, sW, sB2], 0);
    }
}
