using System.Globalization;
using System.Text;

namespace Llmaot.Runtime.IO;

/// <summary>
/// A tensor in managed memory, for reading and writing files outside the inference path:
/// numpy .npy (version 1-3, C order, little-endian) and ONNX TensorProto .pb.
/// </summary>
public sealed class HostTensor(ElementType type, long[] shape, byte[] data)
{
    public ElementType Type { get; } = type;
    public long[] Shape { get; } = shape;
    public byte[] Data { get; } = data;

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

    /// <summary>Reads a .npy or .pb file, chosen by content (the .npy magic) rather than extension.</summary>
    public static HostTensor ReadFile(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        return bytes.Length >= 6 && bytes[0] == 0x93 && bytes[1] == (byte)'N' ? ReadNpy(bytes, path) : ReadPb(bytes, path);
    }

    /// <summary>Reads a serialized ONNX TensorProto.</summary>
    public static HostTensor ReadPb(byte[] bytes, string what = "tensor")
    {
        var t = TensorProto.Parse(bytes);
        if (t.IsExternal) throw new InvalidDataException($"{what}: external data is not supported in a tensor file");
        return new HostTensor(t.DataType, t.Dims, t.ToBytes(bytes));
    }

    /// <summary>Reads a numpy .npy file.</summary>
    public static HostTensor ReadNpy(byte[] b, string what = "tensor")
    {
        if (b.Length < 10 || b[0] != 0x93 || Encoding.ASCII.GetString(b, 1, 5) != "NUMPY") throw new InvalidDataException($"{what}: not a .npy file");
        int major = b[6];
        int headerLen, start;
        if (major == 1) { headerLen = b[8] | (b[9] << 8); start = 10; }
        else { headerLen = BitConverter.ToInt32(b, 8); start = 12; }
        if (start + headerLen > b.Length) throw new InvalidDataException($"{what}: truncated .npy header");
        string h = Encoding.UTF8.GetString(b, start, headerLen);
        string descr = Field(h, "descr").Trim('\'', '"');
        if (Field(h, "fortran_order").StartsWith("True", StringComparison.Ordinal)) throw new InvalidDataException($"{what}: Fortran-order .npy is not supported; save with np.ascontiguousarray");
        string shapeText = Field(h, "shape");
        int lp = shapeText.IndexOf('('), rp = shapeText.IndexOf(')');
        var parts = shapeText.Substring(lp + 1, rp - lp - 1).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var dims = new long[parts.Length];
        for (int i = 0; i < parts.Length; i++) dims[i] = long.Parse(parts[i], CultureInfo.InvariantCulture);
        var type = ElementTypes.FromNpyDescr(descr);
        if (type == ElementType.Undefined) throw new InvalidDataException($"{what}: .npy dtype '{descr}' is not supported (use little-endian numeric types)");
        var t = new HostTensor(type, dims, []);
        long n = ElementTypes.ByteCount(type, t.Count);
        int dataStart = start + headerLen;
        if (b.Length - dataStart < n) throw new InvalidDataException($"{what}: .npy holds {b.Length - dataStart} data bytes, shape needs {n}");
        return new HostTensor(type, dims, b.AsSpan(dataStart, (int)n).ToArray());
    }

    private static string Field(string header, string key)
    {
        int i = header.IndexOf($"'{key}'", StringComparison.Ordinal);
        if (i < 0) throw new InvalidDataException($".npy header lacks '{key}'");
        int c = header.IndexOf(':', i);
        int end = key == "shape" ? header.IndexOf(')', c) + 1 : header.IndexOfAny([',', '}'], c);
        return header.Substring(c + 1, end - c - 1).Trim();
    }

    /// <summary>Writes this tensor as a version 1.0 .npy file.</summary>
    public void WriteNpy(string path)
    {
        string descr = ElementTypes.NpyDescr(Type) ?? throw new InvalidOperationException($"{ElementTypes.Name(Type)} has no numpy dtype");
        string shape = Shape.Length == 1 ? $"({Shape[0]},)" : "(" + string.Join(", ", Shape) + ")";
        string dict = $"{{'descr': '{descr}', 'fortran_order': False, 'shape': {shape}, }}";
        int total = 10 + dict.Length + 1;
        int pad = (64 - total % 64) % 64;
        string header = dict + new string(' ', pad) + "\n";
        using var fs = File.Create(path);
        fs.Write([0x93, (byte)'N', (byte)'U', (byte)'M', (byte)'P', (byte)'Y', 1, 0, (byte)(header.Length & 0xFF), (byte)(header.Length >> 8)]);
        fs.Write(Encoding.ASCII.GetBytes(header));
        fs.Write(Data);
    }

    /// <summary>Turns a tensor name into a file name: every character other than letters, digits, '_', '.', '-' becomes '_'.</summary>
    public static string SafeFileName(string name)
    {
        var sb = new StringBuilder(name.Length);
        foreach (char c in name) sb.Append(char.IsAsciiLetterOrDigit(c) || c is '_' or '.' or '-' ? c : '_');
        return sb.ToString();
    }
}
