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

/// <summary>
/// Cast (opset 1-25) between numeric types, bool, float16 and bfloat16: float to integer truncates toward zero,
/// narrowing floats round to nearest even (bfloat16 through float32), to bool is x != 0. The same type is a copy.
/// </summary>
public sealed class CastOp : OpDef
{
    public override string Op => "Cast";

    private static ElementType To(Node n) => n.Attrs.TryGetValue("to", out var a) ? (ElementType)a.I : throw Error(n, Codes.BadAttribute, "attribute 'to' is required");

    public override void Infer(Node n) => Set(n, 0, Check(n, Input(n, 0).Elem, To(n)), InShape(n, 0));

    /// <summary>Rejects casts the runtime cannot do; returns <paramref name="to"/>.</summary>
    internal static ElementType Check(Node n, ElementType from, ElementType to)
    {
        if (Float8.Is(to) || Float8.Is(from))
        {
            if (from == ElementType.Bool || to == ElementType.Bool || from == ElementType.BFloat16 || to == ElementType.BFloat16 || Float8.Is(to) && Float8.Is(from) && to != from)
                throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(from)} to {ElementTypes.Name(to)} is not supported");
            return to;
        }
        if (ElementTypes.CSharpName(to) == null) throw Error(n, Codes.UnsupportedType, $"cast to {ElementTypes.Name(to)} is not supported");
        if (ElementTypes.CSharpName(from) == null) throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(from)} is not supported");
        if (from == ElementType.Bool && to == ElementType.BFloat16 || from == ElementType.BFloat16 && to == ElementType.Bool)
            throw Error(n, Codes.UnsupportedType, "cast between bool and bfloat16 is not supported");
        return to;
    }

    public override TensorData[]? Fold(Node n) => FoldCast(Input(n, 0), To(n));

    internal static TensorData[]? FoldCast(Value x, ElementType to)
    {
        if (!ConstEval.Foldable(x) || Float8.Is(to)) return null;
        if (ConstEval.IsFloat(x.Elem)) return [ConstEval.IsFloat(to) ? ConstEval.FromDoubles(to, x.Const!.ToDouble(x.Elem)) : ConstEval.FromLongs(to, Array.ConvertAll(x.Const!.ToDouble(x.Elem), v => to == ElementType.Bool ? (v != 0 ? 1L : 0L) : double.IsNaN(v) ? 0L : (long)v))];
        return [ConstEval.FromLongs(to, x.Const!.ToInt64(x.Elem))];
    }

    public override void Select(Node n) => n.Kernel = SelectCast(n.Inputs[0]!.Elem, n.Outputs[0].Elem);

    internal static string SelectCast(ElementType from, ElementType to) =>
        from == to ? "copy"
        : Float8.Is(to) ? "Cast.ToFloat8"
        : Float8.Is(from) ? "Cast.FromFloat8"
        : to == ElementType.Bool ? "Cast.ToBool"
        : from == ElementType.Bool ? "Cast.FromBool"
        : to == ElementType.BFloat16 ? "Cast.ToBFloat16"
        : from == ElementType.BFloat16 ? "Cast.FromBFloat16"
        : "Cast.Convert";

    public override void Emit(Node n, EmitContext e) => EmitCast(n, e, n.Inputs[0]!, n.Outputs[0]);

    internal static void EmitCast(Node n, EmitContext e, Value x, Value y)
    {
        string tx = EmitContext.StorageT(x), ty = EmitContext.StorageT(y);
        long count = y.Shape.Count;
        switch (n.Kernel)
        {
            case "copy": e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});"); break;
            case "Cast.ToBool": e.W.Line($"Cast.ToBool<{tx}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.FromBool": e.W.Line($"Cast.FromBool<{ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.ToBFloat16": e.W.Line($"Cast.ToBFloat16<{tx}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.FromBFloat16": e.W.Line($"Cast.FromBFloat16<{ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.ToFloat8":
                e.W.Line($"Cast.ToFloat8<{tx}>({e.P(x)}, {e.P(y)}, {count}, ElementType.{y.Elem}, saturate: {Lit.B(n.Int("saturate", 1) != 0)});");
                break;
            case "Cast.FromFloat8": e.W.Line($"Cast.FromFloat8<{ty}>({e.P(x)}, {e.P(y)}, {count}, ElementType.{x.Elem});"); break;
            case "Cast.Convert": e.W.Line($"Cast.Convert<{tx}, {ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            default: throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(x.Elem)} to {ElementTypes.Name(y.Elem)} is not supported");
        }
    }
}
