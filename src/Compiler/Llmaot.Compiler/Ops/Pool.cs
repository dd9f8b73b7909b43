using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// MaxPool (opset 1-12+) and AveragePool (opset 1-19+), 1-D and 2-D, NCHW: kernel_shape, strides, pads, auto_pad,
/// ceil_mode, dilations, count_include_pad. MaxPool's optional Indices output is not supported.
/// </summary>
public sealed class PoolOp(string op) : OpDef
{
    public override string Op => op;
    private bool IsMax => op == "MaxPool";

    private static ConvGeometry Geometry(Node n)
    {
        var ks = n.Ints("kernel_shape") ?? throw Error(n, Codes.BadAttribute, "attribute 'kernel_shape' is required");
        return ConvGeometry.From(n, InShape(n, 0), ks.Select(k => checked((int)k)).ToArray(), n.Int("ceil_mode", 0) != 0);
    }

    public override void Infer(Node n)
    {
        RequireFloat(n, Input(n, 0));
        var x = InShape(n, 0);
        if (x.Rank > 4) throw Error(n, Codes.UnsupportedOp, $"{x.Rank - 2}-D pooling is not supported yet (1-D and 2-D are)");
        if (n.Outputs.Count > 1 && n.Outputs[1].Name.Length > 0 && !n.Outputs[1].Name.Contains(":unused"))
            throw Error(n, Codes.UnsupportedOp, "MaxPool's Indices output is not supported; remove it from the graph");
        if (!IsMax && n.Ints("dilations") is { } d && d.Any(v => v != 1) && n.Opset < 19)
            throw Error(n, Codes.BadAttribute, "AveragePool dilations need opset 19");
        if (IsMax && n.Int("storage_order", 0) != 0) throw Error(n, Codes.BadAttribute, "storage_order=1 only affects Indices, which is not supported");
        var g = Geometry(n);
        var dims = new List<Dim> { x[0], x[1] };
        dims.AddRange(g.Out.Select(o => Dim.Of(o)));
        Set(n, 0, ElementType.Float, new Shape(dims.ToArray()));
    }

    public override void Select(Node n) => n.Kernel = IsMax ? "Pool.Max2D" : "Pool.Average2D";

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var x = n.Inputs[0]!.Shape.ToInts();
        bool oneD = x.Length == 3;
        int H = oneD ? 1 : x[2], W = oneD ? x[2] : x[3];
        int OH = oneD ? 1 : g.Out[0], OW = g.Out[^1];
        int KH = oneD ? 1 : g.Kernel[0], KW = g.Kernel[^1];
        int SH = oneD ? 1 : g.Strides[0], SW = g.Strides[^1];
        int PT = oneD ? 0 : g.PadsBegin[0], PL = g.PadsBegin[^1];
        int PB = oneD ? 0 : g.PadsEnd[0], PR = g.PadsEnd[^1];
        int DH = oneD ? 1 : g.Dilations[0], DW = g.Dilations[^1];
        string head = $"{e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, n: {x[0]}, c: {x[1]}, h: {H}, w: {W}, oh: {OH}, ow: {OW}, kh: {KH}, kw: {KW},";
        if (IsMax)
        {
            e.W.Line($"Pool.Max2D({head}");
            e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW});");
        }
        else
        {
            e.W.Line($"Pool.Average2D({head}");
            e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, padBottom: {PB}, padRight: {PR}, dilH: {DH}, dilW: {DW}, countIncludePad: {Lit.B(n.Int("count_include_pad", 0) != 0)});");
        }
    }
}

/// <summary>GlobalAveragePool and GlobalMaxPool (opset 1): reduce every spatial dim to 1.</summary>
public sealed class GlobalPoolOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        RequireFloat(n, Input(n, 0));
        var x = InShape(n, 0);
        if (x.Rank < 3) throw Error(n, Codes.ShapeMismatch, $"input {x} needs N, C and spatial dims");
        Set(n, 0, ElementType.Float, new Shape(x.Dims.Select((d, i) => i < 2 ? d : Dim.Of(1)).ToArray()));
    }

    public override void Select(Node n) => n.Kernel = op == "GlobalAveragePool" ? "Pool.GlobalAverage" : "Pool.GlobalMax";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!.Shape.ToLongs();
        long spatial = x.Skip(2).Aggregate(1L, (a, b) => a * b);
        e.W.Line($"{n.Kernel}({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, nc: {x[0] * x[1]}, spatial: {spatial});");
    }
}
