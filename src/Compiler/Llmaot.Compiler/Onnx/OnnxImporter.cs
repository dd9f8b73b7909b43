using System.Security.Cryptography;
using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;

namespace Llmaot.Onnx;

/// <summary>
/// Reads an ONNX ModelProto into the IR. The file is memory-mapped and parsed in place with
/// <see cref="ProtoReader"/>; raw_data initializers become <see cref="TensorData"/> slices of the mapping,
/// so weights are not copied. Field numbers follow onnx.proto (IR version 3 and later).
/// </summary>
public sealed class OnnxImporter
{
    private readonly Model _model;
    private readonly MappedFile _file;
    private readonly string _dir;
    private readonly Dictionary<string, MappedFile> _external = new(StringComparer.Ordinal);
    private int _anonDims;

    private OnnxImporter(Model model, MappedFile file, string dir)
    {
        _model = model;
        _file = file;
        _dir = dir;
    }

    /// <summary>Imports the model at <paramref name="path"/>. Throws <see cref="LlmaotException"/> on any problem.</summary>
    public static Model Import(string path)
    {
        if (!File.Exists(path)) throw new LlmaotException(Codes.FileNotFound, $"model file '{path}' not found; check the path");
        MappedFile file;
        try { file = new MappedFile(path); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { throw new LlmaotException(Codes.FileNotFound, $"cannot read '{path}': {e.Message}"); }
        if (file.Length == 0) { file.Dispose(); throw new LlmaotException(Codes.MalformedModel, $"'{path}' is empty; expected an ONNX model"); }
        string sha;
        using (var stream = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(stream));
        try
        {
            var proto = ParseModelProto(file.All);
            var model = new Model
            {
                Graph = new Graph(),
                IrVersion = proto.IrVersion,
                Producer = (proto.ProducerName + " " + proto.ProducerVersion).Trim(),
                SourceName = System.IO.Path.GetFileName(path),
                Sha256 = sha,
            };
            model.Owned.Add(file);
            var imp = new OnnxImporter(model, file, System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(path)) ?? ".");
            imp.Build(proto);
            return model;
        }
        catch (ProtoFormatException e)
        {
            file.Dispose();
            throw new LlmaotException(Codes.MalformedModel, $"'{path}' is not a valid ONNX model ({e.Message}); re-export it or check that the download is complete");
        }
        catch (LlmaotException)
        {
            file.Dispose();
            throw;
        }
    }

    // ---------------------------------------------------------------- wire-level records

    private sealed class ModelProto
    {
        public long IrVersion;
        public string ProducerName = "", ProducerVersion = "";
        public List<(string Domain, long Version)> Opsets = [];
        public GraphProto? Graph;
        public List<string> FunctionNames = [];
    }

    private sealed class GraphProto
    {
        public string Name = "";
        public List<NodeProto> Nodes = [];
        public List<TensorProto> Initializers = [];
        public List<ValueInfo> Inputs = [], Outputs = [], ValueInfos = [];
        public bool HasSparse;
    }

    private sealed class NodeProto
    {
        public string Name = "", Op = "", Domain = "";
        public List<string> Inputs = [], Outputs = [];
        public List<AttrProto> Attrs = [];
    }

    private sealed class AttrProto
    {
        public string Name = "", RefAttrName = "";
        public int Type;
        public float F;
        public long I;
        public string S = "";
        public TensorProto? T;
        public GraphProto? G;
        public List<float> Floats = [];
        public List<long> Ints = [];
        public List<string> Strings = [];
        public List<TensorProto> Tensors = [];
        public List<GraphProto> Graphs = [];
    }

    private sealed class ValueInfo
    {
        public string Name = "";
        public ElementType Elem;
        public List<(long Value, string? Param)>? Dims;
        public string Kind = "tensor";
    }

