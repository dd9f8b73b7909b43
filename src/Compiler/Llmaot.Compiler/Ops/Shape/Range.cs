using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Range (opset 11): y[i] = start + i·delta for i &lt; max(ceil((limit - start) / delta), 0). The count decides the
/// shape: with constant inputs the op folds; otherwise the model must declare the output's static length, which the
/// generated code checks against the run-time count before filling (a mismatch throws, never silently truncates).
/// </summary>
public sealed class RangeOp : OpDef
{
    public override string Op => "Range";

    private static bool AllConst(Node n) => Input(n, 0).IsConst && Input(n, 1).IsConst && Input(n, 2).IsConst;

    private static double Scalar(Value v) => v.Elem == ElementType.BFloat16
        ? (float)BFloat16.FromBits(BitConverter.ToUInt16(v.Const!.Span))
        : v.Const!.ToDouble(v.Elem)[0];

    private static long Count(Node n)
    {
        var t = Input(n, 0).Elem;
        if (ConstEval.IsInt(t))
        {
            long s = Input(n, 0).Const!.ToInt64(t)[0], l = Input(n, 1).Const!.ToInt64(t)[0], d = Input(n, 2).Const!.ToInt64(t)[0];
            if (d == 0) throw Error(n, Codes.BadAttribute, "delta is 0");
            return Math.Max(0, d > 0 ? (l - s + d - 1) / d : (s - l + (-d) - 1) / (-d));
        }
        double sd = Scalar(Input(n, 0)), ld = Scalar(Input(n, 1)), dd = Scalar(Input(n, 2));
        if (dd == 0) throw Error(n, Codes.BadAttribute, "delta is 0");
        return (long)Math.Max(Math.Ceiling((ld - sd) / dd), 0);
    }

    public override void Infer(Node n)
    {
        var t = Input(n, 0).Elem;
        if (Input(n, 1).Elem != t || Input(n, 2).Elem != t) throw Error(n, Codes.UnsupportedType, "start, limit and delta differ in type");
        if (!ShapeHelpers.IsNumeric(t) && t != ElementType.BFloat16) throw Error(n, Codes.UnsupportedType, $"{ElementTypes.Name(t)} is not supported");
        if (AllConst(n)) { Set(n, 0, t, new Shape([Count(n)])); return; }
        if (n.Outputs[0].Type.Shape is { Rank: 1, IsStatic: true } declared) { Set(n, 0, t, declared); return; }
        throw Error(n, Codes.DataDependentShape, "start, limit and delta are computed at run time, so the output length is unknown; fix them with --const, or declare the output's length in the model");
    }

    public override TensorData[]? Fold(Node n)
    {
        if (!AllConst(n)) return null;
        var t = Input(n, 0).Elem;
        long c = Count(n);
        if (c > ConstEval.MaxFoldElements) return null;
        if (ConstEval.IsInt(t))
        {
            long s = Input(n, 0).Const!.ToInt64(t)[0], d = Input(n, 2).Const!.ToInt64(t)[0];
            return [ConstEval.FromLongs(t, Enumerable.Range(0, (int)c).Select(i => s + i * d).ToArray())];
        }
        double sd = Scalar(Input(n, 0)), dd = Scalar(Input(n, 2));
        return [ConstEval.FromDoubles(t, Enumerable.Range(0, (int)c).Select(i => sd + i * dd).ToArray())];
    }

    public override void Select(Node n) => n.Kernel = "Indexing.Range";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        long c = y.Shape.Count;
        string s = $"{e.P(n.Inputs[0]!)}[0]", l = $"{e.P(n.Inputs[1]!)}[0]", d = $"{e.P(n.Inputs[2]!)}[0]";
        e.W.Line($"if (Indexing.RangeCount({s}, {l}, {d}) != {c})");
        e.W.Line($"    throw new InvalidOperationException({Lit.S($"LLMAOT9021: Range '{n.Name}': start, limit and delta give a length other than the {c} this model was compiled for")});");
        e.W.Line($"Indexing.Range({e.P(y)}, {c}, {s}, {d});");
    }
}
