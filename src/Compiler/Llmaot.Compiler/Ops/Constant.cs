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
/// Cast (opset 1-25) between numeric types, bool, float16, bfloat16, the float8 types (E4M3FN, E4M3FNUZ, E5M2,
/// E5M2FNUZ, E8M0), float4 E2M1 and the packed integers int4/uint4/int2/uint2: float to integer truncates toward zero,
/// integer narrowing wraps (packed targets too: -9 to int4 is 7), narrowing floats round to nearest even (bfloat16
/// through float32); float8 saturates per 'saturate' (E8M0 rounds per 'round_mode', default up), float4 always
/// saturates to +-6; to bool is x != 0. The same type is a copy. The special types (float8, float4, packed integers)
/// convert to and from the numeric types (float16 included), not to bool, bfloat16 or one another.
/// </summary>
public sealed class CastOp : OpDef
{
    public override string Op => "Cast";

    private static ElementType To(Node n) => n.Attrs.TryGetValue("to", out var a) ? (ElementType)a.I : throw Error(n, Codes.BadAttribute, "attribute 'to' is required");

    public override void Infer(Node n) => Set(n, 0, Check(n, Input(n, 0).Elem, To(n)), InShape(n, 0));

    /// <summary>The packed sub-byte integer types int4, uint4, int2, uint2.</summary>
    internal static bool IsPackedInt(ElementType t) => t is ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2;

    /// <summary>Types stored as codes rather than C# numbers: float8 (E8M0 included), float4 E2M1 and the packed integers.</summary>
    internal static bool IsSpecial(ElementType t) => Float8.Is(t) || t == ElementType.Float4E2M1 || IsPackedInt(t);

    /// <summary>Rejects casts the runtime cannot do; returns <paramref name="to"/>.</summary>
    internal static ElementType Check(Node n, ElementType from, ElementType to)
    {
        if (IsSpecial(to) || IsSpecial(from))
        {
            if (from == to) return to;
            var other = IsSpecial(to) ? from : to;
            if (IsSpecial(other) || ElementTypes.CSharpName(other) == null || other is ElementType.Bool or ElementType.BFloat16)
                throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(from)} to {ElementTypes.Name(to)} is not supported (float8, float4 and packed integer types convert to and from float, double, float16 and the 8-64 bit integers)");
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
        if (!ConstEval.Foldable(x) || IsSpecial(to)) return null;
        if (ConstEval.IsFloat(x.Elem)) return [ConstEval.IsFloat(to) ? ConstEval.FromDoubles(to, x.Const!.ToDouble(x.Elem)) : ConstEval.FromLongs(to, Array.ConvertAll(x.Const!.ToDouble(x.Elem), v => to == ElementType.Bool ? (v != 0 ? 1L : 0L) : double.IsNaN(v) ? 0L : (long)v))];
        return [ConstEval.FromLongs(to, x.Const!.ToInt64(x.Elem))];
    }

    public override void Select(Node n) => n.Kernel = SelectCast(n.Inputs[0]!.Elem, n.Outputs[0].Elem);

    internal static string SelectCast(ElementType from, ElementType to) =>
        from == to ? "copy"
        : IsPackedInt(to) ? "Cast.ToPacked"
        : IsPackedInt(from) ? "Cast.FromPacked"
        : to == ElementType.Float4E2M1 ? "Cast.ToFloat4E2M1"
        : from == ElementType.Float4E2M1 ? "Cast.FromFloat4E2M1"
        : Float8.Is(to) ? "Cast.ToFloat8"
        : Float8.Is(from) ? "Cast.FromFloat8"
        : to == ElementType.Bool ? "Cast.ToBool"
        : from == ElementType.Bool ? "Cast.FromBool"
        : to == ElementType.BFloat16 ? "Cast.ToBFloat16"
        : from == ElementType.BFloat16 ? "Cast.FromBFloat16"
        : "Cast.Convert";

    public override void Emit(Node n, EmitContext e) => EmitCast(n, e, n.Inputs[0]!, n.Outputs[0]);

    /// <summary>The E8M0 rounding of attribute 'round_mode' ("up", "down" or "nearest").</summary>
    internal static string RoundMode(Node n) => n.Str("round_mode", "up") switch
    {
        "up" => "E8M0Rounding.Up",
        "down" => "E8M0Rounding.Down",
        "nearest" => "E8M0Rounding.Nearest",
        var r => throw Error(n, Codes.BadAttribute, $"round_mode '{r}' is not one of up, down, nearest"),
    };

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
                e.W.Line(y.Elem == ElementType.Float8E8M0
                    ? $"Cast.ToFloat8<{tx}>({e.P(x)}, {e.P(y)}, {count}, ElementType.{y.Elem}, saturate: {Lit.B(n.Int("saturate", 1) != 0)}, round: {RoundMode(n)});"
                    : $"Cast.ToFloat8<{tx}>({e.P(x)}, {e.P(y)}, {count}, ElementType.{y.Elem}, saturate: {Lit.B(n.Int("saturate", 1) != 0)});");
                break;
            case "Cast.FromFloat8": e.W.Line($"Cast.FromFloat8<{ty}>({e.P(x)}, {e.P(y)}, {count}, ElementType.{x.Elem});"); break;
            case "Cast.ToFloat4E2M1": e.W.Line($"Cast.ToFloat4E2M1<{tx}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.FromFloat4E2M1": e.W.Line($"Cast.FromFloat4E2M1<{ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.ToPacked": e.W.Line($"Cast.ToPacked<{tx}, {QuantOps.QType(n, y.Elem)}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.FromPacked": e.W.Line($"Cast.FromPacked<{QuantOps.QType(n, x.Elem)}, {ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            case "Cast.Convert": e.W.Line($"Cast.Convert<{tx}, {ty}>({e.P(x)}, {e.P(y)}, {count});"); break;
            default: throw Error(n, Codes.UnsupportedType, $"cast from {ElementTypes.Name(x.Elem)} to {ElementTypes.Name(y.Elem)} is not supported");
        }
    }
}
