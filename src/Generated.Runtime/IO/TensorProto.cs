using System.Buffers.Binary;

namespace Llmaot.Runtime.IO;

/// <summary>
/// An ONNX TensorProto as read from the wire: metadata plus where its bytes are.
/// <see cref="RawOffset"/>/<see cref="RawLength"/> point into the buffer that was parsed, so raw data is never copied
/// here; typed fields (float_data, int32_data, ...) are kept as decoded lists because they need conversion anyway.
/// </summary>
public sealed class TensorProto
{
    public string Name = "";
    public ElementType DataType;
    public long[] Dims = [];
    /// <summary>Absolute offset of raw_data in the parsed buffer, or -1 if absent.</summary>
    public long RawOffset = -1;
    public int RawLength;
    public List<float>? FloatData;
    public List<long>? Int32Data;
    public List<long>? Int64Data;
    public List<double>? DoubleData;
    public List<long>? UInt64Data;
    public int StringCount;
    /// <summary>external_data key/value pairs (location, offset, length, checksum), when data_location is EXTERNAL.</summary>
    public List<KeyValuePair<string, string>>? ExternalData;
    public bool IsExternal;

    /// <summary>Element count (product of dims; 1 for a scalar).</summary>
    public long ElementCount
    {
        get
        {
            long n = 1;
            foreach (var d in Dims) n = checked(n * d);
            return n;
        }
    }

