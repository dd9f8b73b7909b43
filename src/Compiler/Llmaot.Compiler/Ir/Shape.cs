using System.Text;

namespace Llmaot.Ir;

/// <summary>One dimension: a known size, or a named symbol (e.g. <c>batch</c>) bound later.</summary>
public readonly record struct Dim
{
    /// <summary>The size when known; -1 when symbolic.</summary>
    public long Value { get; }

    /// <summary>The symbol name when symbolic.</summary>
    public string? Symbol { get; }

    private Dim(long value, string? symbol) { Value = value; Symbol = symbol; }

    /// <summary>A known dimension.</summary>
    public static Dim Of(long v) => new(v, null);

    /// <summary>A symbolic dimension.</summary>
    public static Dim Sym(string name) => new(-1, name);

    /// <summary>True when the size is known.</summary>
    public bool IsKnown => Symbol == null;

    public static implicit operator Dim(long v) => Of(v);

    public override string ToString() => Symbol ?? Value.ToString(System.Globalization.CultureInfo.InvariantCulture);
}

/// <summary>An immutable tensor shape of known rank.</summary>
public sealed class Shape : IEquatable<Shape>
{
    private readonly Dim[] _dims;

    public Shape(params Dim[] dims) => _dims = dims;

    public Shape(IEnumerable<long> dims) => _dims = dims.Select(Dim.Of).ToArray();

    /// <summary>The scalar shape [].</summary>
    public static readonly Shape Scalar = new();

    public int Rank => _dims.Length;

    public Dim this[int i] => _dims[i];

    public IReadOnlyList<Dim> Dims => _dims;

    /// <summary>True when every dim is known.</summary>
    public bool IsStatic => _dims.All(d => d.IsKnown);

    /// <summary>Element count; requires <see cref="IsStatic"/>.</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (var d in _dims)
            {
                if (!d.IsKnown) throw new InvalidOperationException($"shape {this} is not static");
                n = checked(n * d.Value);
            }
            return n;
        }
    }

    /// <summary>The sizes; requires <see cref="IsStatic"/>.</summary>
    public long[] ToLongs() => _dims.Select(d => d.IsKnown ? d.Value : throw new InvalidOperationException($"shape {this} is not static")).ToArray();

    /// <summary>The sizes as int; requires <see cref="IsStatic"/>.</summary>
    public int[] ToInts() => ToLongs().Select(v => checked((int)v)).ToArray();

    /// <summary>Row-major element strides; requires <see cref="IsStatic"/>.</summary>
    public long[] Strides()
    {
        var s = new long[Rank];
        long acc = 1;
        for (int i = Rank - 1; i >= 0; i--) { s[i] = acc; acc *= _dims[i].Value; }
        return s;
    }

    public bool Equals(Shape? other) => other is not null && _dims.AsSpan().SequenceEqual(other._dims);

    public override bool Equals(object? obj) => Equals(obj as Shape);

    public override int GetHashCode()
    {
        var h = new HashCode();
        foreach (var d in _dims) h.Add(d);
        return h.ToHashCode();
    }

    public override string ToString()
    {
        var sb = new StringBuilder("[");
        for (int i = 0; i < _dims.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append(_dims[i]);
        }
        return sb.Append(']').ToString();
    }
}

/// <summary>Element type plus shape; <see cref="Shape"/> is null while the rank is unknown.</summary>
public sealed record TensorType(Runtime.ElementType Elem, Shape? Shape)
{
    public override string ToString() => $"{Runtime.ElementTypes.Name(Elem)}{(Shape?.ToString() ?? "[?]")}";
}
