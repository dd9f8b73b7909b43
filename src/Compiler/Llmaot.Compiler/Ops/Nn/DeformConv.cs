using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// DeformConv (opset 19, 22), 2-D: a convolution whose kernel taps are displaced per output pixel by learned offsets:
/// y[n, m, oh, ow] = B[m] + Σ_{c, i, j} W[m, c, i, j]·mask[n, g·kk + i·kW + j, oh, ow]·X[n, c](oh·sH - padT + i·dH + Δy,
/// ow·sW - padL + j·dW + Δx), with (Δy, Δx) = offset[n, g·2kk + 2(i·kW + j) + (0, 1), oh, ow] for the channel's offset
/// group g, X sampled bilinearly with zeros outside. W: [M, C/group, kH, kW]; mask optional (ones).
/// </summary>
public sealed class DeformConvOp : OpDef
{
    public override string Op => "DeformConv";
    public override int SinceVersion => 19;

    private static ConvGeometry Geometry(Node n)
    {
        var ws = ShapeHelpers.StaticShape(n, 1);
        return ConvGeometry.From(n, InShape(n, 0), ws[2..].Select(v => (int)v).ToArray());
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double))
            throw Error(n, Codes.UnsupportedType, $"DeformConv supports float32 and double, not {ElementTypes.Name(x.Elem)}");
        for (int i = 1; i < n.Inputs.Count; i++)
            if (n.In(i) is { } v && v.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, $"input {i} ('{v.Name}') differs in type from X");
        var xs = ShapeHelpers.StaticShape(n, 0);
        var ws = ShapeHelpers.StaticShape(n, 1);
        if (xs.Length != 4 || ws.Length != 4) throw Error(n, Codes.UnsupportedOp, "only 2-D DeformConv is supported");
        long group = n.Int("group", 1), og = n.Int("offset_group", 1);
        if (group <= 0 || og <= 0 || xs[1] != ws[1] * group || ws[0] % group != 0 || xs[1] % og != 0)
            throw Error(n, Codes.ShapeMismatch, $"channels {xs[1]}, weight [{string.Join(",", ws)}], group {group} and offset_group {og} do not fit");
        var g = Geometry(n);
        long kk = ws[2] * ws[3];
        var os = ShapeHelpers.StaticShape(n, 2);
        if (!os.SequenceEqual(new long[] { xs[0], og * kk * 2, g.Out[0], g.Out[1] })) throw Error(n, Codes.ShapeMismatch, $"offset [{string.Join(",", os)}] must be [{xs[0]}, {og * kk * 2}, {g.Out[0]}, {g.Out[1]}]");
        if (n.In(4) != null && !ShapeHelpers.StaticShape(n, 4).SequenceEqual(new long[] { xs[0], og * kk, g.Out[0], g.Out[1] })) throw Error(n, Codes.ShapeMismatch, "mask shape does not match the offsets");
        Set(n, 0, x.Elem, new Shape([xs[0], ws[0], g.Out[0], g.Out[1]]));
    }

    public override void Select(Node n) => n.Kernel = "Sampling.DeformConv" + (n.In(3) != null ? "+bias" : "") + (n.In(4) != null ? "+mask" : "");

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var xs = n.Inputs[0]!.Shape.ToLongs();
        var ws = n.Inputs[1]!.Shape.ToLongs();
        string T = EmitContext.T(n.Inputs[0]!);
        string Opt(int i) => n.In(i) is { } v ? e.P(v) : $"({T}*)null";
        e.W.Line($"Sampling.DeformConv({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {Opt(3)}, {Opt(4)}, {e.P(n.Outputs[0])},");
        e.W.Line($"    n: {xs[0]}, c: {xs[1]}, h: {xs[2]}, w: {xs[3]}, m: {ws[0]}, kh: {ws[2]}, kw: {ws[3]}, oh: {g.Out[0]}, ow: {g.Out[1]},");
        e.W.Line($"    sh: {g.Strides[0]}, sw: {g.Strides[1]}, padTop: {g.PadsBegin[0]}, padLeft: {g.PadsBegin[1]}, dh: {g.Dilations[0]}, dw: {g.Dilations[1]},");
        e.W.Line($"    group: {n.Int("group", 1)}, offsetGroup: {n.Int("offset_group", 1)});");
    }
}
