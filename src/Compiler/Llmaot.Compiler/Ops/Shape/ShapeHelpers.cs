using System.Globalization;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>Helpers shared by the shape family: constant inputs, strided plans (fold and emit), literals of any element type.</summary>
internal static class ShapeHelpers
{
    public static long Prod(IEnumerable<long> v) => v.Aggregate(1L, (a, b) => a * b);

    /// <summary>A constant int input that decides an output shape; throws DataDependentShape when it is computed at run time.</summary>
    public static long[] ConstShapeInput(Node n, int i, string what)
    {
        var v = n.In(i) ?? throw new LlmaotException(Codes.BadGraph, n, $"input {i} ({what}) is required but missing");
        if (!ConstEval.IsInt(v.Elem) || v.Elem == ElementType.Bool) throw new LlmaotException(Codes.UnsupportedType, n, $"{what} must be an integer tensor, not {ElementTypes.Name(v.Elem)}");
        if (v.Const == null)
            throw new LlmaotException(Codes.DataDependentShape, n,
                $"the {what} ('{v.Name}') decide the output shape but are computed at run time; an AOT build needs them constant: fix them with --const {v.Name}=FILE or bind input shapes so they fold");
        return v.Const.ToInt64(v.Elem);
    }

    /// <summary>The static shape of input i (throws UnboundDim when a dim is symbolic).</summary>
    public static long[] StaticShape(Node n, int i)
    {
        var v = n.In(i) ?? throw new LlmaotException(Codes.BadGraph, n, $"input {i} is required but missing");
        var s = v.Type.Shape ?? throw new LlmaotException(Codes.UnboundDim, n, $"the rank of input {i} ('{v.Name}') is unknown; give its shape with --shape {v.Name}=...");
        if (!s.IsStatic) throw new LlmaotException(Codes.UnboundDim, n, $"input '{v.Name}' has shape {s}; this op needs static dims: bind them with --dim or --shape");
        return s.ToLongs();
    }

    public static long[] RowStrides(long[] shape)
    {
        var s = new long[shape.Length];
        long acc = 1;
        for (int i = shape.Length - 1; i >= 0; i--) { s[i] = acc; acc *= shape[i]; }
        return s;
    }

    /// <summary>Drops size-1 dims and merges dims that are contiguous with the next one (same element order, lower rank).</summary>
    public static (long[] Shape, long[] Strides) Simplify(long[] shape, long[] strides)
    {
        var sh = new List<long>();
        var st = new List<long>();
        for (int d = 0; d < shape.Length; d++)
        {
            if (shape[d] == 1) continue;
            if (sh.Count > 0 && st[^1] == strides[d] * shape[d])
            {
                sh[^1] *= shape[d];
                st[^1] = strides[d];
            }
            else { sh.Add(shape[d]); st.Add(strides[d]); }
        }
        if (shape.Contains(0)) return ([0], [1]);
        return (sh.ToArray(), st.ToArray());
    }

