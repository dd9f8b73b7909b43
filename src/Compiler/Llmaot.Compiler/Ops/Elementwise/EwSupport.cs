using System.Globalization;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>The element types an elementwise op accepts.</summary>
public static class Types
{
    public static readonly ElementType[] Float = [ElementType.Float, ElementType.Double, ElementType.Float16];
    public static readonly ElementType[] SignedInt = [ElementType.Int8, ElementType.Int16, ElementType.Int32, ElementType.Int64];
    public static readonly ElementType[] UnsignedInt = [ElementType.UInt8, ElementType.UInt16, ElementType.UInt32, ElementType.UInt64];
    public static readonly ElementType[] Int = [.. SignedInt, .. UnsignedInt];
    public static readonly ElementType[] Signed = [.. Float, .. SignedInt];
    public static readonly ElementType[] Numeric = [.. Float, .. Int];
    public static readonly ElementType[] Bool = [ElementType.Bool];
    public static readonly ElementType[] NumericOrBool = [.. Numeric, ElementType.Bool];
    public static readonly ElementType[] Any = [.. Numeric, ElementType.Bool, ElementType.BFloat16];
}

/// <summary>Helpers shared by the elementwise ops: type checks, literals, broadcast collapsing.</summary>
internal static class Ew
{
    public static void Require(Node n, Value v, ElementType[] allowed)
    {
        if (Array.IndexOf(allowed, v.Elem) < 0)
            throw new LlmaotException(Codes.UnsupportedType, n,
                $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}; {n.Op} supports {string.Join(", ", allowed.Select(ElementTypes.Name))}");
    }

    /// <summary>A C# literal of type <paramref name="t"/> holding <paramref name="v"/>.</summary>
    public static string Literal(ElementType t, double v) => t switch
    {
        ElementType.Float => Lit.F((float)v),
        ElementType.Double => Lit.D(v),
        ElementType.Float16 => $"(Half){Lit.F((float)v)}",
        ElementType.Bool => Lit.B(v != 0),
        _ => $"({ElementTypes.CSharpName(t)}){Lit.I((long)v)}",
    };

    /// <summary>The lowest value of a type (-inf for floats): the identity of max.</summary>
    public static string Lowest(ElementType t) => ConstEval.IsFloat(t) ? $"{ElementTypes.CSharpName(t)}.NegativeInfinity" : $"{ElementTypes.CSharpName(t)}.MinValue";

    /// <summary>The highest value of a type (+inf for floats).</summary>
    public static string Highest(ElementType t) => ConstEval.IsFloat(t) ? $"{ElementTypes.CSharpName(t)}.PositiveInfinity" : $"{ElementTypes.CSharpName(t)}.MaxValue";

    /// <summary>One element of <paramref name="v"/> as an expression: a literal when constant, else a load.</summary>
    public static string Scalar(EmitContext e, Value v)
    {
        if (EmitContext.TryScalar(v, out var lit)) return lit;
        if (v.IsConst && v.Type.Shape is { IsStatic: true } s && s.Count == 1 && ConstEval.Foldable(v))
        {
            if (ConstEval.IsFloat(v.Elem)) return Literal(v.Elem, v.Const!.ToDouble(v.Elem)[0]);
            return Literal(v.Elem, v.Const!.ToInt64(v.Elem)[0]);
        }
        return "*" + e.P(v);
    }

    /// <summary>The value's pointer, cast to <paramref name="type"/> when its storage type differs (bools as bytes).</summary>
    public static string Ptr(EmitContext e, Value v, string type) => EmitContext.T(v) == type ? e.P(v) : $"({type}*){e.P(v)}";

    /// <summary>
    /// Collapses a broadcast of several inputs to the output shape into the fewest dims: adjacent dims merge when every
    /// input broadcasts them the same way. Returns the dims and each input's element strides (0 where broadcast).
    /// </summary>
    public static (long[] Shape, long[][] Strides) Collapse(long[] outShape, params long[][] inShapes)
    {
        int r = outShape.Length, k = inShapes.Length;
        var padded = inShapes.Select(s => Enumerable.Repeat(1L, r - s.Length).Concat(s).ToArray()).ToArray();
        var dims = new List<long>();
        var full = new List<bool[]>();
        for (int i = 0; i < r; i++)
        {
            if (outShape[i] == 1) continue;
            var f = new bool[k];
            for (int j = 0; j < k; j++) f[j] = padded[j][i] != 1;
            if (dims.Count > 0 && full[^1].SequenceEqual(f)) dims[^1] *= outShape[i];
            else { dims.Add(outShape[i]); full.Add(f); }
        }
        var strides = new long[k][];
        for (int j = 0; j < k; j++)
        {
            strides[j] = new long[dims.Count];
            long acc = 1;
            for (int i = dims.Count - 1; i >= 0; i--)
            {
                strides[j][i] = full[i][j] ? acc : 0;
                if (full[i][j]) acc *= dims[i];
            }
        }
        return (dims.ToArray(), strides);
    }

    /// <summary>The broadcast output shape of all the node's (present) inputs.</summary>
    public static Shape BroadcastAll(Node n, IEnumerable<int> inputs)
    {
        Shape? s = null;
        foreach (int i in inputs)
        {
            var si = n.In(i)?.Type.Shape ?? throw new LlmaotException(Codes.UnboundDim, n, $"the rank of input {i} is unknown");
            s = s == null ? si : OpDef.Broadcast(n, s, si);
        }
        return s!;
    }

    /// <summary>Folds an n-ary elementwise function over broadcast constant inputs (values as double or long).</summary>
    public static TensorData[]? FoldN(Node n, ElementType outType, Func<double[], double>? fd, Func<long[], long>? fl)
    {
        var ins = n.Inputs.Where(v => v != null).Select(v => v!).ToList();
        if (ins.Count == 0 || ins.Any(v => !ConstEval.Foldable(v))) return null;
        bool isFloat = ins.Any(v => ConstEval.IsFloat(v.Elem));
        if (isFloat ? fd == null : fl == null) return null;
        var outShape = n.Outputs[0].Shape.ToLongs();
        long count = n.Outputs[0].Shape.Count;
        var shapes = ins.Select(v => v.Shape.ToLongs()).ToArray();
        if (isFloat)
        {
            var vals = ins.Select(v => v.Const!.ToDouble(v.Elem)).ToArray();
            var r = new double[count];
            var args = new double[ins.Count];
            for (long i = 0; i < count; i++)
            {
                for (int j = 0; j < args.Length; j++) args[j] = vals[j][ConstEval.BroadcastIndex(i, outShape, shapes[j])];
                r[i] = fd!(args);
            }
            return [ConstEval.IsFloat(outType) ? ConstEval.FromDoubles(outType, r) : ConstEval.FromLongs(outType, Array.ConvertAll(r, x => (long)x))];
        }
        else
        {
            var vals = ins.Select(v => v.Const!.ToInt64(v.Elem)).ToArray();
            var r = new long[count];
            var args = new long[ins.Count];
            for (long i = 0; i < count; i++)
            {
                for (int j = 0; j < args.Length; j++) args[j] = vals[j][ConstEval.BroadcastIndex(i, outShape, shapes[j])];
                r[i] = fl!(args);
            }
            return [ConstEval.FromLongs(outType, r)];
        }
    }

    public static string Inv(double v) => v.ToString("R", CultureInfo.InvariantCulture);
}
