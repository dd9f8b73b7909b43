using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.IO;

/// <summary>Thrown when protobuf bytes are malformed or truncated.</summary>
public sealed class ProtoFormatException(string message) : Exception(message);

/// <summary>
/// A forward-only reader of the protobuf wire format over a byte span, with absolute offsets.
/// Length-delimited fields come back as (offset, length) into the original buffer, so a caller
/// can keep a reference to weight bytes inside a memory-mapped file instead of copying them.
/// This is the one protobuf reader of the project: the runtime must stay dependency-free and reads
/// TensorProto files, and the compiler's ONNX importer reads models with it so that initializers are
/// never copied. Every read is bounds-checked and throws <see cref="ProtoFormatException"/>.
/// </summary>
public ref struct ProtoReader
{
    private readonly ReadOnlySpan<byte> _buf;
    private readonly long _base;
    private int _pos;
    private int _wireType;

    /// <summary>Reads <paramref name="buffer"/>, whose first byte sits at absolute offset <paramref name="baseOffset"/>.</summary>
    public ProtoReader(ReadOnlySpan<byte> buffer, long baseOffset = 0)
    {
        _buf = buffer;
        _base = baseOffset;
        _pos = 0;
        _wireType = -1;
    }

    /// <summary>True when every byte has been consumed.</summary>
    public readonly bool End => _pos >= _buf.Length;

    /// <summary>Reads the next tag; returns false at the end. <paramref name="field"/> is the field number.</summary>
    public bool Next(out int field)
    {
        if (_pos >= _buf.Length) { field = 0; return false; }
        ulong tag = ReadRawVarint();
        field = (int)(tag >> 3);
        _wireType = (int)(tag & 7);
        if (field <= 0 || tag >> 3 > int.MaxValue) throw new ProtoFormatException($"invalid field number {tag >> 3} at byte {_base + _pos}");
        return true;
    }

    /// <summary>Wire type of the last tag: 0 varint, 1 fixed64, 2 length-delimited, 5 fixed32.</summary>
    public readonly int WireType => _wireType;

    /// <summary>Reads a varint field value.</summary>
    public ulong Varint()
    {
        Expect(0);
        return ReadRawVarint();
    }

    /// <summary>Reads an int64 varint field.</summary>
    public long Int64() => (long)Varint();

    /// <summary>Reads a fixed32 field (float bits).</summary>
    public uint Fixed32()
    {
        Expect(5);
        Need(4);
        uint v = System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(_buf.Slice(_pos, 4));
        _pos += 4;
        return v;
    }

    /// <summary>Reads a fixed64 field (double bits).</summary>
    public ulong Fixed64()
    {
        Expect(1);
        Need(8);
        ulong v = System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(_buf.Slice(_pos, 8));
        _pos += 8;
        return v;
    }

    /// <summary>Reads a float field (fixed32).</summary>
    public float Float() => BitConverter.UInt32BitsToSingle(Fixed32());

    /// <summary>Reads a length-delimited field; returns its absolute offset and length.</summary>
    public (long Offset, int Length) Bytes()
    {
        Expect(2);
        ulong len = ReadRawVarint();
        if (len > (ulong)(_buf.Length - _pos)) throw new ProtoFormatException($"length {len} at byte {_base + _pos} runs past the end ({_buf.Length - _pos} bytes left): the file is truncated or not protobuf");
        long off = _base + _pos;
        _pos += (int)len;
        return (off, (int)len);
    }

    /// <summary>Reads a length-delimited field as a span of the underlying buffer.</summary>
    public ReadOnlySpan<byte> Span()
    {
        var (off, len) = Bytes();
        return _buf.Slice((int)(off - _base), len);
    }

    /// <summary>Reads a length-delimited field as UTF-8 text.</summary>
    public string String() => System.Text.Encoding.UTF8.GetString(Span());

    /// <summary>Returns a reader over the embedded message of a length-delimited field.</summary>
    public ProtoReader Message()
    {
        var (off, len) = Bytes();
        return new ProtoReader(_buf.Slice((int)(off - _base), len), off);
    }

    /// <summary>
    /// Reads a repeated varint field that may be packed (wire type 2) or not (wire type 0), appending to <paramref name="into"/>.
    /// </summary>
    public void RepeatedVarint(List<long> into)
    {
        if (_wireType == 0) { into.Add((long)ReadRawVarint()); return; }
        var r = Message();
        while (!r.End) into.Add((long)r.ReadRawVarint());
    }

    /// <summary>Reads a repeated float field that may be packed or not.</summary>
    public void RepeatedFloat(List<float> into)
    {
        if (_wireType == 5) { into.Add(Float()); return; }
        var s = Span();
        if (s.Length % 4 != 0) throw new ProtoFormatException("packed float field length is not a multiple of 4");
        for (int i = 0; i < s.Length; i += 4) into.Add(BitConverter.UInt32BitsToSingle(System.Buffers.Binary.BinaryPrimitives.ReadUInt32LittleEndian(s.Slice(i))));
    }

    /// <summary>Reads a repeated double field that may be packed or not.</summary>
    public void RepeatedDouble(List<double> into)
    {
        if (_wireType == 1) { into.Add(BitConverter.UInt64BitsToDouble(Fixed64())); return; }
        var s = Span();
        if (s.Length % 8 != 0) throw new ProtoFormatException("packed double field length is not a multiple of 8");
        for (int i = 0; i < s.Length; i += 8) into.Add(BitConverter.UInt64BitsToDouble(System.Buffers.Binary.BinaryPrimitives.ReadUInt64LittleEndian(s.Slice(i))));
    }

    /// <summary>Skips the value of the last tag.</summary>
    public void Skip()
    {
        switch (_wireType)
        {
            case 0: ReadRawVarint(); break;
            case 1: Need(8); _pos += 8; break;
            case 2: Bytes(); break;
            case 5: Need(4); _pos += 4; break;
            case 3: // group start: skip until the matching end group
                while (true)
                {
                    if (!Next(out _)) throw new ProtoFormatException("unterminated group");
                    if (_wireType == 4) break;
                    Skip();
                }
                break;
            default: throw new ProtoFormatException($"invalid wire type {_wireType} at byte {_base + _pos}");
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Expect(int wireType)
    {
        if (_wireType != wireType) throw new ProtoFormatException($"wire type {_wireType} where {wireType} was expected at byte {_base + _pos}");
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private readonly void Need(int n)
    {
        if (_buf.Length - _pos < n) throw new ProtoFormatException($"truncated at byte {_base + _pos}");
    }

    private ulong ReadRawVarint()
    {
        ulong result = 0;
        for (int shift = 0; shift < 70; shift += 7)
        {
            if (_pos >= _buf.Length) throw new ProtoFormatException($"truncated varint at byte {_base + _pos}");
            byte b = _buf[_pos++];
            result |= (ulong)(b & 0x7F) << shift;
            if ((b & 0x80) == 0) return result;
        }
        throw new ProtoFormatException($"malformed varint at byte {_base + _pos}");
    }
}
