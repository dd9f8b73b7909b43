using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Lets an op whose kernel is float32-only run float16/bfloat16 tensors: every narrow input is widened into scratch
/// before the kernel, every narrow output is computed in scratch and narrowed after it. The op's own scratch comes
/// first; the shim's buffers follow it. Compute happens in float32, which is more precise than the narrow type.
/// </summary>
internal static class FloatShim
{
    public static bool IsNarrow(ElementType t) => t is ElementType.Float16 or ElementType.BFloat16;

    /// <summary>Throws unless <paramref name="v"/> is float32, float16 or bfloat16.</summary>
    public static void RequireFloatLike(Node n, Value v)
    {
        if (v.Elem is not (ElementType.Float or ElementType.Float16 or ElementType.BFloat16))
            throw new LlmaotException(Codes.UnsupportedType, n, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}; {n.Op} supports float32, float16 and bfloat16 so far");
    }

    private static IEnumerable<Value> Narrow(Node n) =>
        n.Inputs.Where(v => v != null && IsNarrow(v.Elem)).Select(v => v!).Concat(n.Outputs.Where(v => IsNarrow(v.Elem))).Distinct();

    private static long Align(long b) => (b + 63) / 64 * 64;

    /// <summary>True when the node has a narrow input or output.</summary>
    public static bool Applies(Node n) => Narrow(n).Any();

    /// <summary>Sets the node's scratch to the op's own bytes plus the shim's float buffers.</summary>
    public static void Reserve(Node n, long opScratch)
    {
        if (!Applies(n)) { n.ScratchBytes = opScratch; return; }
        n.Facts["floatshim.base"] = Align(opScratch).ToString(System.Globalization.CultureInfo.InvariantCulture);
        n.ScratchBytes = Align(opScratch) + Narrow(n).Sum(v => Align(v.Shape.Count * 4));
    }

    /// <summary>
    /// Writes the widening copies and returns an emit context in which every narrow value of the node names its float
    /// buffer; call <see cref="End"/> after the kernel call.
    /// </summary>
    public static EmitContext Begin(Node n, EmitContext e)
    {
        if (!Applies(n)) return e;
        long off = n.ScratchOffset + long.Parse(n.Facts["floatshim.base"], System.Globalization.CultureInfo.InvariantCulture);
        var names = new Dictionary<Value, string>();
        foreach (var v in n.Inputs.Concat(n.Outputs))
            if (v != null && v.Elem != ElementType.Undefined && !names.ContainsKey(v)) names[v] = e.P(v);
        foreach (var v in Narrow(n))
        {
            string buf = $"(float*)(a + {off})";
            if (n.Inputs.Contains(v)) e.W.Line($"FloatShim.Widen({e.P(v)}, {buf}, {v.Shape.Count});");
            names[v] = buf;
            off += Align(v.Shape.Count * 4);
        }
        return new EmitContext(e.W, e.Model, names);
    }

    /// <summary>Writes the narrowing copies of the node's narrow outputs.</summary>
    public static void End(Node n, EmitContext e, EmitContext shimmed)
    {
        foreach (var v in n.Outputs.Where(v => IsNarrow(v.Elem)))
            e.W.Line($"FloatShim.Narrow({shimmed.P(v)}, {e.P(v)}, {v.Shape.Count});");
    }
}
