using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// GridSample (opset 16: 2-D, modes bilinear/nearest/bicubic; opset 20, 22: N-d, modes linear/nearest/cubic):
/// y[n, c, o...] = X[n, c] sampled at the normalized location grid[n, o..., :] (x = innermost dim first),
/// unnormalized as (g + 1)/2·(size - 1) with align_corners, else ((g + 1)·size - 1)/2; padding_mode zeros, border or
/// reflection decides samples outside the input. X: [N, C, D1..Dr], grid: [N, O1..Or, r], y: [N, C, O1..Or]; r = 1..3.
/// </summary>
public sealed class GridSampleOp : OpDef
{
    public override string Op => "GridSample";
    public override int SinceVersion => 16;

    private static int Mode(Node n) => n.Str("mode", n.Opset >= 20 ? "linear" : "bilinear") switch
    {
        "nearest" => 0,
        "linear" or "bilinear" => 1,
        "cubic" or "bicubic" => 2,
        var m => throw Error(n, Codes.BadAttribute, $"unknown mode '{m}'"),
    };

    private static int Padding(Node n) => n.Str("padding_mode", "zeros") switch
    {
        "zeros" => 0,
        "border" => 1,
        "reflection" => 2,
        var m => throw Error(n, Codes.BadAttribute, $"unknown padding_mode '{m}'"),
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"GridSample supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        var xs = InShape(n, 0);
        var gs = InShape(n, 1);
        int r = xs.Rank - 2;
        if (r < 1 || r > 3) throw Error(n, Codes.UnsupportedOp, $"{r}-D GridSample is not supported (1-D to 3-D are)");
        if (gs.Rank != r + 2 || gs[gs.Rank - 1].IsKnown && gs[gs.Rank - 1].Value != r) throw Error(n, Codes.ShapeMismatch, $"grid {gs} must be [N, {r} output dims, {r}] for input {xs}");
        if (Input(n, 1).Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "grid and X must have the same type");
        Mode(n);
        Padding(n);
        var dims = new List<Dim> { xs[0], xs[1] };
        for (int i = 0; i < r; i++) dims.Add(gs[1 + i]);
        Set(n, 0, x.Elem, new Shape(dims.ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "GridSample.Run[" + n.Str("mode", "linear") + "," + n.Str("padding_mode", "zeros") + "]";

    public override void Emit(Node n, EmitContext e)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        var y = n.Outputs[0];
        var ys = y.Shape.ToLongs();
        e.W.Line($"GridSample.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(y)}, batch: {xs[0]}, channels: {xs[1]},");
        e.W.Line($"    inDims: {EmitContext.Ints(xs[2..])}, outDims: {EmitContext.Ints(ys[2..])}, mode: {Mode(n)}, padding: {Padding(n)}, alignCorners: {Lit.B(n.Int("align_corners", 0) != 0)});");
    }
}
