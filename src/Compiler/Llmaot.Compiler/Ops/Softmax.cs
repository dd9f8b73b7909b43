using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Softmax and LogSoftmax. Opset &lt; 13: the input is coerced to 2-D at <c>axis</c> (default 1) and normalized over
/// the flattened trailing dims. Opset 13+: normalized along <c>axis</c> (default -1); a non-last axis runs over a
/// transposed view in scratch.
/// </summary>
public sealed class SoftmaxOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        RequireFloat(n, Input(n, 0));
        var x = InShape(n, 0);
        Axis(n, n.Int("axis", n.Opset >= 13 ? -1 : 1), x.Rank);
        Set(n, 0, ElementType.Float, x);
    }

    /// <summary>(outer, n, inner): softmax over n elements spaced inner apart.</summary>
    private static (long Outer, long N, long Inner) Split(Node n)
    {
        var x = n.Inputs[0]!.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", n.Opset >= 13 ? -1 : 1), x.Length);
        long outer = x.Take(axis).Aggregate(1L, (a, b) => a * b);
        if (n.Opset < 13) return (outer, x.Skip(axis).Aggregate(1L, (a, b) => a * b), 1);
        return (outer, x[axis], x.Skip(axis + 1).Aggregate(1L, (a, b) => a * b));
    }

    public override void Select(Node n)
    {
        var (outer, len, inner) = Split(n);
        string fn = op == "Softmax" ? "Softmax.Run" : "Softmax.RunLog";
        n.Kernel = inner == 1 ? fn : fn + "[strided]";
        n.ScratchBytes = inner == 1 ? 0 : outer * len * inner * 4 * 2;
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (outer, len, inner) = Split(n);
        string fn = op == "Softmax" ? "Softmax.Run" : "Softmax.RunLog";
        string x = e.P(n.Inputs[0]!), y = e.P(n.Outputs[0]);
        if (inner == 1)
        {
            e.W.Line($"{fn}({x}, {y}, outer: {outer}, n: {len});");
            return;
        }
        // [outer, len, inner] -> [outer, inner, len], normalize rows, transpose back.
        string s = EmitContext.Scratch(n);
        long total = outer * len * inner;
        e.W.Line($"DataMovement.Transpose({x}, {s}, {EmitContext.Ints([outer, len, inner])}, [0, 2, 1]);");
        e.W.Line($"{fn}({s}, {s} + {total}, outer: {outer * inner}, n: {len});");
        e.W.Line($"DataMovement.Transpose({s} + {total}, {y}, {EmitContext.Ints([outer, inner, len])}, [0, 2, 1]);");
    }
}
