using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>The table-driven elementwise families. Adding a unary or binary op is one row here plus its operator struct in the runtime.</summary>
public static class ElementwiseOps
{
    public static IEnumerable<OpDef> All() =>
    [
        new UnaryOp("Relu", "ReluOp", x => x > 0 ? x : 0),
        new UnaryOp("Sigmoid", "SigmoidOp", x => 1 / (1 + Math.Exp(-x))),
        new UnaryOp("Tanh", "TanhOp", Math.Tanh),
        new BinaryOp("Add", "AddOp", (a, b) => a + b, (a, b) => a + b),
        new BinaryOp("Sub", "SubOp", (a, b) => a - b, (a, b) => a - b),
        new BinaryOp("Mul", "MulOp", (a, b) => a * b, (a, b) => a * b),
        new BinaryOp("Div", "DivOp", (a, b) => a / b, (a, b) => b == 0 ? 0 : a / b),
    ];
}

/// <summary>y = f(x) elementwise; float32. <c>Struct</c> names the runtime operator struct.</summary>
public sealed class UnaryOp(string op, string structName, Func<double, double> f) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        RequireFloat(n, x);
        Set(n, 0, x.Elem, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!ConstEval.Foldable(x)) return null;
        return [ConstEval.FromDoubles(x.Elem, Array.ConvertAll(x.Const!.ToDouble(x.Elem), v => f(v)))];
    }

    public override void Select(Node n) => n.Kernel = $"Elementwise.Unary<{structName}>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        e.W.Line($"Elementwise.Unary<{structName}, float>({e.P(x)}, {e.P(y)}, {y.Shape.Count});");
    }
}

/// <summary>y = a op b with multidirectional broadcasting.</summary>
public sealed class BinaryOp(string op, string structName, Func<double, double, double> fd, Func<long, long, long> fl) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        var b = Input(n, 1);
        if (a.Elem != b.Elem) throw Error(n, Codes.UnsupportedType, $"inputs are {ElementTypes.Name(a.Elem)} and {ElementTypes.Name(b.Elem)}; ONNX requires one type");
        Set(n, 0, a.Elem, Broadcast(n, InShape(n, 0), InShape(n, 1)));
    }

    public override TensorData[]? Fold(Node n)
    {
        var a = Input(n, 0);
        var b = Input(n, 1);
        if (!ConstEval.Foldable(a) || !ConstEval.Foldable(b)) return null;
        var outShape = n.Outputs[0].Shape.ToLongs();
        long count = n.Outputs[0].Shape.Count;
        var sa = a.Shape.ToLongs();
        var sb = b.Shape.ToLongs();
        if (ConstEval.IsFloat(a.Elem))
        {
            var va = a.Const!.ToDouble(a.Elem);
            var vb = b.Const!.ToDouble(b.Elem);
            var r = new double[count];
            for (long i = 0; i < count; i++) r[i] = fd(va[ConstEval.BroadcastIndex(i, outShape, sa)], vb[ConstEval.BroadcastIndex(i, outShape, sb)]);
            return [ConstEval.FromDoubles(a.Elem, r)];
        }
        else
        {
            var va = a.Const!.ToInt64(a.Elem);
            var vb = b.Const!.ToInt64(b.Elem);
            var r = new long[count];
            for (long i = 0; i < count; i++) r[i] = fl(va[ConstEval.BroadcastIndex(i, outShape, sa)], vb[ConstEval.BroadcastIndex(i, outShape, sb)]);
            return [ConstEval.FromLongs(a.Elem, r)];
        }
    }

    /// <summary>
    /// Collapses the broadcast into the fewest dims: adjacent dims merge when both inputs broadcast them the same way.
    /// Returns the output dims with each input's element strides (0 where broadcast).
    /// </summary>
    public static (long[] Shape, long[] AStrides, long[] BStrides) Collapse(long[] outShape, long[] aShape, long[] bShape)
    {
        int r = outShape.Length;
        long[] Pad(long[] s) => Enumerable.Repeat(1L, r - s.Length).Concat(s).ToArray();
        var pa = Pad(aShape);
        var pb = Pad(bShape);
        var dims = new List<long>();
        var fa = new List<bool>();
        var fb = new List<bool>();
        for (int i = 0; i < r; i++)
        {
            if (outShape[i] == 1) continue;
            bool ba = pa[i] != 1, bb = pb[i] != 1;
            if (dims.Count > 0 && fa[^1] == ba && fb[^1] == bb) dims[^1] *= outShape[i];
            else { dims.Add(outShape[i]); fa.Add(ba); fb.Add(bb); }
        }
        var strA = new long[dims.Count];
        var strB = new long[dims.Count];
        long accA = 1, accB = 1;
        for (int i = dims.Count - 1; i >= 0; i--)
        {
            strA[i] = fa[i] ? accA : 0;
            strB[i] = fb[i] ? accB : 0;
            if (fa[i]) accA *= dims[i];
            if (fb[i]) accB *= dims[i];
        }
        return (dims.ToArray(), strA, strB);
    }

    public override void Select(Node n)
    {
        var (shape, sa, sb) = Collapse(n.Outputs[0].Shape.ToLongs(), n.Inputs[0]!.Shape.ToLongs(), n.Inputs[1]!.Shape.ToLongs());
        bool aFull = sa.Length == shape.Length && sa.All(s => s != 0), bFull = sb.All(s => s != 0);
        bool aOne = sa.All(s => s == 0), bOne = sb.All(s => s == 0);
        n.Kernel = shape.Length <= 1 && aFull && bFull ? "Binary"
            : bOne ? "BinaryScalarRight"
            : aOne ? "BinaryScalarLeft"
            : "BinaryBroadcast";
        n.Kernel = $"Elementwise.{n.Kernel}<{structName}>";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[1]!;
        var y = n.Outputs[0];
        string t = EmitContext.T(y);
        string op = $"{structName}<{t}>, {t}";
        long count = y.Shape.Count;
        var (shape, sa, sb) = Collapse(y.Shape.ToLongs(), a.Shape.ToLongs(), b.Shape.ToLongs());
        switch (n.Kernel!.Split('<')[0])
        {
            case "Elementwise.Binary":
                e.W.Line($"Elementwise.Binary<{op}>({e.P(a)}, {e.P(b)}, {e.P(y)}, {count});");
                break;
            case "Elementwise.BinaryScalarRight":
                e.W.Line($"Elementwise.BinaryScalarRight<{op}>({e.P(a)}, {(EmitContext.TryScalar(b, out var lb) ? lb : "*" + e.P(b))}, {e.P(y)}, {count});");
                break;
            case "Elementwise.BinaryScalarLeft":
                e.W.Line($"Elementwise.BinaryScalarLeft<{op}>({(EmitContext.TryScalar(a, out var la) ? la : "*" + e.P(a))}, {e.P(b)}, {e.P(y)}, {count});");
                break;
            default:
                e.W.Line($"Elementwise.BinaryBroadcast<{op}>({e.P(a)}, {e.P(b)}, {e.P(y)}, {EmitContext.Ints(shape)}, {EmitContext.Ints(sa)}, {EmitContext.Ints(sb)});");
                break;
        }
    }
}
