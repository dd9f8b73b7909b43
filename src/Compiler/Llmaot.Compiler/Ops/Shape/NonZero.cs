using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// NonZero (opset 9, 13): y [rank, count] int64 = the coordinates of the non-zero elements, row-major order. The count
/// depends on the values: a constant input folds; otherwise the model must declare the output's static shape, and the
/// generated code throws at run time if the input has a different number of non-zeros (never a silently wrong result).
/// </summary>
public sealed class NonZeroOp : OpDef
{
    public override string Op => "NonZero";

    private static long[] Coordinates(Value x, out long count)
    {
        var s = x.Shape.ToLongs();
        int es = ElementTypes.BlockBytes(x.Elem);
        var b = x.Const!.Span;
        var hits = new List<long>();
        for (long i = 0; i < x.Shape.Count; i++)
            if (b.Slice((int)(i * es), es).IndexOfAnyExcept((byte)0) >= 0 && !IsFloatZero(x.Elem, b.Slice((int)(i * es), es))) hits.Add(i);
        count = hits.Count;
        var y = new long[s.Length * count];
        for (int k = 0; k < hits.Count; k++)
        {
            long rem = hits[k];
            for (int d = s.Length - 1; d >= 0; d--) { y[d * count + k] = rem % s[d]; rem /= s[d]; }
        }
        return y;
    }

    private static bool IsFloatZero(ElementType t, ReadOnlySpan<byte> b) => t switch
    {
        ElementType.Float => BitConverter.ToSingle(b) == 0,
        ElementType.Double => BitConverter.ToDouble(b) == 0,
        ElementType.Float16 => BitConverter.ToHalf(b) == Half.Zero,
        _ => false,
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        ShapeHelpers.RequireStorable(n, x);
        var xs = InShape(n, 0);
        if (x.IsConst && xs.IsStatic && xs.Count <= ConstEval.MaxFoldElements)
        {
            Coordinates(x, out long c);
            Set(n, 0, ElementType.Int64, new Shape([xs.Rank, c]));
        }
        else if (n.Outputs[0].Type.Shape is { IsStatic: true, Rank: 2 } declared && declared[0].Value == xs.Rank)
            Set(n, 0, ElementType.Int64, declared);
        else
            throw Error(n, Codes.DataDependentShape, "the number of non-zeros depends on the input values; fold the input to a constant, or declare the output's static shape in the model (checked at run time)");
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!x.IsConst || x.Type.Shape is not { IsStatic: true } s || s.Count > ConstEval.MaxFoldElements) return null;
        return [TensorData.Of<long>(Coordinates(x, out _))];
    }

    public override void Select(Node n) => n.Kernel = "Indexing.NonZero";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        long count = y.Shape[1].Value;
        e.W.Line($"if (!Indexing.NonZero({e.P(x)}, {e.P(y)}, shape: {EmitContext.Ints(x.Shape.ToLongs())}, count: {count}))");
        e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: NonZero '{n.Name}': the input has a number of non-zeros other than the {count} this model was compiled for")});");
    }
}
