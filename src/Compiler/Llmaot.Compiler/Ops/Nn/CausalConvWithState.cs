using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// CausalConvWithState (opset 27): a depthwise causal 1-D convolution carrying its left context. With P = concat(past_state
/// (or zeros) [B, C, K-1], input [B, C, L]) along the last axis: output[b, c, t] = bias[c] + Σ_{i &lt; K} weight[c, 0, i]·P[b, c, t + i],
/// then y·sigmoid(y) when activation is "silu" or "swish"; present_state = the last K-1 columns of P.
/// </summary>
public sealed class CausalConvWithStateOp : OpDef
{
    public override string Op => "CausalConvWithState";
    public override int SinceVersion => 27;

    private static bool Silu(Node n) => n.Str("activation", "none") switch
    {
        "silu" or "swish" => true,
        "none" or "" => false,
        var a => throw Error(n, Codes.BadAttribute, $"unknown activation '{a}'"),
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"CausalConvWithState supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        for (int i = 1; i < n.Inputs.Count; i++)
            if (n.In(i) is { } v && v.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, $"input {i} ('{v.Name}') differs in type from the input");
        var xs = ShapeHelpers.StaticShape(n, 0);
        var ws = ShapeHelpers.StaticShape(n, 1);
        if (xs.Length != 3 || ws.Length != 3 || ws[0] != xs[1] || ws[1] != 1 || ws[2] < 1)
            throw Error(n, Codes.ShapeMismatch, $"input [{string.Join(",", xs)}] must be [B, C, L] and weight [{string.Join(",", ws)}] [C, 1, K]");
        if (n.In(2) != null && !ShapeHelpers.StaticShape(n, 2).SequenceEqual(new[] { xs[1] })) throw Error(n, Codes.ShapeMismatch, "bias must be [C]");
        if (n.In(3) != null && !ShapeHelpers.StaticShape(n, 3).SequenceEqual(new[] { xs[0], xs[1], ws[2] - 1 }))
            throw Error(n, Codes.ShapeMismatch, $"past_state must be [{xs[0]}, {xs[1]}, {ws[2] - 1}]");
        Silu(n);
        Set(n, 0, x.Elem, new Shape(xs));
        Set(n, 1, x.Elem, new Shape([xs[0], xs[1], ws[2] - 1]));
    }

    public override void Select(Node n) => n.Kernel = "LinearAttention.CausalConv" + (Silu(n) ? "+silu" : "");

    public override void Emit(Node n, EmitContext e)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        long k = n.Inputs[1]!.Shape[2].Value;
        string T = EmitContext.T(n.Inputs[0]!);
        string Opt(int i) => n.In(i) is { } v ? e.P(v) : $"({T}*)null";
        string present = n.Outputs.Count > 1 ? e.P(n.Outputs[1]) : throw Error(n, Codes.BadGraph, "present_state output is required");
        e.W.Line($"LinearAttention.CausalConv({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {Opt(2)}, {Opt(3)}, {e.P(n.Outputs[0])}, {present},");
        e.W.Line($"    batch: {xs[0]}, channels: {xs[1]}, len: {xs[2]}, k: {k}, silu: {Lit.B(Silu(n))});");
    }
}
