using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// The Reduce* family (opset 1-18+): y = finish(combine over the reduced axes of map(x)), e.g. ReduceL2 =
/// sqrt(sum(x²)). <c>axes</c> is an attribute before <paramref name="axesInputSince"/> (13 for ReduceSum, 18 for the
/// others) and an optional constant input from then on; empty axes reduce every axis unless
/// <c>noop_with_empty_axes</c> (then each element is reduced alone: ReduceSumSquare gives x², ReduceSum x).
/// <c>keepdims</c> (default 1) keeps reduced dims as 1. An empty reduction gives the identity (0 for sums, 1 for
/// products, -inf/+inf for max/min, log(0) = -inf for the log forms). Types: float, double, float16/bfloat16 (computed in
/// float32), every integer type, and bool for ReduceMax/ReduceMin. One table row per op: the runtime struct and a double reference used for folding.
/// </summary>
public sealed class ReduceOp(string op, string structName, int axesInputSince, bool allowBool,
    double identity, Func<double, double> map, Func<double, double, double> combine, Func<double, long, double> finish) : OpDef
{
    public override string Op => op;

    private static readonly Func<double, double> Id = x => x;
    private static readonly Func<double, double, double> Add = (a, b) => a + b;
    private static readonly Func<double, long, double> Keep = (a, n) => a;

    public static IEnumerable<OpDef> Table() =>
    [
        new ReduceOp("ReduceSum", "ReduceSum", 13, false, 0, Id, Add, Keep),
        new ReduceOp("ReduceMean", "ReduceMean", 18, false, 0, Id, Add, (a, n) => a / n),
        new ReduceOp("ReduceProd", "ReduceProd", 18, false, 1, Id, (a, b) => a * b, Keep),
        new ReduceOp("ReduceMax", "ReduceMax", 18, true, double.NegativeInfinity, Id, Math.Max, Keep),
        new ReduceOp("ReduceMin", "ReduceMin", 18, true, double.PositiveInfinity, Id, Math.Min, Keep),
        new ReduceOp("ReduceSumSquare", "ReduceSumSquare", 18, false, 0, x => x * x, Add, Keep),
        new ReduceOp("ReduceL1", "ReduceL1", 18, false, 0, Math.Abs, Add, Keep),
        new ReduceOp("ReduceL2", "ReduceL2", 18, false, 0, x => x * x, Add, (a, n) => Math.Sqrt(a)),
        new ReduceOp("ReduceLogSum", "ReduceLogSum", 18, false, 0, Id, Add, (a, n) => Math.Log(a)),
        new ReduceOp("ReduceLogSumExp", "", 18, false, 0, Math.Exp, Add, (a, n) => Math.Log(a)),
    ];

    /// <summary>The reduced-axis mask, or null for the no-op (noop_with_empty_axes with empty axes).</summary>
    private bool[]? Mask(Node n, int rank)
    {
        long[] axes;
        bool noop = false;
        if (n.Opset >= axesInputSince)
        {
            var a = n.In(1);
            axes = a == null ? [] : ConstInts(n, 1) ?? throw Error(n, Codes.DataDependentShape, $"the axes input '{a.Name}' is computed at run time; it must be a constant");
            noop = n.Int("noop_with_empty_axes", 0) != 0;
        }
        else axes = n.Ints("axes") ?? [];
        if (axes.Length == 0 && noop) return null;
        return ReducePlan.Mask(n, axes, rank);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var t = x.Elem;
        bool ok = t is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16 or ElementType.Int8 or ElementType.Int16 or ElementType.Int32 or ElementType.Int64
            or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 || t == ElementType.Bool && allowBool;
        if (!ok) throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(t)}; {op} supports floating and integer types{(allowBool ? " and bool" : "")} so far");
        if (op == "ReduceLogSumExp" && !(ConstEval.IsFloat(t))) throw Error(n, Codes.UnsupportedType, "ReduceLogSumExp supports float and double");
        var xs = InShape(n, 0);
        var mask = Mask(n, xs.Rank);
        if (mask == null) { Set(n, 0, t, xs); return; }
        bool keep = n.Int("keepdims", 1) != 0;
        var dims = new List<Dim>();
        for (int i = 0; i < xs.Rank; i++)
            if (!mask[i]) dims.Add(xs[i]);
            else if (keep) dims.Add(Dim.Of(1));
        Set(n, 0, t, new Shape(dims.ToArray()));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!ConstEval.Foldable(x) || x.Elem is ElementType.Bool or ElementType.BFloat16) return null;
        var shape = x.Shape.ToLongs();
        var mask = Mask(n, shape.Length) ?? new bool[shape.Length];
        var v = x.Const!.ToDouble(x.Elem);
        var keptShape = shape.Select((d, i) => mask[i] ? 1 : d).ToArray();
        long outCount = keptShape.Aggregate(1L, (a, b) => a * b);
        long count = shape.Where((d, i) => mask[i]).Aggregate(1L, (a, b) => a * b);
        var acc = new double[outCount];
        Array.Fill(acc, identity);
        var strides = x.Shape.Strides();
        for (long f = 0; f < v.Length; f++)
        {
            long rem = f, o = 0, os = 1;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                long i = rem % shape[d];
                rem /= shape[d];
                if (!mask[d]) o += i * os;
                os *= keptShape[d];
            }
            acc[o] = combine(acc[o], map(v[f]));
        }
        for (long o = 0; o < outCount; o++) acc[o] = finish(acc[o], count);
        if (!ConstEval.IsFloat(x.Elem)) acc = Array.ConvertAll(acc, d => Math.Truncate(d));
        return [ConstEval.FromDoubles(x.Elem, acc)];
    }

    private ReducePlan Plan(Node n)
    {
        var shape = n.Inputs[0]!.Shape.ToLongs();
        var mask = Mask(n, shape.Length) ?? new bool[shape.Length];
        return ReducePlan.For(shape, mask);
    }

    public override void Select(Node n)
    {
        var p = Plan(n);
        string fn = op == "ReduceLogSumExp" ? "Reduce.LogSumExp" : p.Layout == ReducePlan.Strided ? $"Reduce.Strided<{structName}>" : $"Reduce.Rows<{structName}>";
        n.Kernel = p.Layout == ReducePlan.Transposed ? "DataMovement.Transpose+" + fn : fn;
        var x = n.Inputs[0]!;
        FloatShim.Reserve(n, p.Layout == ReducePlan.Transposed ? (FloatShim.IsNarrow(x.Elem) ? 4 * x.Shape.Count : x.Bytes) : 0);
    }

    public override void Emit(Node n, EmitContext ctx)
    {
        var p = Plan(n);
        if (p.Layout == ReducePlan.Empty)
        {
            ctx.W.Line("// the output is empty: nothing to compute");
            return;
        }
        var e = FloatShim.Begin(n, ctx);
        EmitKernel(n, e, p);
        FloatShim.End(n, ctx, e);
    }

    private void EmitKernel(Node n, EmitContext e, ReducePlan p)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        string t = x.Elem == ElementType.Bool ? "byte" : FloatShim.IsNarrow(x.Elem) ? "float" : EmitContext.T(x);
        string px = x.Elem == ElementType.Bool ? $"(byte*){e.P(x)}" : e.P(x);
        string py = y.Elem == ElementType.Bool ? $"(byte*){e.P(y)}" : e.P(y);
        if (p.Layout == ReducePlan.Transposed)
        {
            string s = EmitContext.Scratch(n, t);
            e.W.Line($"DataMovement.Transpose({px}, {s}, {EmitContext.Ints(p.TransposeShape)}, {EmitContext.Ints(p.Perm)});");
            px = s;
        }
        if (op == "ReduceLogSumExp")
            e.W.Line($"Reduce.LogSumExp({px}, {py}, outer: {p.Outer}, n: {p.N}, inner: {p.Inner});");
        else if (p.Layout == ReducePlan.Strided)
            e.W.Line($"Reduce.Strided<{structName}<{t}>, {t}>({px}, {py}, outer: {p.Outer}, n: {p.N}, inner: {p.Inner});");
        else
            e.W.Line($"Reduce.Rows<{structName}<{t}>, {t}>({px}, {py}, outer: {p.Outer}, n: {p.N});");
    }
}