    /// <summary>Parses a TensorProto message.</summary>
    public static TensorProto Parse(ref ProtoReader r)
    {
        var t = new TensorProto();
        var dims = new List<long>();
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: r.RepeatedVarint(dims); break;
                case 2: t.DataType = (ElementType)r.Int64(); break;
                case 4: r.RepeatedFloat(t.FloatData ??= []); break;
                case 5: r.RepeatedVarint(t.Int32Data ??= []); break;
                case 6: r.Bytes(); t.StringCount++; break;
                case 7: r.RepeatedVarint(t.Int64Data ??= []); break;
                case 8: t.Name = r.String(); break;
                case 9: (t.RawOffset, t.RawLength) = r.Bytes(); break;
                case 10: r.RepeatedDouble(t.DoubleData ??= []); break;
                case 11: r.RepeatedVarint(t.UInt64Data ??= []); break;
                case 13:
                    {
                        var kv = r.Message();
                        string k = "", v = "";
                        while (kv.Next(out int g))
                        {
                            if (g == 1) k = kv.String();
                            else if (g == 2) v = kv.String();
                            else kv.Skip();
                        }
                        (t.ExternalData ??= []).Add(new(k, v));
                        break;
                    }
                case 14: t.IsExternal = r.Int64() == 1; break;
                default: r.Skip(); break;
            }
        }
        t.Dims = dims.ToArray();
        foreach (var d in t.Dims)
            if (d < 0) throw new ProtoFormatException($"tensor '{t.Name}' has negative dim {d}");
        return t;
    }

    /// <summary>Parses a whole buffer holding one serialized TensorProto (a .pb test file).</summary>
    public static TensorProto Parse(ReadOnlySpan<byte> buffer)
    {
        var r = new ProtoReader(buffer);
        return Parse(ref r);
    }

    /// <summary>
    /// Decodes the tensor to little-endian element bytes, in the layout <see cref="ElementTypes.ByteCount"/> gives.
    /// <paramref name="buffer"/> is the buffer the proto was parsed from (for raw_data). External data must be resolved by the caller.
    /// </summary>
    public byte[] ToBytes(ReadOnlySpan<byte> buffer)
    {
        long count = ElementCount;
        long nbytes = ElementTypes.ByteCount(DataType, count);
        if (DataType == ElementType.String) throw new NotSupportedException($"tensor '{Name}' holds strings, which llmaot does not support");
        if (ElementTypes.BlockBytes(DataType) == 0) throw new NotSupportedException($"tensor '{Name}' has unsupported data type {(int)DataType}");
        if (RawOffset >= 0)
        {
            if (RawLength != nbytes) throw new ProtoFormatException($"tensor '{Name}' raw_data has {RawLength} bytes, dims {string.Join("x", Dims)} of {ElementTypes.Name(DataType)} need {nbytes}");
            return buffer.Slice((int)RawOffset, RawLength).ToArray();
        }
        long have = (FloatData?.Count ?? 0) + (Int32Data?.Count ?? 0) + (Int64Data?.Count ?? 0) + (DoubleData?.Count ?? 0) + (UInt64Data?.Count ?? 0);
        if (nbytes > int.MaxValue || have * 16 < nbytes && nbytes > 0)
            throw new ProtoFormatException($"tensor '{Name}' has {have} typed values, far fewer than dims {string.Join("x", Dims)} need");
        var bytes = new byte[nbytes];
        switch (DataType)
        {
            case ElementType.Float:
            case ElementType.Complex64:
                Check(FloatData, count * (DataType == ElementType.Complex64 ? 2 : 1));
                for (int i = 0; i < (FloatData?.Count ?? 0); i++) BinaryPrimitives.WriteSingleLittleEndian(bytes.AsSpan(i * 4), FloatData![i]);
                break;
            case ElementType.Double:
            case ElementType.Complex128:
                Check(DoubleData, count * (DataType == ElementType.Complex128 ? 2 : 1));
                for (int i = 0; i < (DoubleData?.Count ?? 0); i++) BinaryPrimitives.WriteDoubleLittleEndian(bytes.AsSpan(i * 8), DoubleData![i]);
                break;
            case ElementType.Int64:
                Check(Int64Data, count);
                for (int i = 0; i < (Int64Data?.Count ?? 0); i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), Int64Data![i]);
                break;
            case ElementType.UInt32:
                Check(UInt64Data, count);
                for (int i = 0; i < (UInt64Data?.Count ?? 0); i++) BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(i * 4), (uint)UInt64Data![i]);
                break;
            case ElementType.UInt64:
                Check(UInt64Data, count);
                for (int i = 0; i < (UInt64Data?.Count ?? 0); i++) BinaryPrimitives.WriteInt64LittleEndian(bytes.AsSpan(i * 8), UInt64Data![i]);
                break;
            case ElementType.Int32:
                Check(Int32Data, count);
                for (int i = 0; i < (Int32Data?.Count ?? 0); i++) BinaryPrimitives.WriteInt32LittleEndian(bytes.AsSpan(i * 4), (int)Int32Data![i]);
                break;
            case ElementType.Int16:
            case ElementType.UInt16:
            case ElementType.Float16:
            case ElementType.BFloat16:
                Check(Int32Data, count);
                for (int i = 0; i < (Int32Data?.Count ?? 0); i++) BinaryPrimitives.WriteUInt16LittleEndian(bytes.AsSpan(i * 2), (ushort)Int32Data![i]);
                break;
            case ElementType.Int8:
            case ElementType.UInt8:
            case ElementType.Bool:
            case ElementType.Float8E4M3FN:
            case ElementType.Float8E4M3FNUZ:
            case ElementType.Float8E5M2:
            case ElementType.Float8E5M2FNUZ:
            case ElementType.Float8E8M0:
                Check(Int32Data, count);
                for (int i = 0; i < (Int32Data?.Count ?? 0); i++) bytes[i] = (byte)Int32Data![i];
                break;
            case ElementType.Int4:
            case ElementType.UInt4:
            case ElementType.Float4E2M1:
            case ElementType.Int2:
            case ElementType.UInt2:
                // Sub-byte types: each int32_data entry holds one already-packed byte.
                Check(Int32Data, nbytes);
                for (int i = 0; i < (Int32Data?.Count ?? 0); i++) bytes[i] = (byte)Int32Data![i];
                break;
            default:
                throw new NotSupportedException($"tensor '{Name}' has data type {ElementTypes.Name(DataType)} with typed fields, which is not supported");
        }
        return bytes;
    }

    private void Check<T>(List<T>? data, long expected)
    {
        int have = data?.Count ?? 0;
        if (have != expected) throw new ProtoFormatException($"tensor '{Name}' has {have} typed values where dims {string.Join("x", Dims)} need {expected}");
    }
}
