using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Builds replacement nodes for a decomposition: each call appends one standard node (default domain, a given opset)
/// named after the node it replaces, and returns its output value. Types are inferred when the nodes are spliced in.
/// </summary>
internal sealed class GraphBuilder(Model m, Node origin)
{
    public List<Node> Nodes { get; } = [];

    public Value Op(string op, int opset, Value?[] inputs, params (string Name, object Value)[] attrs) => Ops(op, opset, inputs, 1, attrs)[0];

    public Value[] Ops(string op, int opset, Value?[] inputs, int outputs, params (string Name, object Value)[] attrs)
    {
        var n = new Node(m.NextNodeId++, $"{origin.Name}/{op}_{Nodes.Count}", op, "", opset);
        n.Inputs.AddRange(inputs);
        foreach (var (name, value) in attrs)
            n.Attrs[name] = value switch
            {
                long l => new Attr { Name = name, Kind = Attr.Kinds.Int, I = l },
                int i => new Attr { Name = name, Kind = Attr.Kinds.Int, I = i },
                float f => new Attr { Name = name, Kind = Attr.Kinds.Float, F = f },
                string s => new Attr { Name = name, Kind = Attr.Kinds.String, S = s },
                long[] ls => new Attr { Name = name, Kind = Attr.Kinds.Ints, Ints = ls },
                _ => throw new ArgumentException(name),
            };
        var outs = new Value[outputs];
        for (int k = 0; k < outputs; k++)
        {
            outs[k] = m.NewValue($"{n.Name}:{k}", new TensorType(ElementType.Undefined, null));
            outs[k].Producer = n;
            n.Outputs.Add(outs[k]);
        }
        Nodes.Add(n);
        return outs;
    }

    /// <summary>A constant value.</summary>
    public Value Const<T>(string name, ElementType t, long[] shape, T[] values) where T : unmanaged
    {
        var v = m.NewValue($"{origin.Name}/{name}", new TensorType(t, new Shape(shape)));
        v.Const = TensorData.Of<T>(values);
        m.Graph.Constants.Add(v);
        return v;
    }

    public Value Ints(string name, params long[] values) => Const(name, ElementType.Int64, [values.Length], values);

    /// <summary>Makes <paramref name="from"/>'s result land in the original node's output <paramref name="index"/>.</summary>
    public void Bind(int index, Value from)
    {
        var target = origin.Outputs[index];
        var producer = from.Producer!;
        int k = producer.Outputs.IndexOf(from);
        producer.Outputs[k] = target;
        target.Producer = producer;
    }
}
