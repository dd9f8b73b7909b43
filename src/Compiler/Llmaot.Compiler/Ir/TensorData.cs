using System.IO.MemoryMappedFiles;
using System.Runtime.InteropServices;

namespace Llmaot.Ir;

/// <summary>
/// A read-only file mapped into memory (a model or its external data). Weights are referenced inside it
/// by offset; they are copied only once, when the packed weights blob is written.
/// </summary>
public sealed unsafe class MappedFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private byte* _ptr;

    public string Path { get; }
    public long Length { get; }

    public MappedFile(string path)
    {
        Path = path;
        Length = new FileInfo(path).Length;
        if (Length == 0) return;
        _map = MemoryMappedFile.CreateFromFile(path, FileMode.Open, null, 0, MemoryMappedFileAccess.Read);
        _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
        _view.SafeMemoryMappedViewHandle.AcquirePointer(ref _ptr);
        _ptr += _view.PointerOffset;
    }

    /// <summary>A view of [offset, offset+length).</summary>
    public ReadOnlySpan<byte> Slice(long offset, int length)
    {
        if (offset < 0 || length < 0 || offset + length > Length) throw new ArgumentOutOfRangeException(nameof(offset), $"[{offset}, +{length}) is outside {Path} ({Length} bytes)");
        return new ReadOnlySpan<byte>(_ptr + offset, length);
    }

    /// <summary>The whole file (at most 2 GiB, which is also protobuf's limit).</summary>
    public ReadOnlySpan<byte> All => Length == 0 ? default : new ReadOnlySpan<byte>(_ptr, checked((int)Length));

    public void Dispose()
    {
        if (_view != null && _ptr != null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _ptr = null;
        }
        _view?.Dispose();
        _map?.Dispose();
    }
}

/// <summary>
/// The bytes of a constant tensor, little-endian, in the element layout of its type. Either a slice of a
/// mapped file (never copied) or an owned array (typed-field initializers and folded constants).
/// </summary>
public abstract class TensorData
{
    public abstract long Length { get; }
    public abstract ReadOnlySpan<byte> Span { get; }

    /// <summary>Owned bytes.</summary>
    public static TensorData Of(byte[] bytes) => new Owned(bytes);

    /// <summary>Owned copy of an array of unmanaged values.</summary>
    public static TensorData Of<T>(ReadOnlySpan<T> values) where T : unmanaged => new Owned(MemoryMarshal.AsBytes(values).ToArray());

    /// <summary>A lazily resolved slice of a mapped file.</summary>
    public static TensorData Slice(MappedFile file, long offset, int length) => new FileSlice(file, offset, length);

    /// <summary>Elements reinterpreted as T.</summary>
    public ReadOnlySpan<T> As<T>() where T : unmanaged => MemoryMarshal.Cast<byte, T>(Span);

    /// <summary>Reads integer elements of any integer type as int64.</summary>
    public long[] ToInt64(Runtime.ElementType t) => t switch
    {
        Runtime.ElementType.Int64 => As<long>().ToArray(),
        Runtime.ElementType.Int32 => Array.ConvertAll(As<int>().ToArray(), v => (long)v),
        Runtime.ElementType.Int16 => Array.ConvertAll(As<short>().ToArray(), v => (long)v),
        Runtime.ElementType.Int8 => Array.ConvertAll(As<sbyte>().ToArray(), v => (long)v),
        Runtime.ElementType.UInt8 or Runtime.ElementType.Bool => Array.ConvertAll(Span.ToArray(), v => (long)v),
        Runtime.ElementType.UInt16 => Array.ConvertAll(As<ushort>().ToArray(), v => (long)v),
        Runtime.ElementType.UInt32 => Array.ConvertAll(As<uint>().ToArray(), v => (long)v),
        Runtime.ElementType.UInt64 => Array.ConvertAll(As<ulong>().ToArray(), v => (long)v),
        _ => throw new InvalidOperationException($"{t} is not an integer type"),
    };

    /// <summary>Reads floating elements as double.</summary>
    public double[] ToDouble(Runtime.ElementType t) => t switch
    {
        Runtime.ElementType.Float => Array.ConvertAll(As<float>().ToArray(), v => (double)v),
        Runtime.ElementType.Double => As<double>().ToArray(),
        Runtime.ElementType.Float16 => Array.ConvertAll(As<Half>().ToArray(), v => (double)v),
        _ => Array.ConvertAll(ToInt64(t), v => (double)v),
    };

    private sealed class Owned(byte[] bytes) : TensorData
    {
        public override long Length => bytes.Length;
        public override ReadOnlySpan<byte> Span => bytes;
    }

    private sealed class FileSlice(MappedFile file, long offset, int length) : TensorData
    {
        public override long Length => length;
        public override ReadOnlySpan<byte> Span => file.Slice(offset, length);
    }
}
