using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// NegativeLogLikelihoodLoss (opset 12, 13, 22): input [N, C, d1..dk] (log-probabilities), target [N, d1..dk]
/// (int32/int64), optional weight [C]. loss[n, d] = -input[n, target[n, d], d] * weight[target[n, d]], 0 where
/// target == ignore_index. reduction "none" gives loss; "sum" its sum; "mean" (default) the sum divided by the sum of
/// the weights of the targets not ignored. A target outside [0, C) that is not ignored throws at run time.
/// </summary>
public sealed class NegativeLogLikelihoodLossOp : OpDef
{
    public override string Op => "NegativeLogLikelihoodLoss";

    /// <summary>Checks the inputs shared with SoftmaxCrossEntropyLoss and sets output 0.</summary>
    internal static void InferLoss(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(x.Elem)}; {n.Op} supports float, double and float16");
        var t = Input(n, 1);
        if (t.Elem is not (ElementType.Int32 or ElementType.Int64)) throw Error(n, Codes.UnsupportedType, "the target must be int32 or int64");
        var xs = InShape(n, 0);
        var ts = InShape(n, 1);
        if (xs.Rank < 2 || ts.Rank != xs.Rank - 1) throw Error(n, Codes.ShapeMismatch, $"input {xs} and target {ts} do not match ([N, C, d...] and [N, d...])");
        if (n.In(2) is { } w)
        {
            if (w.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "the weight must have the input's type");
            var ws = InShape(n, 2);
            if (ws.Rank != 1 || ws[0].IsKnown && xs[1].IsKnown && ws[0].Value != xs[1].Value) throw Error(n, Codes.ShapeMismatch, $"weight {ws} must be [C] = [{xs[1]}]");
        }
        string red = n.Str("reduction", "mean");
        if (red is not ("none" or "sum" or "mean")) throw Error(n, Codes.BadAttribute, $"reduction '{red}' is not none, sum or mean");
        Set(n, 0, x.Elem, red == "none" ? ts : Shape.Scalar);
    }

    /// <summary>The kernel call computing the loss from log-probabilities at <paramref name="logProb"/>.</summary>
    internal static string Call(Node n, EmitContext e, string logProb)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        long inner = xs.Skip(2).Aggregate(1L, (a, b) => a * b);
        string red = n.Str("reduction", "mean") switch { "none" => "Loss.None", "sum" => "Loss.Sum", _ => "Loss.Mean" };
        bool ii = n.Attrs.ContainsKey("ignore_index");
        string w = n.In(2) is { } wv ? e.P(wv) : "null";
        return $"Loss.NegativeLogLikelihood({logProb}, {e.P(n.Inputs[1]!)}, weight: {w}, {e.P(n.Outputs[0])}, batch: {xs[0]}, classes: {xs[1]}, inner: {inner}, hasIgnore: {Lit.B(ii)}, ignoreIndex: {Lit.I(n.Int("ignore_index", 0))}, reduction: {red});";
    }

    public override void Infer(Node n) => InferLoss(n);

    public override void Select(Node n) => n.Kernel = "Loss.NegativeLogLikelihood";

    public override void Emit(Node n, EmitContext e) => e.W.Line(Call(n, e, e.P(n.Inputs[0]!)));
}
