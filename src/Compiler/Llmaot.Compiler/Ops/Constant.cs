using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>Constant (opset 1-21): value, or value_float(s) / value_int(s). Always folds.</summary>
public sealed class ConstantOp : OpDef
{
    public override string Op => "Constant";

    private static (TensorType Type, TensorData Data) Value(Node n)
    {
        if (n.Attrs.TryGetValue("value", out var v) && v.T is { } t) return t;
        if (n.Attrs.TryGetValue("value_float", out v)) return (new TensorType(ElementType.Float, Shape.Scalar), TensorData.Of<float>([v.F]));
        if (n.Attrs.TryGetValue("value_floats", out v)) return (new TensorType(ElementType.Float, new Shape([(long)v.Floats.Length])), TensorData.Of<float>(v.Floats));
        if (n.Attrs.TryGetValue("value_int", out v)) return (new TensorType(ElementType.Int64, Shape.Scalar), TensorData.Of<long>([v.I]));
        if (n.Attrs.TryGetValue("value_ints", out v)) return (new TensorType(ElementType.Int64, new Shape([(long)v.Ints.Length])), TensorData.Of<long>(v.Ints));
        throw Error(n, Codes.BadAttribute, "Constant needs a numeric 'value', 'value_float(s)' or 'value_int(s)' attribute (strings and sparse values are not supported)");
    }

    public override void Infer(Node n)
    {
        var (t, _) = Value(n);
        n.Outputs[0].Type = t;
    }

    public override TensorData[]? Fold(Node n) => [Value(n).Data];

    public override void Emit(Node n, EmitContext e) => throw Error(n, Codes.Internal, "Constant should have been folded");
}

/// <summary>Shape (opset 1, 15: start/end): the input's dims as int64. Folds whenever the input shape is static.</summary>
public sealed class ShapeOp : OpDef
{
    public override string Op => "Shape";

    private static (int Start, int End) Range(Node n, int rank)
    {
        long s = n.Int("start", 0), e = n.Int("end", rank);
        if (s < 0) s += rank;
        if (e < 0) e += rank;
        s = Math.Clamp(s, 0, rank);
        e = Math.Clamp(e, 0, rank);
        return ((int)s, (int)Math.Max(s, e));
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        var (s, e) = Range(n, xs.Rank);
        Set(n, 0, ElementType.Int64, new Shape([(long)(e - s)]));
    }

    public override TensorData[]? Fold(Node n)
    {
        var xs = InShape(n, 0);
        if (!xs.IsStatic) return null;
        var (s, e) = Range(n, xs.Rank);
        return [TensorData.Of<long>(xs.ToLongs()[s..e])];
    }

    public override void Emit(Node n, EmitContext e) =>
        throw Error(n, Codes.UnboundDim, $"Shape of {n.Inputs[0]!.Shape} is not static; bind the symbolic dims with --dim or --shape");
}

/// <summary>Cast (opset 1-21) between numeric types: C# conversion semantics (float to int truncates toward zero).</summary>
public sealed class CastOp : OpDef
{
    public override string Op => "Cast";

    private static ElementType To(Node n) => n.Attrs.TryGetValue("to", out var a) ? (ElementType)a.I : throw Error(n, Codes.BadAttribute, "attribute 'to' is required");

    public override void Infer(Node n)
    {
        var to = To(n);
        if (ElementTypes.CSharpName(to) == null || to is ElementType.BFloat16) throw Error(n, Codes.UnsupportedType, $"cast to {ElementTypes.Name(to)} is not supported");
        if (ElementTypes.CSharpName(Input(n, 0).Elem) == null) throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(Input(n, 0).Elem)} is not supported");
        Set(n, 0, to, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!ConstEval.Foldable(x)) return null;
        var to = To(n);
        if (ConstEval.IsFloat(x.Elem)) return [ConstEval.IsFloat(to) ? ConstEval.FromDoubles(to, x.Const!.ToDouble(x.Elem)) : ConstEval.FromLongs(to, Array.ConvertAll(x.Const!.ToDouble(x.Elem), v => to == ElementType.Bool ? (v != 0 ? 1L : 0L) : (long)v))];
        return [ConstEval.FromLongs(to, x.Const!.ToInt64(x.Elem))];
    }

    public override void Select(Node n) => n.Kernel = n.Inputs[0]!.Elem == To(n) ? "copy" : "Cast.Run";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (n.Kernel == "copy") { e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});"); return; }
        e.W.Line($"for (long i = 0; i < {y.Shape.Count}; i++) {e.P(y)}[i] = {CastExpr(x.Elem, y.Elem, $"{e.P(x)}[i]")};");
    }

    private static string CastExpr(ElementType from, ElementType to, string v)
    {
        string t = ElementTypes.CSharpName(to)!;
        if (to == ElementType.Bool) return from == ElementType.Float16 ? $"{v} != (Half)0" : $"{v} != 0";
        if (from == ElementType.Bool) return $"({t})({v} ? 1 : 0)";
        if (from == ElementType.Float16 && to != ElementType.Float && to != ElementType.Double) return $"({t})(float){v}";
        return $"({t}){v}";
    }
}
