using System.Runtime.InteropServices;

namespace Llmaot.Runtime;

/// <summary>
/// The one block of native memory a model instance computes in. Every intermediate tensor lives at a
/// compile-time offset inside it; nothing else is allocated while the model runs.
/// </summary>
public sealed unsafe class Arena : IDisposable
{
    /// <summary>Alignment of the arena base and of every planned offset.</summary>
    public const int Alignment = 64;

    /// <summary>Base pointer (64-byte aligned).</summary>
    public byte* Base { get; private set; }

    /// <summary>Size in bytes.</summary>
    public long Bytes { get; }

    /// <summary>Allocates <paramref name="bytes"/> zeroed bytes (an arena of <see cref="LargePages.MinBytes"/> or more, e.g. one
    /// holding a KV cache, in huge-page memory where the kernel offers it).</summary>
    public Arena(long bytes)
    {
        Bytes = bytes;
        Base = bytes >= LargePages.MinBytes
            ? LargePages.Alloc(bytes, out _)
            : (byte*)NativeMemory.AlignedAlloc((nuint)Math.Max(bytes, Alignment), Alignment);
        NativeMemory.Clear(Base, (nuint)Math.Max(bytes, Alignment));
    }

    /// <summary>Frees the memory.</summary>
    public void Dispose()
    {
        if (Base != null) NativeMemory.AlignedFree(Base);
        Base = null;
        GC.SuppressFinalize(this);
    }

    /// <summary>Frees the memory if Dispose was not called.</summary>
    ~Arena() => Dispose();
}
