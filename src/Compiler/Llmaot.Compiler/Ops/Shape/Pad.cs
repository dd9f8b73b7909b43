using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Pad (opset 1, 2: pads/value attributes; 11, 13, 18 (axes input), 19 (wrap), 21: pads input, constant): y has
/// dims begin[d] + n[d] + end[d]; positions outside x take the constant (input 2 or 0), the mirrored element
/// (reflect, edge excluded), the edge element (edge) or the periodic element (wrap). Negative pads crop.
/// </summary>
public sealed class PadOp : OpDef
{
    public override string Op => "Pad";

    internal static (long[] Begin, long[] End) Pads(Node n, int rank)
    {
        long[] pads = n.Opset < 11
            ? n.Ints(n.Opset < 2 ? "paddings" : "pads") ?? throw Error(n, Codes.BadAttribute, "attribute 'pads' is required")
            : ShapeHelpers.ConstShapeInput(n, 1, "pads");
        long[] axes = n.Opset >= 18 && n.In(3) != null
            ? ShapeHelpers.ConstShapeInput(n, 3, "axes").Select(a => (long)Axis(n, a, rank)).ToArray()
            : Enumerable.Range(0, rank).Select(i => (long)i).ToArray();
        if (pads.Length != 2 * axes.Length) throw Error(n, Codes.BadAttribute, $"pads has {pads.Length} entries for {axes.Length} axes");
        var begin = new long[rank];
        var end = new long[rank];
        for (int i = 0; i < axes.Length; i++) { begin[axes[i]] = pads[i]; end[axes[i]] = pads[i + axes.Length]; }
        return (begin, end);
    }

    private static string Mode(Node n)
    {
        string m = n.Str("mode", "constant");
        return m switch
        {
            "constant" => "PadMode.Constant",
            "reflect" => "PadMode.Reflect",
            "edge" => "PadMode.Edge",
            "wrap" => "PadMode.Wrap",
            _ => throw Error(n, Codes.BadAttribute, $"mode '{m}' is not constant, reflect, edge or wrap"),
        };
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        ShapeHelpers.RequireStorable(n, x);
        var xs = ShapeHelpers.StaticShape(n, 0);
        Mode(n);
        var (b, e) = Pads(n, xs.Length);
        var ys = xs.Select((d, i) => d + b[i] + e[i]).ToArray();
        if (ys.Any(d => d < 0)) throw Error(n, Codes.ShapeMismatch, "negative pads crop more than the input has");
        Set(n, 0, x.Elem, new Shape(ys));
    }

    public override void Select(Node n) => n.Kernel = "Strided.Pad";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var (b, _) = Pads(n, x.Shape.Rank);
        string value = n.Opset >= 11
            ? (n.In(2) is { } v && v.Type.Shape is { } vs && vs.Count > 0 ? $"{e.P(v)}[0]" : "default")
            : n.Float("value", 0) == 0 ? "default" : ShapeHelpers.Literal(y.Elem, n.Float("value", 0));
        e.W.Line($"Strided.Pad({e.P(x)}, {e.P(y)}, inShape: {EmitContext.Ints(x.Shape.ToLongs())}, outShape: {EmitContext.Ints(y.Shape.ToLongs())}, begin: {EmitContext.Ints(b)}, mode: {Mode(n)}, value: {value});");
    }
}
