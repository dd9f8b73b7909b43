using System.IO.MemoryMappedFiles;
using System.Reflection;
using System.Runtime.InteropServices;

namespace Llmaot.Runtime;

/// <summary>
/// Read-only access to the packed weights of a model: either embedded in the binary as a manifest
/// resource (used in place, never copied, when the runtime exposes it as unmanaged memory) or a file
/// beside the binary, read into huge-page memory (<see cref="LargePages"/>) or memory-mapped.
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

    /// <summary>Whether the weights were read from their file into memory advised as huge pages (<see cref="OpenFile"/>).</summary>
    public bool InLargePages { get; private set; }

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

    /// <summary>
    /// Keep weights files memory-mapped (4 KiB page-cache pages, shared, nothing copied) instead of reading a large one into
    /// huge-page memory. Set by a generated binary's <c>--mmap</c> before the model is created.
    /// </summary>
    public static bool PreferMapping { get; set; }

    /// <summary>Whether the last weights file opened in this process was read into memory the kernel advised as huge pages.</summary>
    public static bool LastFileInLargePages { get; private set; }

    /// <summary>
    /// Opens the weights file <paramref name="path"/>. A file of <see cref="LargePages.MinBytes"/> or more is read into
    /// huge-page memory where the kernel takes the advice (Linux), since every step streams the weights; otherwise, or with
    /// <see cref="PreferMapping"/>, it is memory-mapped read-only.
    /// </summary>
    public static WeightBlob OpenFile(string path, long expectedLength)
    {
        if (!File.Exists(path)) throw new FileNotFoundException($"LLMAOT9003: weights file '{path}' not found; it must sit beside the binary (built with --weights file)");
        var b = new WeightBlob();
        b.Length = new FileInfo(path).Length;
        b.Check(expectedLength, path);
        LastFileInLargePages = false;
        if (b.Length == 0) return b;
        if (!PreferMapping && b.Length >= LargePages.MinBytes)
        {
            byte* copy = LargePages.Alloc(b.Length, out bool advised);
            if (advised)
            {
                b._owned = copy;
                b.Pointer = copy;
                b.InLargePages = true;
                try
                {
                    using var h = File.OpenHandle(path);
                    for (long o = 0; o < b.Length;)
                    {
                        int got = RandomAccess.Read(h, new Span<byte>(copy + o, (int)Math.Min(1 << 30, b.Length - o)), o);
                        if (got <= 0) throw new InvalidDataException($"LLMAOT9004: weights '{path}' ended after {o} of {b.Length} bytes while being read");
                        o += got;
                    }
                }
                catch
                {
                    b.Dispose();
                    throw;
                }
                LastFileInLargePages = true;
                return b;
            }
            NativeMemory.AlignedFree(copy);
        }
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
