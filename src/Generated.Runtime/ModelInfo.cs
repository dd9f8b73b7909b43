namespace Llmaot.Runtime;

/// <summary>Name, element type and static shape of one model input or output.</summary>
public sealed record TensorInfo(string Name, ElementType Type, int[] Shape)
{
    /// <summary>Number of elements.</summary>
    public long Count
    {
        get
        {
            long n = 1;
            foreach (var d in Shape) n *= d;
            return n;
        }
    }

    /// <summary>Number of bytes.</summary>
    public long Bytes => ElementTypes.ByteCount(Type, Count);

    /// <summary>"NAME dtype [d0,d1,...]". Written out because the record's generated ToString formats the enum through reflection.</summary>
    public override string ToString() => $"{Name} {ElementTypes.Name(Type)} [{string.Join(",", Shape)}]";

    /// <summary>Same name, element type and shape array, as the synthesized equality (without its enum comparer, which boxes).</summary>
    public bool Equals(TensorInfo? other) => other is not null && Name == other.Name && Type == other.Type && Shape == other.Shape;

    /// <inheritdoc/>
    public override int GetHashCode() => HashCode.Combine(Name, (int)Type, Shape);
}

/// <summary>What a generated model declares about itself.</summary>
public sealed record ModelInfo(string Name, TensorInfo[] Inputs, TensorInfo[] Outputs, long ArenaBytes, long WeightsBytes, string Provenance)
{
    /// <summary>The model's name (a short ToString keeps the record's reflection-based printer out of generated binaries).</summary>
    public override string ToString() => Name;
}

/// <summary>
/// The untyped face of every generated model, used by the generic host, the verifier and tests.
/// Generated classes also expose a typed <c>Run</c> with one span per input and output.
/// </summary>
public unsafe interface IGeneratedModel : IDisposable
{
    /// <summary>Inputs, outputs and memory figures.</summary>
    ModelInfo Info { get; }

    /// <summary>
    /// Runs one inference. <paramref name="inputs"/>[i] points at the data of <see cref="ModelInfo.Inputs"/>[i] and
    /// <paramref name="outputs"/>[i] at a caller-owned buffer of <see cref="ModelInfo.Outputs"/>[i].Bytes bytes.
    /// Does not allocate. Not thread-safe: one instance owns one arena.
    /// </summary>
    void Run(void** inputs, void** outputs);
}
