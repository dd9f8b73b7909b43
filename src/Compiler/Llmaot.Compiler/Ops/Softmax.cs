using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Softmax and LogSoftmax. Opset &lt; 13: the input is coerced to 2-D at <c>axis</c> (default 1) and normalized over
/// the flattened trailing dims. Opset 13+: normalized along <c>axis</c> (default -1). float32 runs the SIMD rows
/// kernel (a non-last axis runs over a transposed view in scratch), float16/bfloat16 the same through float32
/// buffers; double runs a strided kernel that computes in double.
/// </summary>
public sealed class SoftmaxOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16))
            throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(x.Elem)}; {op} supports float, double, float16 and bfloat16");
        var xs = InShape(n, 0);
        Axis(n, n.Int("axis", n.Opset >= 13 ? -1 : 1), xs.Rank);
        Set(n, 0, x.Elem, xs);
    }

    /// <summary>(outer, n, inner) of a shape around <paramref name="axis"/>.</summary>
    internal static (long Outer, long N, long Inner) Split3(long[] x, int axis)
    {
        if (x.Length == 0) return (1, 1, 1);
        return (x.Take(axis).Aggregate(1L, (a, b) => a * b), x[axis], x.Skip(axis + 1).Aggregate(1L, (a, b) => a * b));
    }

    /// <summary>(outer, n, inner) for softmax-like ops (Softmax, LogSoftmax, Hardmax): before opset 13 the trailing dims are flattened.</summary>
    internal static (long Outer, long N, long Inner) Split(Node n)
    {
        var x = n.Inputs[0]!.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", n.Opset >= 13 ? -1 : 1), x.Length);
        if (n.Opset < 13) return (x.Take(axis).Aggregate(1L, (a, b) => a * b), x.Skip(axis).Aggregate(1L, (a, b) => a * b), 1);
        return Split3(x, axis);
    }

    public override void Select(Node n)
    {
        var (outer, len, inner) = Split(n);
        if (n.Inputs[0]!.Elem == ElementType.Double)
        {
            n.Kernel = "Softmax.Strided";
            return;
        }
        string fn = op == "Softmax" ? "Softmax.Run" : "Softmax.RunLog";
        n.Kernel = inner == 1 ? fn : fn + "[strided]";
        FloatShim.Reserve(n, inner == 1 ? 0 : outer * len * inner * 4 * 2);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var (outer, len, inner) = Split(n);
        if (n.Inputs[0]!.Elem == ElementType.Double)
        {
            ctx.W.Line($"Softmax.Strided({ctx.P(n.Inputs[0]!)}, {ctx.P(n.Outputs[0])}, outer: {outer}, n: {len}, inner: {inner}, log: {Lit.B(op == "LogSoftmax")});");
            return;
        }
        var e = FloatShim.Begin(n, ctx);
        EmitFloat(n, e, outer, len, inner);
        FloatShim.End(n, ctx, e);
    }

    private void EmitFloat(Node n, EmitContext e, long outer, long len, long inner)
    {
        string x = e.P(n.Inputs[0]!), y = e.P(n.Outputs[0]);
        string fn = op == "Softmax" ? "Softmax.Run" : "Softmax.RunLog";
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
