using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// NonMaxSuppression (opset 10, 11): per batch and class, greedily keeps the highest-scoring boxes (score &gt;
/// score_threshold) whose IoU with every box already kept is at most iou_threshold, up to max_output_boxes_per_class;
/// selected_indices [count, 3] = (batch, class, box) rows. Boxes are (y1, x1, y2, x2) corners, or (xc, yc, w, h) when
/// center_point_box = 1. The count depends on the values: the model must declare the output's static shape; the
/// generated code throws LLMAOT9021 when the run-time count differs (never a truncated or padded result).
/// </summary>
public sealed class NonMaxSuppressionOp : OpDef
{
    public override string Op => "NonMaxSuppression";
    public override int SinceVersion => 10;

    public override void Infer(Node n)
    {
        var b = Input(n, 0);
        if (b.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16) || Input(n, 1).Elem != b.Elem)
            throw Error(n, Codes.UnsupportedType, "boxes and scores must be float tensors of one type");
        var bs = ShapeHelpers.StaticShape(n, 0);
        var ss = ShapeHelpers.StaticShape(n, 1);
        if (bs.Length != 3 || bs[2] != 4 || ss.Length != 3 || ss[0] != bs[0] || ss[2] != bs[1])
            throw Error(n, Codes.ShapeMismatch, $"boxes [{string.Join(",", bs)}] must be [B, N, 4] and scores [{string.Join(",", ss)}] [B, C, N]");
        if (n.In(2) is { } m && m.Elem is not (ElementType.Int64 or ElementType.Int32)) throw Error(n, Codes.UnsupportedType, "max_output_boxes_per_class must be int64");
        foreach (int i in new[] { 3, 4 })
            if (n.In(i) is { } t && t.Elem != b.Elem) throw Error(n, Codes.UnsupportedType, $"input {i} must have the boxes' type");
        if (n.Outputs[0].Type.Shape is { IsStatic: true, Rank: 2 } declared && declared[1].Value == 3)
            Set(n, 0, ElementType.Int64, declared);
        else
            throw Error(n, Codes.DataDependentShape, "the number of selected boxes depends on the input values; declare the output's static shape [count, 3] in the model (checked at run time)");
    }

    public override void Select(Node n)
    {
        var ss = n.Inputs[1]!.Shape.ToLongs();
        n.ScratchBytes = Runtime.Kernels.Selection.NmsScratch((int)ss[0], (int)ss[1], (int)ss[2]) * sizeof(long);
        n.Kernel = "Selection.Nms";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var ss = n.Inputs[1]!.Shape.ToLongs();
        string T = EmitContext.T(n.Inputs[0]!);
        string Opt(int i, string t) => n.In(i) is { } v ? e.P(v) : $"({t}*)null";
        long count = n.Outputs[0].Shape[0].Value;
        e.W.Line($"if (!Selection.Nms({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {Opt(2, "long")}, {Opt(3, T)}, {Opt(4, T)}, {e.P(n.Outputs[0])},");
        e.W.Line($"    batch: {ss[0]}, classes: {ss[1]}, n: {ss[2]}, centerPoint: {Lit.B(n.Int("center_point_box", 0) != 0)}, count: {count}, scratch: {EmitContext.Scratch(n, "long")}))");
        e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: NonMaxSuppression '{n.Name}': the inputs select a number of boxes other than the {count} this model was compiled for")});");
    }
}
