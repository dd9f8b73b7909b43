using System.Runtime.InteropServices;
using Google.Protobuf;
using Llmaot.Runtime;

namespace Llmaot.Onnx;

/// <summary>
/// Writes ONNX ModelProto files (field numbers from onnx.proto) with Google.Protobuf's CodedOutputStream.
/// Used by tests to build single-op models and by tools that create models (e.g. the hello-sine example).
/// Attribute values: float, long/int, string, float[], long[], int[], (ElementType, long[] dims, byte[] raw) tensors,
/// and another OnnxWriter for a graph attribute (an If branch, a Loop or Scan body: its inputs, outputs, initializers and nodes).
/// </summary>
public sealed class OnnxWriter
{
    private sealed record ValueInfo(string Name, ElementType Type, object[]? Dims);
    private sealed record Init(string Name, ElementType Type, long[] Dims, byte[] Raw, string? Location = null, long Offset = 0);
    private sealed record NodeDef(string Op, string Domain, string Name, string[] Inputs, string[] Outputs, (string Name, object Value)[] Attrs);

    private readonly List<ValueInfo> _inputs = [], _outputs = [];
    private readonly List<Init> _inits = [];
    private readonly List<NodeDef> _nodes = [];
    private readonly Dictionary<string, long> _opsets = new(StringComparer.Ordinal) { [""] = 17 };

    public long IrVersion { get; set; } = 8;
    public string GraphName { get; set; } = "g";
    public string Producer { get; set; } = "llmaot";

    public OnnxWriter Opset(long version, string domain = "")
    {
        _opsets[domain] = version;
        return this;
    }

    /// <summary>A graph input; dims are longs or strings (symbols); null dims means unknown rank.</summary>
    public OnnxWriter Input(string name, ElementType t, params object[]? dims)
    {
        _inputs.Add(new(name, t, dims));
        return this;
    }

    public OnnxWriter Output(string name, ElementType t, params object[]? dims)
    {
        _outputs.Add(new(name, t, dims));
        return this;
    }

    public OnnxWriter Initializer(string name, ElementType t, long[] dims, byte[] raw)
    {
        _inits.Add(new(name, t, dims, raw));
        return this;
    }

    /// <summary>An initializer stored in an external file (<paramref name="location"/> relative to the model) at <paramref name="offset"/>.</summary>
    public OnnxWriter ExternalInitializer(string name, ElementType t, long[] dims, string location, long offset, long length)
    {
        _inits.Add(new(name, t, dims, new byte[length], location, offset));
        return this;
    }

    public OnnxWriter Initializer<T>(string name, ElementType t, long[] dims, T[] values) where T : unmanaged =>
        Initializer(name, t, dims, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());

    public OnnxWriter Node(string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attrs) => NodeIn("", op, inputs, outputs, attrs);

    public OnnxWriter NodeIn(string domain, string op, string[] inputs, string[] outputs, params (string Name, object Value)[] attrs)
    {
        _nodes.Add(new(op, domain, $"{op}_{_nodes.Count}", inputs, outputs, attrs));
        return this;
    }

    public byte[] ToBytes()
    {
        using var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        o.WriteTag(1, WireFormat.WireType.Varint); o.WriteInt64(IrVersion);
        o.WriteTag(2, WireFormat.WireType.LengthDelimited); o.WriteString(Producer);
        o.WriteTag(7, WireFormat.WireType.LengthDelimited); o.WriteBytes(Message(Graph));
        foreach (var (d, v) in _opsets)
        {
            o.WriteTag(8, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(s =>
            {
                if (d.Length > 0) { s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteString(d); }
                s.WriteTag(2, WireFormat.WireType.Varint); s.WriteInt64(v);
            }));
        }
        o.Flush();
        return ms.ToArray();
    }

    public void Save(string path) => File.WriteAllBytes(path, ToBytes());

    private static ByteString Message(Action<CodedOutputStream> write)
    {
        using var ms = new MemoryStream();
        var s = new CodedOutputStream(ms);
        write(s);
        s.Flush();
        return ByteString.CopyFrom(ms.ToArray());
    }

    private void Graph(CodedOutputStream g)
    {
        foreach (var n in _nodes) { g.WriteTag(1, WireFormat.WireType.LengthDelimited); g.WriteBytes(Message(s => NodeProto(s, n))); }
        g.WriteTag(2, WireFormat.WireType.LengthDelimited); g.WriteString(GraphName);
        foreach (var i in _inits) { g.WriteTag(5, WireFormat.WireType.LengthDelimited); g.WriteBytes(Message(s => Tensor(s, i.Name, i.Type, i.Dims, i.Raw, i.Location, i.Offset))); }
        foreach (var v in _inputs) { g.WriteTag(11, WireFormat.WireType.LengthDelimited); g.WriteBytes(Message(s => ValueInfoProto(s, v))); }
        foreach (var v in _outputs) { g.WriteTag(12, WireFormat.WireType.LengthDelimited); g.WriteBytes(Message(s => ValueInfoProto(s, v))); }
    }

