using System.Globalization;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Emit;

/// <summary>What an op's emitter needs: the writer and the storage expression of every value.</summary>
public sealed class EmitContext(CSharpWriter writer, Model model, IReadOnlyDictionary<Value, string> names)
{
    public CSharpWriter W { get; } = writer;
    public Model Model { get; } = model;

    /// <summary>The typed pointer local of a value, e.g. <c>v12</c>.</summary>
    public string P(Value v) => names.TryGetValue(v, out var s) ? s : throw new InvalidOperationException($"value {v} '{v.Name}' has no storage");

    /// <summary>The value's storage as <c>byte*</c>.</summary>
    public string Bytes(Value v) => $"(byte*){P(v)}";

    /// <summary>The C# element type of a value.</summary>
    public static string T(Value v) => ElementTypes.CSharpName(v.Elem) ?? throw new InvalidOperationException($"{v.Elem} has no C# arithmetic type");

    /// <summary>
    /// The C# type of a value's storage: <see cref="T"/>, or byte for float8 (one byte per element) and for the packed
    /// sub-byte types int4/uint4/int2/uint2 (several elements per byte; only ops that know the packing take them).
    /// </summary>
    public static string StorageT(Value v) => Float8.Is(v.Elem) || ElementTypes.BlockSize(v.Elem) > 1 ? "byte" : T(v);

    /// <summary>The node's scratch space as a typed pointer.</summary>
    public static string Scratch(Node n, string type = "float") => n.ScratchOffset < 0 ? "null" : $"({type}*)(a + {n.ScratchOffset})";

    /// <summary>A one-element constant as a literal (for readability and to spare a load).</summary>
    public static bool TryScalar(Value v, out string literal)
    {
        literal = "";
        if (!v.IsConst || v.Type.Shape is not { IsStatic: true } s || s.Count != 1) return false;
        var span = v.Const!.Span;
        literal = v.Elem switch
        {
            ElementType.Float => Lit.F(BitConverter.ToSingle(span)),
            ElementType.Double => Lit.D(BitConverter.ToDouble(span)),
            ElementType.Int64 => Lit.I(BitConverter.ToInt64(span)) + "L",
            ElementType.Int32 => Lit.I(BitConverter.ToInt32(span)),
            _ => "",
        };
        return literal.Length > 0;
    }

    /// <summary>A collection expression of ints, e.g. <c>[1, 8, 28, 28]</c> (becomes static data for a ReadOnlySpan parameter).</summary>
    public static string Ints(IEnumerable<long> values) => "[" + string.Join(", ", values.Select(x => x.ToString(CultureInfo.InvariantCulture))) + "]";
}
