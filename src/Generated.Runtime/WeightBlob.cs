using System.IO.MemoryMappedFiles;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Llmaot.Runtime;

/// <summary>
/// Read-only access to the packed weights of a model: either embedded in the binary as a manifest
/// resource (used in place, never copied, when the runtime exposes it as unmanaged memory) or a file
/// beside the binary, memory-mapped.
/// </summary>
public sealed unsafe class WeightBlob : IDisposable
{
    private MemoryMappedFile? _map;
    private MemoryMappedViewAccessor? _view;
    private void* _owned;

    /// <summary>Pointer to the first byte.</summary>
    public byte* Pointer { get; private set; }

    /// <summary>Length in bytes.</summary>
    public long Length { get; private set; }

    private WeightBlob() { }

    /// <summary>Bytes of weights opened from embedded resources in this process (the weights part of the executable).</summary>
    public static long EmbeddedBytes { get; private set; }

    /// <summary>An empty blob, for models without weights.</summary>
    public static WeightBlob Empty() => new();

    /// <summary>Opens the embedded resource <paramref name="name"/> of <paramref name="assembly"/>.</summary>
    public static WeightBlob FromResource(Assembly assembly, string name, long expectedLength)
    {
        using var s = assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"LLMAOT9002: weights resource '{name}' is missing from {assembly.GetName().Name}; rebuild the model");
        var b = new WeightBlob { Length = s.Length };
        EmbeddedBytes += s.Length;
        if (s is UnmanagedMemoryStream ums)
        {
            b.Pointer = ums.PositionPointer;
        }
        else
        {
            b._owned = NativeMemory.AlignedAlloc((nuint)Math.Max(1, s.Length), 64);
            s.ReadExactly(new Span<byte>(b._owned, checked((int)s.Length)));
            b.Pointer = (byte*)b._owned;
        }
        b.Check(expectedLength, name);
        return b;
    }

    /// <summary>Memory-maps <paramref name="path"/> read-only.</summary>
    public static WeightBlob MapFile(string path, long expectedLength)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"LLMAOT9003: weights file '{path}' not found; it must sit beside the binary (built with --weights file)");
        var b = new WeightBlob();
        b.Length = new FileInfo(path).Length;
        b.Check(expectedLength, path);
        if (b.Length == 0) return b;
        b._map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        b._view = b._map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        byte* p = null;
        b._view.SafeMemoryMappedViewHandle.AcquirePointer(ref p);
        b.Pointer = p + b._view.PointerOffset;
        return b;
    }

    private void Check(long expected, string what)
    {
        if (Length != expected)
            throw new InvalidDataException($"LLMAOT9004: weights '{what}' hold {Length} bytes but the model was built for {expected}; the file belongs to another build");
    }

    /// <summary>Releases the mapping or the owned copy.</summary>
    public void Dispose()
    {
        if (_view != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
            _map!.Dispose();
            _view = null;
        }
        if (_owned != null) { NativeMemory.AlignedFree(_owned); _owned = null; }
        Pointer = null;
    }
}
