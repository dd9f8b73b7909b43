using Llmaot.Runtime;

namespace Llmaot.Ir;

/// <summary>
/// An SSA value: produced once (by a node, or as a graph input or constant), read by any number of nodes.
/// </summary>
public sealed class Value(int id, string name, TensorType type)
{
    /// <summary>Stable number within the model, used for generated names.</summary>
    public int Id { get; set; } = id;

    /// <summary>The ONNX name (kept for comments, dumps and I/O).</summary>
    public string Name { get; set; } = name;

    public TensorType Type { get; set; } = type;

    /// <summary>The node that computes this value; null for graph inputs and constants.</summary>
    public Node? Producer { get; set; }

    /// <summary>Constant contents, when known at compile time.</summary>
    public TensorData? Const { get; set; }

    /// <summary>An initializer that the model also lists as a graph input (IR &lt; 4 exporters): ONNX lets a caller override it; llmaot compiles the default in as a constant.</summary>
    public bool IsOverridableDefault { get; set; }

    // --- decisions of later phases ---

    /// <summary>Byte offset in the arena (Planned phase); -1 when not in the arena.</summary>
    public long ArenaOffset { get; set; } = -1;

    /// <summary>When set, this value shares the storage of <see cref="AliasOf"/> (Reshape and friends).</summary>
    public Value? AliasOf { get; set; }

    /// <summary>Byte offset inside the packed weights blob (Emitted phase); -1 when not packed.</summary>
    public long WeightOffset { get; set; } = -1;

    public bool IsConst => Const != null;

    public ElementType Elem => Type.Elem;

    /// <summary>The static shape (throws when unknown).</summary>
    public Shape Shape => Type.Shape ?? throw new InvalidOperationException($"value '{Name}' has no inferred shape");

    /// <summary>Storage bytes for a static shape.</summary>
    public long Bytes => ElementTypes.ByteCount(Elem, Shape.Count);

    public override string ToString() => $"%{Id}";
}

/// <summary>An attribute value, in ONNX's kinds.</summary>
public sealed class Attr
{
    public enum Kinds { Float = 1, Int = 2, String = 3, Tensor = 4, Graph = 5, Floats = 6, Ints = 7, Strings = 8, Tensors = 9, Graphs = 10, SparseTensor = 11, SparseTensors = 12, TypeProto = 13, TypeProtos = 14 }

    public required string Name { get; init; }
    public Kinds Kind { get; init; }
    public float F { get; init; }
    public long I { get; init; }
    public string S { get; init; } = "";
    public (TensorType Type, TensorData Data)? T { get; init; }
    public Graph? G { get; init; }
    public float[] Floats { get; init; } = [];
    public long[] Ints { get; init; } = [];
    public string[] Strings { get; init; } = [];
    public Graph[] Graphs { get; init; } = [];
    /// <summary>For ref_attr_name (attributes of function bodies).</summary>
    public string? RefAttrName { get; init; }

    public override string ToString() => Kind switch
    {
        Kinds.Float => F.ToString("R", System.Globalization.CultureInfo.InvariantCulture),
        Kinds.Int => I.ToString(System.Globalization.CultureInfo.InvariantCulture),
        Kinds.String => "\"" + S + "\"",
        Kinds.Ints => "[" + string.Join(",", Ints) + "]",
        Kinds.Floats => "[" + string.Join(",", Floats.Select(f => f.ToString("R", System.Globalization.CultureInfo.InvariantCulture))) + "]",
        Kinds.Strings => "[" + string.Join(",", Strings.Select(s => "\"" + s + "\"")) + "]",
        Kinds.Tensor => $"tensor<{T!.Value.Type}>",
        Kinds.Graph => $"graph<{G!.Name}>",
        Kinds.Graphs => $"graphs<{Graphs.Length}>",
        _ => Kind.ToString(),
    };
}

/// <summary>One operation. Inputs may contain null for omitted optional inputs.</summary>
public sealed class Node(int id, string name, string op, string domain, int opset)
{
    public int Id { get; set; } = id;
    public string Name { get; set; } = name;
    public string Op { get; } = op;
    /// <summary>"" for the default ONNX domain.</summary>
    public string Domain { get; } = domain;
    /// <summary>The opset version in force for this node's domain.</summary>
    public int Opset { get; } = opset;
    public Dictionary<string, Attr> Attrs { get; } = new(StringComparer.Ordinal);
    public List<Value?> Inputs { get; } = [];
    public List<Value> Outputs { get; } = [];