    /// <summary>Compile-time version of <c>Strided.Copy</c> on raw bytes.</summary>
    public static byte[] FoldStrided(ReadOnlySpan<byte> src, int es, long[] shape, long[] strides, long offset)
    {
        long total = Prod(shape);
        var dst = new byte[total * es];
        var idx = new long[shape.Length];
        for (long o = 0; o < total; o++)
        {
            long rem = o, off = offset;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                long i = rem % shape[d];
                rem /= shape[d];
                off += i * strides[d];
            }
            src.Slice((int)(off * es), es).CopyTo(dst.AsSpan((int)(o * es), es));
        }
        return dst;
    }

    /// <summary>True when a constant input is small enough to fold.</summary>
    public static bool CanFold(Value x, long outCount) =>
        x.IsConst && x.Type.Shape is { IsStatic: true } && ElementTypes.BlockSize(x.Elem) == 1 && outCount <= ConstEval.MaxFoldElements;

    /// <summary>Writes a <c>Strided.Copy</c> call for y = strided view of x (simplified first; nothing for empty outputs).</summary>
    public static void EmitStrided(EmitContext e, Value x, Value y, long[] shape, long[] strides, long offset)
    {
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var (sh, st) = Simplify(shape, strides);
        if (sh.Length == 1 && st[0] == 1)
            e.W.Line($"DataMovement.Copy({e.P(x)}{(offset != 0 ? " + " + offset : "")}, {e.P(y)}, {y.Bytes});");
        else
            e.W.Line($"Strided.Copy({e.P(x)}, {e.P(y)}, shape: {EmitContext.Ints(sh)}, strides: {EmitContext.Ints(st)}, offset: {offset});");
    }

    /// <summary>A C# literal of element type <paramref name="t"/> from the element's little-endian bytes.</summary>
    public static string Literal(ElementType t, ReadOnlySpan<byte> b) => t switch
    {
        ElementType.Float => Lit.F(BitConverter.ToSingle(b)),
        ElementType.Double => Lit.D(BitConverter.ToDouble(b)),
        ElementType.Float16 => $"BitConverter.UInt16BitsToHalf(0x{BitConverter.ToUInt16(b):X4})",
        ElementType.BFloat16 => $"BFloat16.FromBits(0x{BitConverter.ToUInt16(b):X4})",
        ElementType.Bool => Lit.B(b[0] != 0),
        ElementType.Int8 => $"(sbyte){(sbyte)b[0]}",
        ElementType.UInt8 => $"(byte){b[0]}",
        ElementType.Int16 => $"(short){BitConverter.ToInt16(b)}",
        ElementType.UInt16 => $"(ushort){BitConverter.ToUInt16(b)}",
        ElementType.Int32 => Lit.I(BitConverter.ToInt32(b)),
        ElementType.UInt32 => BitConverter.ToUInt32(b).ToString(CultureInfo.InvariantCulture) + "u",
        ElementType.Int64 => Lit.I(BitConverter.ToInt64(b)) + "L",
        ElementType.UInt64 => BitConverter.ToUInt64(b).ToString(CultureInfo.InvariantCulture) + "ul",
        _ => throw new InvalidOperationException($"no literal for {t}"),
    };

    /// <summary>A literal of type <paramref name="t"/> holding the number <paramref name="v"/>.</summary>
    public static string Literal(ElementType t, double v) => Literal(t, ConstEval.FromDoubles(t, [v]).Span);

    /// <summary>Throw statement for an out-of-range index at run time.</summary>
    public static string IndexThrow(Node n, string what) =>
        $"    throw new IndexOutOfRangeException({Lit.S($"LLMAOT9020: {n.Op} '{n.Name}': {what}")});";

    /// <summary>The C# name of the index type's reduction struct for a scatter.</summary>
    public static string Reduction(Node n, string t)
    {
        string r = n.Str("reduction", "none");
        return r switch
        {
            "none" => $"ReplaceReduction<{t}>",
            "add" => $"AddReduction<{t}>",
            "mul" => $"MulReduction<{t}>",
            "max" => $"MaxReduction<{t}>",
            "min" => $"MinReduction<{t}>",
            _ => throw new LlmaotException(Codes.BadAttribute, n, $"reduction '{r}' is not one of none, add, mul, max, min"),
        };
    }

    public static bool IsNumeric(ElementType t) => t is ElementType.Float or ElementType.Double or ElementType.Float16
        or ElementType.Int8 or ElementType.Int16 or ElementType.Int32 or ElementType.Int64
        or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64;

    /// <summary>Requires a C# storage type for the element type (bool and all numbers; not strings or packed types).</summary>
    public static void RequireStorable(Node n, Value v)
    {
        if (ElementTypes.CSharpName(v.Elem) == null || ElementTypes.BlockSize(v.Elem) != 1)
            throw new LlmaotException(Codes.UnsupportedType, n, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}, which this op does not support");
    }

    /// <summary>Requires INumber arithmetic in the runtime (float, double, Half and the integers).</summary>
    public static void RequireNumeric(Node n, Value v)
    {
        if (!IsNumeric(v.Elem))
            throw new LlmaotException(Codes.UnsupportedType, n, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}; this op supports float, double, float16 and integer types");
    }
}

/// <summary>
/// Ops whose output 0 is a strided view of input 0 copied out (Slice, Expand, Tile, DepthToSpace, SpaceToDepth):
/// subclasses give the plan (shape, element strides into x, offset); folding and emission are shared.
/// </summary>
public abstract class StridedOp : OpDef
{
    /// <summary>Output shape, input element strides (0 = broadcast, negative = reversed) and start offset.</summary>
    internal abstract (long[] Shape, long[] Strides, long Offset) Plan(Node n);

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (n.Outputs[0].Type.Shape is not { IsStatic: true } ys || !ShapeHelpers.CanFold(x, ys.Count)) return null;
        var (sh, st, off) = Plan(n);
        return [TensorData.Of(ShapeHelpers.FoldStrided(x.Const!.Span, ElementTypes.BlockBytes(x.Elem), sh, st, off))];
    }

    public override void Select(Node n)
    {
        RequireUnpacked(n, n.Inputs[0]!);
        n.Kernel = "Strided.Copy";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (sh, st, off) = Plan(n);
        ShapeHelpers.EmitStrided(e, n.Inputs[0]!, n.Outputs[0], sh, st, off);
    }
}
