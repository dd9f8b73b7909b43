using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// RoiAlign (opset 10; 16, 22: coordinate_transformation_mode, default half_pixel): Y[r, c] pools the region rois[r] =
/// (x1, y1, x2, y2)·spatial_scale (shifted by -0.5 with half_pixel; at least 1x1 with output_half_pixel) of
/// X[batch_indices[r], c] into output_height x output_width bins, each averaging (mode avg) or taking the max of
/// sampling_ratio² bilinear samples (adaptive ceil(roi/bins) when 0). X: [N, C, H, W], rois: [R, 4], Y: [R, C, oh, ow].
/// </summary>
public sealed class RoiAlignOp : OpDef
{
    public override string Op => "RoiAlign";
    public override int SinceVersion => 10;

    private static bool HalfPixel(Node n) => n.Str("coordinate_transformation_mode", n.Opset >= 16 ? "half_pixel" : "output_half_pixel") switch
    {
        "half_pixel" => true,
        "output_half_pixel" => false,
        var m => throw Error(n, Codes.BadAttribute, $"unknown coordinate_transformation_mode '{m}'"),
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"RoiAlign supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        if (Input(n, 1).Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "rois must have X's type");
        if (Input(n, 2).Elem is not (ElementType.Int64 or ElementType.Int32)) throw Error(n, Codes.UnsupportedType, "batch_indices must be int64");
        var xs = ShapeHelpers.StaticShape(n, 0);
        var rs = ShapeHelpers.StaticShape(n, 1);
        if (xs.Length != 4 || rs.Length != 2 || rs[1] != 4) throw Error(n, Codes.ShapeMismatch, "X must be [N, C, H, W] and rois [R, 4]");
        if (n.Str("mode", "avg") is not ("avg" or "max")) throw Error(n, Codes.BadAttribute, $"unknown mode '{n.Str("mode", "avg")}'");
        HalfPixel(n);
        Set(n, 0, x.Elem, new Shape([rs[0], xs[1], n.Int("output_height", 1), n.Int("output_width", 1)]));
    }

    public override void Select(Node n) => n.Kernel = "Sampling.RoiAlign[" + n.Str("mode", "avg") + "]";

    public override void Emit(Node n, EmitContext e)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        var y = n.Outputs[0].Shape.ToLongs();
        e.W.Line($"Sampling.RoiAlign({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {e.P(n.Outputs[0])}, n: {xs[0]}, channels: {xs[1]}, h: {xs[2]}, w: {xs[3]},");
        e.W.Line($"    numRois: {y[0]}, outH: {y[2]}, outW: {y[3]}, samplingRatio: {n.Int("sampling_ratio", 0)}, spatialScale: {Lit.D(n.Float("spatial_scale", 1f))},");
        e.W.Line($"    halfPixel: {Lit.B(HalfPixel(n))}, max: {Lit.B(n.Str("mode", "avg") == "max")});");
    }
}
