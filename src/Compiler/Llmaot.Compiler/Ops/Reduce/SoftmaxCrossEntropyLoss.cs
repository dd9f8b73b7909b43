using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// SoftmaxCrossEntropyLoss (opset 12, 13): log_prob = LogSoftmax(scores, axis 1), then the loss is
/// NegativeLogLikelihoodLoss(log_prob, labels, weights) with the same reduction and ignore_index. The optional
/// second output is log_prob (otherwise it lives in scratch).
/// </summary>
public sealed class SoftmaxCrossEntropyLossOp : OpDef
{
    public override string Op => "SoftmaxCrossEntropyLoss";

    public override void Infer(Node n)
    {
        NegativeLogLikelihoodLossOp.InferLoss(n);
        Set(n, 1, Input(n, 0).Elem, InShape(n, 0));
    }

    private static bool HasLogProb(Node n) => n.Outputs.Count > 1;

    public override void Select(Node n)
    {
        n.Kernel = "Softmax.Strided+Loss.NegativeLogLikelihood";
        n.ScratchBytes = HasLogProb(n) ? 0 : n.Inputs[0]!.Bytes;
    }

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var xs = x.Shape.ToLongs();
        long inner = xs.Skip(2).Aggregate(1L, (a, b) => a * b);
        string lp = HasLogProb(n) ? e.P(n.Outputs[1]) : EmitContext.Scratch(n, EmitContext.T(x));
        e.W.Line($"Softmax.Strided({e.P(x)}, {lp}, outer: {xs[0]}, n: {xs[1]}, inner: {inner}, log: true);");
        e.W.Line(NegativeLogLikelihoodLossOp.Call(n, e, lp));
    }
}