    private static ModelProto ParseModelProto(ReadOnlySpan<byte> buf)
    {
        var r = new ProtoReader(buf);
        var m = new ModelProto();
        bool sawGraph = false;
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: m.IrVersion = r.Int64(); break;
                case 2: m.ProducerName = r.String(); break;
                case 3: m.ProducerVersion = r.String(); break;
                case 7: { var g = r.Message(); m.Graph = ParseGraph(ref g); sawGraph = true; break; }
                case 8:
                    {
                        var o = r.Message();
                        string d = "";
                        long v = 0;
                        while (o.Next(out int g))
                        {
                            if (g == 1) d = o.String();
                            else if (g == 2) v = o.Int64();
                            else o.Skip();
                        }
                        m.Opsets.Add((d, v));
                        break;
                    }
                case 25:
                    {
                        var fn = r.Message();
                        while (fn.Next(out int g))
                        {
                            if (g == 1) m.FunctionNames.Add(fn.String());
                            else fn.Skip();
                        }
                        break;
                    }
                default: r.Skip(); break;
            }
        }
        if (!sawGraph || m.Graph == null) throw new ProtoFormatException("no graph field (field 7) found");
        if (m.IrVersion == 0) throw new ProtoFormatException("no ir_version (field 1) found");
        return m;
    }

    private static GraphProto ParseGraph(ref ProtoReader r)
    {
        var g = new GraphProto();
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: { var n = r.Message(); g.Nodes.Add(ParseNode(ref n)); break; }
                case 2: g.Name = r.String(); break;
                case 5: { var t = r.Message(); g.Initializers.Add(TensorProto.Parse(ref t)); break; }
                case 11: { var v = r.Message(); g.Inputs.Add(ParseValueInfo(ref v)); break; }
                case 12: { var v = r.Message(); g.Outputs.Add(ParseValueInfo(ref v)); break; }
                case 13: { var v = r.Message(); g.ValueInfos.Add(ParseValueInfo(ref v)); break; }
                case 15: r.Skip(); g.HasSparse = true; break;
                default: r.Skip(); break;
            }
        }
        return g;
    }

    private static NodeProto ParseNode(ref ProtoReader r)
    {
        var n = new NodeProto();
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: n.Inputs.Add(r.String()); break;
                case 2: n.Outputs.Add(r.String()); break;
                case 3: n.Name = r.String(); break;
                case 4: n.Op = r.String(); break;
                case 5: { var a = r.Message(); n.Attrs.Add(ParseAttr(ref a)); break; }
                case 7: n.Domain = r.String(); break;
                default: r.Skip(); break;
            }
        }
        if (n.Op.Length == 0) throw new ProtoFormatException($"node '{n.Name}' has no op_type");
        return n;
    }

    private static AttrProto ParseAttr(ref ProtoReader r)
    {
        var a = new AttrProto();
        while (r.Next(out int f))
        {
            switch (f)
            {
                case 1: a.Name = r.String(); break;
                case 2: a.F = r.Float(); break;
                case 3: a.I = r.Int64(); break;
                case 4: a.S = r.String(); break;
                case 5: { var t = r.Message(); a.T = TensorProto.Parse(ref t); break; }
                case 6: { var g = r.Message(); a.G = ParseGraph(ref g); break; }
                case 7: r.RepeatedFloat(a.Floats); break;
                case 8: r.RepeatedVarint(a.Ints); break;
                case 9: a.Strings.Add(r.String()); break;
                case 10: { var t = r.Message(); a.Tensors.Add(TensorProto.Parse(ref t)); break; }
                case 11: { var g = r.Message(); a.Graphs.Add(ParseGraph(ref g)); break; }
                case 20: a.Type = (int)r.Int64(); break;
                case 21: a.RefAttrName = r.String(); break;
                default: r.Skip(); break;
            }
        }
        if (a.Type == 0)
        {
            // IR version < 2 files may omit the type; infer it from the field present.
            a.Type = a.G != null ? 5 : a.T != null ? 4 : a.Graphs.Count > 0 ? 10 : a.Tensors.Count > 0 ? 9 : a.Floats.Count > 0 ? 6 : a.Ints.Count > 0 ? 7 : a.Strings.Count > 0 ? 8 : a.S.Length > 0 ? 3 : a.F != 0 ? 1 : 2;
        }
        return a;
    }

    private static ValueInfo ParseValueInfo(ref ProtoReader r)
    {
        var v = new ValueInfo();
        while (r.Next(out int f))
        {
            if (f == 1) v.Name = r.String();
            else if (f == 2)
            {
                var tp = r.Message();
                while (tp.Next(out int g))
                {
                    if (g == 1)
                    {
                        var tt = tp.Message();
                        while (tt.Next(out int h))
                        {
                            if (h == 1) v.Elem = (ElementType)tt.Int64();
                            else if (h == 2)
                            {
                                v.Dims = [];
                                var sh = tt.Message();
                                while (sh.Next(out int k))
                                {
                                    if (k != 1) { sh.Skip(); continue; }
                                    var d = sh.Message();
                                    long val = -1;
                                    string? par = null;
                                    while (d.Next(out int q))
                                    {
                                        if (q == 1) val = d.Int64();
                                        else if (q == 2) par = d.String();
                                        else d.Skip();
                                    }
                                    v.Dims.Add((val, par));
                                }
                            }
                            else tt.Skip();
                        }
                    }
                    else
                    {
                        v.Kind = g switch { 4 => "sequence", 5 => "map", 9 => "optional", 8 => "sparse tensor", _ => "unknown" };
                        tp.Skip();
                    }
                }
            }
            else r.Skip();
        }
        return v;
    }

    // ---------------------------------------------------------------- IR construction

    private void Build(ModelProto p)
    {
        if (p.IrVersion < 3)
            throw new LlmaotException(Codes.UnsupportedVersion, $"ONNX IR version {p.IrVersion} is older than 3; convert it with onnx.version_converter first");
        foreach (var (d, v) in p.Opsets)
            _model.Opsets[d == "ai.onnx" ? "" : d] = checked((int)v);
        if (!_model.Opsets.ContainsKey("")) _model.Opsets[""] = 1;
        var g = BuildGraph(p.Graph!, new Dictionary<string, Value>(StringComparer.Ordinal), null, p.FunctionNames);
        _model.Graph.Name = g.Name;
        _model.Graph.Inputs.AddRange(g.Inputs);
        _model.Graph.Outputs.AddRange(g.Outputs);
        _model.Graph.Nodes = g.Nodes;
        _model.Graph.Constants.AddRange(g.Constants);
    }

    private Graph BuildGraph(GraphProto gp, Dictionary<string, Value> outer, Graph? parent, List<string> functions)
    {
        if (gp.HasSparse) throw new LlmaotException(Codes.UnsupportedType, $"graph '{gp.Name}' has sparse initializers, which llmaot does not support; densify them before compiling");
        var g = new Graph { Name = gp.Name, Parent = parent };
        var scope = new Dictionary<string, Value>(outer, StringComparer.Ordinal);
        var valueInfo = new Dictionary<string, ValueInfo>(StringComparer.Ordinal);
        foreach (var vi in gp.ValueInfos) valueInfo[vi.Name] = vi;
        foreach (var vi in gp.Outputs) valueInfo.TryAdd(vi.Name, vi);

        var inputNames = new HashSet<string>(gp.Inputs.Select(i => i.Name), StringComparer.Ordinal);
        foreach (var t in gp.Initializers)
        {
            var v = _model.NewValue(t.Name, new TensorType(t.DataType, new Shape(t.Dims)));
            v.Const = Data(t, $"initializer '{t.Name}'");
            v.IsOverridableDefault = inputNames.Contains(t.Name);
            scope[t.Name] = v;
            g.Constants.Add(v);
        }
        foreach (var vi in gp.Inputs)
        {
            if (scope.TryGetValue(vi.Name, out var init) && init.Const != null && !outer.ContainsKey(vi.Name))
                continue; // an initializer listed as input: an overridable default, kept as a constant
            if (vi.Kind != "tensor")
                throw new LlmaotException(Codes.UnsupportedType, $"graph input '{vi.Name}' is a {vi.Kind}; llmaot supports tensor inputs only");
            var v = _model.NewValue(vi.Name, ToType(vi));
            scope[vi.Name] = v;
            g.Inputs.Add(v);
        }

        var pending = new List<(NodeProto P, Node N)>();
        foreach (var np in gp.Nodes)
        {
            string domain = np.Domain == "ai.onnx" ? "" : np.Domain;
            if (!_model.Opsets.TryGetValue(domain, out int opset))
            {
                if (functions.Contains(np.Op))
                    throw new LlmaotException(Codes.UnsupportedOp, $"node '{np.Name}' calls model-local function '{domain}.{np.Op}', which llmaot does not inline yet; export with functions inlined");
                throw new LlmaotException(Codes.BadGraph, $"node '{np.Name}' ({np.Op}) uses domain '{domain}' that the model does not import in opset_import");
            }
            var node = new Node(_model.NextNodeId++, np.Name.Length > 0 ? np.Name : $"{np.Op}_{_model.NextNodeId - 1}", np.Op, domain, opset);
            pending.Add((np, node));
        }

        // Resolve names; ONNX requires topological order but some exporters do not keep it, so sort here.
        var producers = new Dictionary<string, int>(StringComparer.Ordinal);
        var duplicates = new HashSet<int>();
        for (int i = 0; i < pending.Count; i++)
            foreach (var o in pending[i].P.Outputs)
                if (o.Length > 0)
                {
                    if (producers.TryGetValue(o, out int first) && pending[i].P.Op == "Constant" && pending[first].P.Op == "Constant" && pending[i].P.Outputs.Count == 1)
                    {
                        // Some exporters repeat a Constant under a name already defined; as ONNX Runtime does, the last definition wins.
                        if (!SameConstant(pending[first].P, pending[i].P))
                            _model.Warnings.Add($"node '{pending[i].N.Name}' redefines '{o}' (first defined by '{pending[first].N.Name}'); the last definition is used");
                        duplicates.Add(first);
                        producers[o] = i;
                        continue;
                    }
                    if (!producers.TryAdd(o, i))
                        throw new LlmaotException(Codes.BadGraph, $"value '{o}' is produced by both node '{pending[producers[o]].N.Name}' and node '{pending[i].N.Name}'; the graph is not in SSA form");
                    if (g.Inputs.Any(v => v.Name == o))
                        throw new LlmaotException(Codes.BadGraph, $"value '{o}' is a graph input and also produced by node '{pending[i].N.Name}'; the graph is not in SSA form");
                    // Some exporters emit a node output with an initializer's name; as ONNX Runtime does, the node's value wins.
                    if (scope.TryGetValue(o, out var shadowed) && shadowed.Const != null && !outer.ContainsKey(o))
                    {
                        g.Constants.Remove(shadowed);
                        scope.Remove(o);
                    }
                }
        if (duplicates.Count > 0)
        {
            pending = pending.Where((_, i) => !duplicates.Contains(i)).ToList();
            producers.Clear();
            for (int i = 0; i < pending.Count; i++)
                foreach (var o in pending[i].P.Outputs)
                    if (o.Length > 0) producers[o] = i;
        }
        var order = TopoOrder(pending, producers, scope);
        foreach (int i in order)
        {
            var (np, node) = pending[i];
            foreach (var name in np.Inputs)
            {
                if (name.Length == 0) { node.Inputs.Add(null); continue; }
                if (!scope.TryGetValue(name, out var v))
                    throw new LlmaotException(Codes.BadGraph, $"node '{node.Name}' ({node.OpLabel}) reads '{name}', which no node, input or initializer provides");
                node.Inputs.Add(v);
            }
            foreach (var ap in np.Attrs) node.Attrs[ap.Name] = ToAttr(ap, scope, g, functions, node);
            foreach (var name in np.Outputs)
            {
                var type = valueInfo.TryGetValue(name, out var vi) && vi.Kind == "tensor" ? ToType(vi) : new TensorType(ElementType.Undefined, null);
                var v = _model.NewValue(name.Length > 0 ? name : $"{node.Name}:unused{node.Outputs.Count}", type);
                v.Producer = node;
                node.Outputs.Add(v);
                if (name.Length > 0) scope[name] = v;
            }
            g.Nodes.Add(node);
        }
        foreach (var vi in gp.Outputs)
        {
            if (!scope.TryGetValue(vi.Name, out var v))
                throw new LlmaotException(Codes.BadGraph, $"graph output '{vi.Name}' is produced by nothing");
            g.Outputs.Add(v);
        }
        return g;
    }

    private static List<int> TopoOrder(List<(NodeProto P, Node N)> nodes, Dictionary<string, int> producers, Dictionary<string, Value> scope)
    {
        var order = new List<int>(nodes.Count);
        var state = new byte[nodes.Count]; // 0 new, 1 visiting, 2 done
        var stack = new Stack<(int Node, int Next)>();
        // Subgraph bodies read outer names implicitly; they count as dependencies too.
        var depsOf = nodes.Select(n => n.P.Inputs.Concat(ImplicitInputs(n.P)).ToList()).ToList();
        for (int s = 0; s < nodes.Count; s++)
        {
            if (state[s] != 0) continue;
            stack.Push((s, 0));
            state[s] = 1;
            while (stack.Count > 0)
            {
                var (n, k) = stack.Pop();
                var deps = depsOf[n];
                if (k < deps.Count)
                {
                    stack.Push((n, k + 1));
                    string dep = deps[k];
                    if (dep.Length > 0 && producers.TryGetValue(dep, out int p))
                    {
                        if (p == n)
                        {
                            if (!scope.ContainsKey(dep)) throw new LlmaotException(Codes.BadGraph, $"node '{nodes[n].N.Name}' reads its own output '{dep}'");
                        }
                        else if (state[p] == 1) throw new LlmaotException(Codes.BadGraph, $"the graph has a cycle through node '{nodes[p].N.Name}'");
                        else if (state[p] == 0) { state[p] = 1; stack.Push((p, 0)); }
                    }
                }
                else
                {
                    state[n] = 2;
                    order.Add(n);
                }
            }
        }
        return order;
    }

    /// <summary>True when both nodes are Constant nodes with byte-identical attributes.</summary>
    private bool SameConstant(NodeProto a, NodeProto b)
    {
        if (a.Op != "Constant" || b.Op != "Constant" || a.Domain != b.Domain || a.Attrs.Count != 1 || b.Attrs.Count != 1) return false;
        var x = a.Attrs[0];
        var y = b.Attrs[0];
        if (x.Name != y.Name || x.Type != y.Type || x.F != y.F || x.I != y.I || x.S != y.S || !x.Floats.SequenceEqual(y.Floats) || !x.Ints.SequenceEqual(y.Ints)) return false;
        if (x.T == null || y.T == null) return x.T == y.T;
        try { return x.T.DataType == y.T.DataType && x.T.Dims.SequenceEqual(y.T.Dims) && x.T.ToBytes(_file.All).AsSpan().SequenceEqual(y.T.ToBytes(_file.All)); }
        catch (ProtoFormatException) { return false; }
    }

    private static List<string> ImplicitInputs(NodeProto n)
    {
        var names = new List<string>();
        foreach (var a in n.Attrs)
        {
            if (a.G != null) CollectOuterNames(a.G, names);
            foreach (var sg in a.Graphs) CollectOuterNames(sg, names);
        }
        return names;
    }

    /// <summary>Names a subgraph reads that it does not define itself (so they come from an enclosing scope).</summary>
    private static void CollectOuterNames(GraphProto g, List<string> into)
    {
        var defined = new HashSet<string>(StringComparer.Ordinal);
        foreach (var i in g.Inputs) defined.Add(i.Name);
        foreach (var t in g.Initializers) defined.Add(t.Name);
        foreach (var n in g.Nodes) foreach (var o in n.Outputs) defined.Add(o);
        foreach (var n in g.Nodes)
        {
            foreach (var i in n.Inputs) if (i.Length > 0 && !defined.Contains(i)) into.Add(i);
            var inner = new List<string>();
            foreach (var a in n.Attrs)
            {
                if (a.G != null) CollectOuterNames(a.G, inner);
                foreach (var sg in a.Graphs) CollectOuterNames(sg, inner);
            }
            foreach (var i in inner) if (!defined.Contains(i)) into.Add(i);
        }
    }

    private Attr ToAttr(AttrProto a, Dictionary<string, Value> scope, Graph g, List<string> functions, Node node)
    {
        var kind = (Attr.Kinds)a.Type;
        if (kind is Attr.Kinds.SparseTensor or Attr.Kinds.SparseTensors or Attr.Kinds.TypeProto or Attr.Kinds.TypeProtos)
            throw new LlmaotException(Codes.BadAttribute, node, $"attribute '{a.Name}' is of kind {kind}, which llmaot does not support");
        return new Attr
        {
            Name = a.Name,
            Kind = kind,
            F = a.F,
            I = a.I,
            S = a.S,
            T = a.T == null ? null : (new TensorType(a.T.DataType, new Shape(a.T.Dims)), Data(a.T, $"attribute '{a.Name}' of node '{node.Name}'")),
            G = a.G == null ? null : BuildGraph(a.G, scope, g, functions),
            Floats = a.Floats.ToArray(),
            Ints = a.Ints.ToArray(),
            Strings = a.Strings.ToArray(),
            Graphs = a.Graphs.Select(sg => BuildGraph(sg, scope, g, functions)).ToArray(),
            RefAttrName = a.RefAttrName.Length > 0 ? a.RefAttrName : null,
        };
    }

    private TensorData Data(TensorProto t, string what)
    {
        if (t.DataType == ElementType.String)
            throw new LlmaotException(Codes.UnsupportedType, $"{what} holds strings; llmaot supports numeric tensors only");
        if (ElementTypes.BlockBytes(t.DataType) == 0)
            throw new LlmaotException(Codes.UnsupportedType, $"{what} has unknown data type {(int)t.DataType}");
        long need;
        try { need = ElementTypes.ByteCount(t.DataType, t.ElementCount); }
        catch (OverflowException) { throw new LlmaotException(Codes.MalformedModel, $"{what} has dims {string.Join("x", t.Dims)} that overflow"); }
        if (t.IsExternal || t.ExternalData != null && t.RawOffset < 0 && t.FloatData == null)
            return External(t, what, need);
        if (t.RawOffset >= 0)
        {
            if (t.RawLength != need)
                throw new LlmaotException(Codes.MalformedModel, $"{what} has {t.RawLength} bytes of raw_data; dims {string.Join("x", t.Dims)} of {ElementTypes.Name(t.DataType)} need {need}");
            return TensorData.Slice(_file, t.RawOffset, t.RawLength);
        }
        try { return TensorData.Of(t.ToBytes(_file.All)); }
        catch (ProtoFormatException e) { throw new LlmaotException(Codes.MalformedModel, $"{what}: {e.Message}"); }
    }

    private TensorData External(TensorProto t, string what, long need)
    {
        string? loc = null;
        long offset = 0, length = -1;
        foreach (var (k, v) in t.ExternalData ?? [])
        {
            if (k == "location") loc = v;
            else if (k == "offset") offset = long.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
            else if (k == "length") length = long.Parse(v, System.Globalization.CultureInfo.InvariantCulture);
        }
        if (loc == null) throw new LlmaotException(Codes.ExternalData, $"{what} is stored externally but names no location");
        string full = System.IO.Path.GetFullPath(System.IO.Path.Combine(_dir, loc));
        if (!full.StartsWith(_dir, StringComparison.Ordinal))
            throw new LlmaotException(Codes.ExternalData, $"{what}: external data location '{loc}' points outside the model's folder");
        if (!_external.TryGetValue(full, out var mf))
        {
            if (!File.Exists(full)) throw new LlmaotException(Codes.ExternalData, $"{what}: external data file '{loc}' not found next to the model");
            mf = new MappedFile(full);
            _external[full] = mf;
            _model.Owned.Add(mf);
        }
        if (length < 0) length = need;
        if (length != need) throw new LlmaotException(Codes.ExternalData, $"{what}: external length {length} but dims need {need} bytes");
        if (offset < 0 || offset + length > mf.Length) throw new LlmaotException(Codes.ExternalData, $"{what}: external range [{offset}, +{length}) is outside '{loc}' ({mf.Length} bytes)");
        return TensorData.Slice(mf, offset, checked((int)length));
    }

    private TensorType ToType(ValueInfo vi)
    {
        if (vi.Dims == null) return new TensorType(vi.Elem, null);
        var dims = vi.Dims.Select(d => d.Param is { Length: > 0 } p ? Dim.Sym(p) : d.Value >= 0 ? Dim.Of(d.Value) : Dim.Sym($"unk__{_anonDims++}")).ToArray();
        return new TensorType(vi.Elem, new Shape(dims));
    }
}