    /// <summary>The kernel chosen by the Selected phase, e.g. "Conv.Run2D+bias+Relu". Printed, never re-decided by emitters.</summary>
    public string? Kernel { get; set; }

    /// <summary>Byte offset of this node's scratch space in the arena (Planned phase); -1 if none.</summary>
    public long ScratchOffset { get; set; } = -1;

    /// <summary>Scratch bytes the chosen kernel needs.</summary>
    public long ScratchBytes { get; set; }

    /// <summary>Nodes folded into this one by fusion (for comments): e.g. the Add and Relu after a Conv.</summary>
    public List<string> Fused { get; } = [];

    /// <summary>Free-form facts that fusion and selection record for the emitter (e.g. "activation" = "Relu").</summary>
    public Dictionary<string, string> Facts { get; } = new(StringComparer.Ordinal);

    public string OpLabel => (Domain.Length == 0 ? Op : Domain + "." + Op) + ", opset " + Opset;

    public Value? In(int i) => i < Inputs.Count ? Inputs[i] : null;

    public long Int(string name, long dflt) => Attrs.TryGetValue(name, out var a) ? a.I : dflt;
    public float Float(string name, float dflt) => Attrs.TryGetValue(name, out var a) ? a.F : dflt;
    public string Str(string name, string dflt) => Attrs.TryGetValue(name, out var a) ? a.S : dflt;
    public long[]? Ints(string name) => Attrs.TryGetValue(name, out var a) ? a.Ints : null;

    public override string ToString() => $"#{Id} {Op} '{Name}'";
}

/// <summary>A graph: inputs, outputs and nodes in topological order. Subgraphs (If/Loop/Scan bodies) may read outer values.</summary>
public sealed class Graph
{
    public string Name { get; set; } = "";
    public List<Value> Inputs { get; } = [];
    public List<Value> Outputs { get; } = [];
    public List<Node> Nodes { get; set; } = [];
    /// <summary>Constants (initializers and Constant nodes after import) that are not graph inputs.</summary>
    public List<Value> Constants { get; } = [];
    public Graph? Parent { get; set; }

    /// <summary>
    /// Every value read by some node of this graph, with its readers. A control-flow node counts as a reader of every
    /// value its subgraph bodies read (as node inputs or body outputs), so values they capture are never rewired away.
    /// </summary>
    public Dictionary<Value, List<Node>> Users()
    {
        var u = new Dictionary<Value, List<Node>>();
        foreach (var n in Nodes)
        {
            void Add(Value? v)
            {
                if (v == null) return;
                if (!u.TryGetValue(v, out var l)) u[v] = l = [];
                if (!l.Contains(n)) l.Add(n);
            }
            void Nested(Graph body)
            {
                foreach (var m in body.Nodes)
                {
                    foreach (var v in m.Inputs) Add(v);
                    foreach (var a in m.Attrs.Values) { if (a.G != null) Nested(a.G); foreach (var g in a.Graphs) Nested(g); }
                }
                foreach (var v in body.Outputs) Add(v);
            }
            foreach (var v in n.Inputs) Add(v);
            foreach (var a in n.Attrs.Values) { if (a.G != null) Nested(a.G); foreach (var g in a.Graphs) Nested(g); }
        }
        return u;
    }
}

/// <summary>A whole model plus the facts later phases record about it.</summary>
public sealed class Model : IDisposable
{
    public required Graph Graph { get; init; }
    public long IrVersion { get; init; }
    public Dictionary<string, int> Opsets { get; } = new(StringComparer.Ordinal);
    public string Producer { get; init; } = "";
    public string SourceName { get; init; } = "model";
    /// <summary>SHA-256 of the model file, hex; part of the provenance header.</summary>
    public string Sha256 { get; init; } = "";
    /// <summary>Mapped files that constants point into; disposed with the model.</summary>
    public List<IDisposable> Owned { get; } = [];

    /// <summary>Warnings found while importing (printed by the CLI).</summary>
    public List<string> Warnings { get; } = [];

    /// <summary>Arena bytes (Planned phase).</summary>
    public long ArenaBytes { get; set; }

    /// <summary>Next free value id.</summary>
    public int NextValueId { get; set; }
    /// <summary>Next free node id.</summary>
    public int NextNodeId { get; set; }

    public Value NewValue(string name, TensorType type) => new(NextValueId++, name, type);

    public void Dispose()
    {
        foreach (var d in Owned) d.Dispose();
        Owned.Clear();
    }
}