    private static void NodeProto(CodedOutputStream s, NodeDef n)
    {
        foreach (var i in n.Inputs) { s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteString(i); }
        foreach (var o in n.Outputs) { s.WriteTag(2, WireFormat.WireType.LengthDelimited); s.WriteString(o); }
        s.WriteTag(3, WireFormat.WireType.LengthDelimited); s.WriteString(n.Name);
        s.WriteTag(4, WireFormat.WireType.LengthDelimited); s.WriteString(n.Op);
        foreach (var (name, value) in n.Attrs) { s.WriteTag(5, WireFormat.WireType.LengthDelimited); s.WriteBytes(Message(a => Attribute(a, name, value))); }
        if (n.Domain.Length > 0) { s.WriteTag(7, WireFormat.WireType.LengthDelimited); s.WriteString(n.Domain); }
    }

    private static void Attribute(CodedOutputStream a, string name, object value)
    {
        a.WriteTag(1, WireFormat.WireType.LengthDelimited); a.WriteString(name);
        int type;
        switch (value)
        {
            case float f: a.WriteTag(2, WireFormat.WireType.Fixed32); a.WriteFloat(f); type = 1; break;
            case double d: a.WriteTag(2, WireFormat.WireType.Fixed32); a.WriteFloat((float)d); type = 1; break;
            case int i: a.WriteTag(3, WireFormat.WireType.Varint); a.WriteInt64(i); type = 2; break;
            case long l: a.WriteTag(3, WireFormat.WireType.Varint); a.WriteInt64(l); type = 2; break;
            case string str: a.WriteTag(4, WireFormat.WireType.LengthDelimited); a.WriteString(str); type = 3; break;
            case float[] fs: foreach (var f in fs) { a.WriteTag(7, WireFormat.WireType.Fixed32); a.WriteFloat(f); } type = 6; break;
            case long[] ls: foreach (var l in ls) { a.WriteTag(8, WireFormat.WireType.Varint); a.WriteInt64(l); } type = 7; break;
            case int[] iss: foreach (var l in iss) { a.WriteTag(8, WireFormat.WireType.Varint); a.WriteInt64(l); } type = 7; break;
            case OnnxWriter body:
                a.WriteTag(6, WireFormat.WireType.LengthDelimited); a.WriteBytes(Message(body.Graph)); type = 5; break;
            case (ElementType t, long[] dims, byte[] raw):
                a.WriteTag(5, WireFormat.WireType.LengthDelimited); a.WriteBytes(Message(s => Tensor(s, "", t, dims, raw))); type = 4; break;
            default: throw new ArgumentException($"attribute '{name}': unsupported value type {value.GetType()}");
        }
        a.WriteTag(20, WireFormat.WireType.Varint); a.WriteInt32(type);
    }

    private static void Tensor(CodedOutputStream s, string name, ElementType t, long[] dims, byte[] raw, string? location = null, long offset = 0)
    {
        foreach (var d in dims) { s.WriteTag(1, WireFormat.WireType.Varint); s.WriteInt64(d); }
        s.WriteTag(2, WireFormat.WireType.Varint); s.WriteInt32((int)t);
        if (name.Length > 0) { s.WriteTag(8, WireFormat.WireType.LengthDelimited); s.WriteString(name); }
        if (location == null) { s.WriteTag(9, WireFormat.WireType.LengthDelimited); s.WriteBytes(ByteString.CopyFrom(raw)); return; }
        foreach (var (k, v) in new[] { ("location", location), ("offset", offset.ToString(System.Globalization.CultureInfo.InvariantCulture)), ("length", raw.Length.ToString(System.Globalization.CultureInfo.InvariantCulture)) })
        {
            s.WriteTag(13, WireFormat.WireType.LengthDelimited);
            s.WriteBytes(Message(kv =>
            {
                kv.WriteTag(1, WireFormat.WireType.LengthDelimited); kv.WriteString(k);
                kv.WriteTag(2, WireFormat.WireType.LengthDelimited); kv.WriteString(v);
            }));
        }
        s.WriteTag(14, WireFormat.WireType.Varint); s.WriteInt32(1);
    }

    private static void ValueInfoProto(CodedOutputStream s, ValueInfo v)
    {
        s.WriteTag(1, WireFormat.WireType.LengthDelimited); s.WriteString(v.Name);
        s.WriteTag(2, WireFormat.WireType.LengthDelimited);
        s.WriteBytes(Message(tp =>
        {
            tp.WriteTag(1, WireFormat.WireType.LengthDelimited);
            tp.WriteBytes(Message(tt =>
            {
                tt.WriteTag(1, WireFormat.WireType.Varint); tt.WriteInt32((int)v.Type);
                if (v.Dims == null) return;
                tt.WriteTag(2, WireFormat.WireType.LengthDelimited);
                tt.WriteBytes(Message(sh =>
                {
                    foreach (var d in v.Dims)
                    {
                        sh.WriteTag(1, WireFormat.WireType.LengthDelimited);
                        sh.WriteBytes(Message(dm =>
                        {
                            if (d is string p) { dm.WriteTag(2, WireFormat.WireType.LengthDelimited); dm.WriteString(p); }
                            else { dm.WriteTag(1, WireFormat.WireType.Varint); dm.WriteInt64(Convert.ToInt64(d, System.Globalization.CultureInfo.InvariantCulture)); }
                        }));
                    }
                }));
            }));
        }));
    }
}
