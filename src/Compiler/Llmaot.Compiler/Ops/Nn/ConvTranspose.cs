using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ConvTranspose (opset 1, 11, 22): y[n, g·M/G + m, o] = B[m] + Σ_{c in group g, k} x[n, c, i] · W[c, m, k] where
/// o = i·stride + k·dilation - pad_begin. W: [C, M/group, k...]; 1-D, 2-D and 3-D. Output size per axis:
/// stride·(in-1) + output_padding + (k-1)·dilation + 1 - pad_begin - pad_end, or output_shape when given; with
/// auto_pad SAME_UPPER/SAME_LOWER (and no pads) the total padding is derived from output_shape (default in·stride) and
/// split (the odd unit at the end for SAME_UPPER, at the beginning otherwise).
/// </summary>
public sealed class ConvTransposeOp : OpDef
{
    public override string Op => "ConvTranspose";

    private sealed record Geo(int[] In, int[] Out, int[] Kernel, int[] Strides, int[] Dil, int[] PadsBegin);

    private static Geo Geometry(Node n)
    {
        var xs = InShape(n, 0);
        var ws = InShape(n, 1);
        if (!xs.IsStatic || !ws.IsStatic) throw Error(n, Codes.UnboundDim, "ConvTranspose needs static input and weight shapes");
        int sp = xs.Rank - 2;
        if (sp < 1 || sp > 3) throw Error(n, Codes.UnsupportedOp, $"{sp}-D transposed convolution is not supported (1-D to 3-D are)");
        if (ws.Rank != xs.Rank) throw Error(n, Codes.ShapeMismatch, $"weight {ws} and input {xs} differ in rank");
        int[] Attr(string name, int dflt, int len)
        {
            var v = n.Ints(name);
            if (v == null || v.Length == 0) return Enumerable.Repeat(dflt, len).ToArray();
            if (v.Length != len) throw Error(n, Codes.BadAttribute, $"attribute '{name}' has {v.Length} values; expected {len}");
            return v.Select(t => checked((int)t)).ToArray();
        }
        var inp = Enumerable.Range(0, sp).Select(i => (int)xs[2 + i].Value).ToArray();
        var kernel = Enumerable.Range(0, sp).Select(i => (int)ws[2 + i].Value).ToArray();
        var strides = Attr("strides", 1, sp);
        var dil = Attr("dilations", 1, sp);
        var outPad = Attr("output_padding", 0, sp);
        var outShape = n.Ints("output_shape") is { Length: > 0 } os ? os.Select(v => (int)v).TakeLast(sp).ToArray() : null;
        string autoPad = n.Str("auto_pad", "NOTSET");
        var pb = new int[sp];
        var outs = new int[sp];
        bool hasPads = n.Ints("pads") is { Length: > 0 };
        if (!hasPads && autoPad is "SAME_UPPER" or "SAME_LOWER")
        {
            for (int i = 0; i < sp; i++)
            {
                outs[i] = outShape?[i] ?? inp[i] * strides[i];
                int total = strides[i] * (inp[i] - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - outs[i];
                pb[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
            }
        }
        else
        {
            var pads = Attr("pads", 0, 2 * sp);
            for (int i = 0; i < sp; i++)
            {
                pb[i] = pads[i];
                outs[i] = outShape?[i] ?? strides[i] * (inp[i] - 1) + outPad[i] + (kernel[i] - 1) * dil[i] + 1 - pads[i] - pads[sp + i];
            }
        }
        if (outs.Any(o => o <= 0)) throw Error(n, Codes.ShapeMismatch, $"the output would have no elements ([{string.Join(",", outs)}])");
        return new Geo(inp, outs, kernel, strides, dil, pb);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"ConvTranspose supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        var xs = InShape(n, 0);
        var ws = InShape(n, 1);
        long group = n.Int("group", 1);
        if (group <= 0 || xs[1].Value % group != 0) throw Error(n, Codes.BadAttribute, $"group {group} does not divide the {xs[1]} input channels");
        if (ws[0].Value != xs[1].Value) throw Error(n, Codes.ShapeMismatch, $"weight {ws} expects {ws[0]} input channels, the input {xs} has {xs[1]}");
        var g = Geometry(n);
        var dims = new List<Dim> { xs[0], Dim.Of(ws[1].Value * group) };
        dims.AddRange(g.Out.Select(o => Dim.Of(o)));
        Set(n, 0, x.Elem, new Shape(dims.ToArray()));
    }

    public override void Select(Node n)
    {
        if (n.Inputs[0]!.Elem == ElementType.Float)
        {
            var g = Geometry(n);
            var xs = n.Inputs[0]!.Shape.ToLongs();
            n.ScratchBytes = Runtime.Kernels.ConvTranspose.ScratchFloats((int)xs[1], (int)n.Outputs[0].Shape[1].Value, (int)n.Int("group", 1),
                To3(g.In, 1).Select(v => (int)v).ToArray(), To3(g.Kernel, 1).Select(v => (int)v).ToArray()) * 4;
            n.Kernel = "ConvTranspose.RunFloat[gemm+col2im]" + (n.In(2) != null ? "+bias" : "") + ConvOp.EpilogueSuffix(n);
            return;
        }
        n.Kernel = "ConvTranspose.Run" + (n.In(2) != null ? "+bias" : "");
    }

    private static long[] To3(int[] v, int fill) => Enumerable.Repeat((long)fill, 3 - v.Length).Concat(v.Select(x => (long)x)).ToArray();

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var x = n.Inputs[0]!;
        var xs = x.Shape.ToLongs();
        var y = n.Outputs[0];
        string bias = n.In(2) is { } b ? e.P(b) : "null";
        if (x.Elem == ElementType.Float)
        {
            e.W.Line($"ConvTranspose.RunFloat({e.P(x)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(y)}, n: {xs[0]}, c: {xs[1]}, m: {y.Shape[1].Value}, group: {n.Int("group", 1)},");
            e.W.Line($"    inDims: {EmitContext.Ints(To3(g.In, 1))}, outDims: {EmitContext.Ints(To3(g.Out, 1))}, kernel: {EmitContext.Ints(To3(g.Kernel, 1))},");
            e.W.Line($"    strides: {EmitContext.Ints(To3(g.Strides, 1))}, dilations: {EmitContext.Ints(To3(g.Dil, 1))}, padsBegin: {EmitContext.Ints(To3(g.PadsBegin, 0))},");
            e.W.Line($"    scratch: {EmitContext.Scratch(n)}, epi: {ConvOp.EpilogueLiteral(n)});");
            return;
        }
        e.W.Line($"ConvTranspose.Run({e.P(x)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(y)}, n: {xs[0]}, c: {xs[1]}, m: {y.Shape[1].Value}, group: {n.Int("group", 1)},");
        e.W.Line($"    inDims: {EmitContext.Ints(To3(g.In, 1))}, outDims: {EmitContext.Ints(To3(g.Out, 1))}, kernel: {EmitContext.Ints(To3(g.Kernel, 1))},");
        e.W.Line($"    strides: {EmitContext.Ints(To3(g.Strides, 1))}, dilations: {EmitContext.Ints(To3(g.Dil, 1))}, padsBegin: {EmitContext.Ints(To3(g.PadsBegin, 0))});");
    }
}
