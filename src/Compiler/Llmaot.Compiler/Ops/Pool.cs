using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// MaxPool (opset 1-12+) and AveragePool (opset 1-19+), 1-D and 2-D, NCHW: kernel_shape, strides, pads, auto_pad,
/// ceil_mode, dilations, count_include_pad; LpPool (opset 1-22): y = (Σ |x|^p)^(1/p) over the window.
/// float32 1-D/2-D pools run the tuned Pool kernels; 3-D pools, other types (double, float16, int8/uint8 MaxPool),
/// LpPool and MaxPool's Indices output (flat NCHW index, storage_order 1: column-major) run the general PoolNd kernel.
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
        var t = Input(n, 0).Elem;
        if (!(t is ElementType.Float or ElementType.Double or ElementType.Float16 || IsMax && t is ElementType.Int8 or ElementType.UInt8))
            throw Error(n, Codes.UnsupportedType, $"{op} does not support {ElementTypes.Name(t)} inputs");
        var x = InShape(n, 0);
        if (x.Rank > 5) throw Error(n, Codes.UnsupportedOp, $"{x.Rank - 2}-D pooling is not supported (1-D to 3-D are)");
        if (!IsMax && n.Ints("dilations") is { } d && d.Any(v => v != 1) && op == "AveragePool" && n.Opset < 19)
            throw Error(n, Codes.BadAttribute, "AveragePool dilations need opset 19");
        var g = Geometry(n);
        var dims = new List<Dim> { x[0], x[1] };
        dims.AddRange(g.Out.Select(o => Dim.Of(o)));
        Set(n, 0, t, new Shape(dims.ToArray()));
        if (IsMax && HasIndices(n)) Set(n, 1, ElementType.Int64, new Shape(dims.ToArray()));
    }

    private static bool HasIndices(Node n) => n.Outputs.Count > 1 && !n.Outputs[1].Name.Contains(":unused");

    /// <summary>The float32 1-D/2-D fast kernels (Pool.Max2D, Pool.Average2D) or the general PoolNd path.</summary>
    private bool Fast(Node n) => op != "LpPool" && n.Inputs[0]!.Elem == ElementType.Float && n.Inputs[0]!.Shape.Rank <= 4 && !(IsMax && HasIndices(n));

    public override void Select(Node n) => n.Kernel = !Fast(n) ? (IsMax ? "PoolNd.Max" : "PoolNd.Reduce") : IsMax ? "Pool.Max2D" : "Pool.Average2D";

    private static long[] To3(int[] v, int fill) => Enumerable.Repeat((long)fill, 3 - v.Length).Concat(v.Select(x => (long)x)).ToArray();

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        if (!Fast(n))
        {
            var xs = n.Inputs[0]!.Shape.ToLongs();
            string common = $"n: {xs[0]}, c: {xs[1]}, inDims: {EmitContext.Ints(To3(g.In, 1))}, outDims: {EmitContext.Ints(To3(g.Out, 1))},\n" +
                $"    kernel: {EmitContext.Ints(To3(g.Kernel, 1))}, strides: {EmitContext.Ints(To3(g.Strides, 1))}, dilations: {EmitContext.Ints(To3(g.Dilations, 1))}, padsBegin: {EmitContext.Ints(To3(g.PadsBegin, 0))}";
            if (IsMax)
            {
                string ind = HasIndices(n) ? e.P(n.Outputs[1]) : "(long*)null";
                foreach (var line in $"PoolNd.Max({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, {ind}, {common}, columnMajor: {Lit.B(n.Int("storage_order", 0) != 0)});".Split('\n')) e.W.Line(line);
            }
            else
            {
                double p = op == "LpPool" ? n.Int("p", 2) : 0;
                foreach (var line in ($"PoolNd.Reduce({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, {common},\n" +
                    $"    padsEnd: {EmitContext.Ints(To3(g.PadsEnd, 0))}, countIncludePad: {Lit.B(n.Int("count_include_pad", 0) != 0)}, lpPower: {Lit.D(p)});").Split('\n')) e.W.Line(line);
            }
            return;
        }
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

/// <summary>GlobalAveragePool, GlobalMaxPool and GlobalLpPool (opset 1, 2): reduce every spatial dim to 1 (Lp: (Σ |x|^p)^(1/p)).</summary>
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

    public override void Select(Node n) => n.Kernel = op == "GlobalAveragePool" ? "Pool.GlobalAverage" : op == "GlobalLpPool" ? "PoolNd.Reduce" : "Pool.GlobalMax";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!.Shape.ToLongs();
        if (op == "GlobalLpPool")
        {
            var sp = x.Skip(2).ToList();
            if (sp.Count > 3) throw Error(n, Codes.UnsupportedOp, "GlobalLpPool supports 1 to 3 spatial dims");
            var dims = Enumerable.Repeat(1L, 3 - sp.Count).Concat(sp).ToArray();
            e.W.Line($"PoolNd.Reduce({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, n: {x[0]}, c: {x[1]}, inDims: {EmitContext.Ints(dims)}, outDims: [1, 1, 1],");
            e.W.Line($"    kernel: {EmitContext.Ints(dims)}, strides: [1, 1, 1], dilations: [1, 1, 1], padsBegin: [0, 0, 0], padsEnd: [0, 0, 0], countIncludePad: false, lpPower: {Lit.D(n.Int("p", 2))});");
            return;
        }
        long spatial = x.Skip(2).Aggregate(1L, (a, b) => a * b);
        e.W.Line($"{n.Kernel}({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, nc: {x[0] * x[1]}, spatial: {spatial});");
    }
}
