using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ReverseSequence (opset 10): for each batch entry b (along batch_axis, default 1), reverses the first
/// sequence_lens[b] steps along time_axis (default 0) and copies the rest. The two axes are 0 and 1.
/// </summary>
public sealed class ReverseSequenceOp : OpDef
{
    public override string Op => "ReverseSequence";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        ShapeHelpers.RequireStorable(n, Input(n, 0));
        if (Input(n, 1).Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "sequence_lens must be int64");
        long b = n.Int("batch_axis", 1), t = n.Int("time_axis", 0);
        if (xs.Rank < 2 || !(b == 0 && t == 1 || b == 1 && t == 0)) throw Error(n, Codes.BadAttribute, "batch_axis and time_axis must be 0 and 1 (in either order) of an input of rank 2 or more");
        Set(n, 0, Input(n, 0).Elem, xs);
    }

    public override void Select(Node n) => n.Kernel = "Indexing.ReverseSequence";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var xs = x.Shape.ToLongs();
        if (ShapeHelpers.Prod(xs) == 0) { e.W.Line("// empty output: nothing to do"); return; }
        bool batchMajor = n.Int("batch_axis", 1) == 0;
        long batch = batchMajor ? xs[0] : xs[1], time = batchMajor ? xs[1] : xs[0];
        e.W.Line($"if (!Indexing.ReverseSequence({e.P(x)}, {e.P(n.Outputs[0])}, {e.P(n.Inputs[1]!)}, batch: {batch}, time: {time}, inner: {ShapeHelpers.Prod(xs[2..])}, batchMajor: {Lit.B(batchMajor)}))");
        e.W.Line(ShapeHelpers.IndexThrow(n, $"a sequence length is outside [0, {time}]"));
    }
}
