using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// CenterCropPad (opset 18): on each listed axis (default all) crops or zero-pads x to the constant target size,
/// centered: a crop starts at (n - m) / 2, a pad puts (m - n) / 2 zeros before (integer division).
/// Emitted as a constant Pad with negative begin pads for crops.
/// </summary>
public sealed class CenterCropPadOp : OpDef
{
    public override string Op => "CenterCropPad";

    private static (long[] Out, long[] Begin) Geometry(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        var target = ShapeHelpers.ConstShapeInput(n, 1, "target shape");
        var axes = (n.Ints("axes") ?? Enumerable.Range(0, xs.Length).Select(i => (long)i).ToArray()).Select(a => Axis(n, a, xs.Length)).ToArray();
        if (target.Length != axes.Length) throw Error(n, Codes.ShapeMismatch, $"shape has {target.Length} entries for {axes.Length} axes");
        var ys = xs.ToArray();
        var begin = new long[xs.Length];
        for (int i = 0; i < axes.Length; i++)
        {
            int a = axes[i];
            ys[a] = target[i];
            begin[a] = target[i] >= xs[a] ? (target[i] - xs[a]) / 2 : -((xs[a] - target[i]) / 2);
        }
        return (ys, begin);
    }

    public override void Infer(Node n)
    {
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        Set(n, 0, Input(n, 0).Elem, new Shape(Geometry(n).Out));
    }

    public override void Select(Node n) => n.Kernel = "Strided.Pad";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var (ys, begin) = Geometry(n);
        e.W.Line($"Strided.Pad({e.P(x)}, {e.P(y)}, inShape: {EmitContext.Ints(x.Shape.ToLongs())}, outShape: {EmitContext.Ints(ys)}, begin: {EmitContext.Ints(begin)}, mode: PadMode.Constant, value: default);");
    }
}
