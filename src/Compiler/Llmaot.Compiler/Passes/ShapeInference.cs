using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Ops;

namespace Llmaot.Passes;

/// <summary>
/// Infers every value's type and shape in node order, and folds a node as soon as all of its inputs are
/// constant, so shape arithmetic (Shape → Gather → Concat → Reshape) resolves before the ops that need it.
/// </summary>
public static class ShapeInference
{
    public static void Run(Model m, CompileOptions o)
    {
        RequireSupported(m.Graph);
        InferGraph(m, m.Graph);
    }

    /// <summary>
    /// Infers the nodes of <paramref name="g"/> (the main graph or a control-flow body) in order. A control-flow node's
    /// bodies are inferred first, their inputs typed as the op passes them (<see cref="ControlFlowOp.BodyInputs"/>);
    /// then the node itself, whose outputs follow from its bodies' outputs.
    /// </summary>
    public static void InferGraph(Model m, Graph g)
    {
        var nodes = g.Nodes;
        for (int i = 0; i < nodes.Count; i++)
        {
            var n = nodes[i];
            if (n.Op == "If" && n.Domain == "" && IfOp.TakenBranch(n) is { } branch)
            {
                Inline(g, nodes, i, n, branch);
                i--; // infer the first inlined node next
                continue;
            }
            if (OpRegistry.Get(n).Expand(n, m) is { } replacement)
            {
                nodes.RemoveAt(i);
                nodes.InsertRange(i, replacement);
                i--; // infer the first replacement node next
                continue;
            }
            if (OpRegistry.Get(n) is ControlFlowOp cf)
                foreach (var (body, inputs) in cf.BodyInputs(n))
                {
                    ControlFlowOp.TypeInputs(n, body, inputs);
                    InferGraph(m, body);
                }
            InferNode(n);
        }
    }

    /// <summary>Replaces an If whose condition is constant by the nodes of its taken branch.</summary>
    private static void Inline(Graph g, List<Node> nodes, int at, Node ifNode, Graph branch)
    {
        if (branch.Outputs.Count != ifNode.Outputs.Count)
            throw new LlmaotException(Codes.BadGraph, ifNode, $"the branch has {branch.Outputs.Count} outputs, the node {ifNode.Outputs.Count}");
        nodes.RemoveAt(at);
        nodes.InsertRange(at, branch.Nodes);
        g.Constants.AddRange(branch.Constants);
        // Readers of the If's outputs now read the branch's outputs.
        var map = new Dictionary<Value, Value>();
        for (int k = 0; k < branch.Outputs.Count; k++) map[ifNode.Outputs[k]] = branch.Outputs[k];
        void Rewire(Graph gr)
        {
            foreach (var n in gr.Nodes)
            {
                for (int j = 0; j < n.Inputs.Count; j++)
                    if (n.Inputs[j] is { } v && map.TryGetValue(v, out var r)) n.Inputs[j] = r;
                foreach (var a in n.Attrs.Values)
                {
                    if (a.G != null) Rewire(a.G);
                    foreach (var sg in a.Graphs) Rewire(sg);
                }
            }
            for (int j = 0; j < gr.Outputs.Count; j++)
                if (map.TryGetValue(gr.Outputs[j], out var r)) gr.Outputs[j] = r;
        }
        Rewire(g);
        // A branch output that is an outer value or constant passed straight through keeps working: it is just read directly.
        foreach (var (from, to) in map)
            if (to.Name != from.Name && g.Outputs.Contains(to) && to.Producer != null && !to.IsConst) to.Name = from.Name;
    }

    /// <summary>Throws one error listing every node whose op llmaot does not implement.</summary>
    public static void RequireSupported(Graph g)
    {
        var missing = Unsupported(g);
        if (missing.Count == 0) return;
        var first = missing[0];
        string list = string.Join("; ", missing.Select(n => $"'{n.Name}' ({n.OpLabel})"));
        throw new LlmaotException(Codes.UnsupportedOp, first,
            $"this op is not supported by llmaot yet ({missing.Count} unsupported node{(missing.Count > 1 ? "s" : "")}: {list}); open an issue with the model, or replace these ops before export");
    }

    /// <summary>Every node (subgraphs included) whose op has no implementation.</summary>
    public static List<Node> Unsupported(Graph g)
    {
        var list = new List<Node>();
        void Walk(Graph gr)
        {
            foreach (var n in gr.Nodes)
            {
                if (OpRegistry.Find(n.Domain, n.Op) == null) list.Add(n);
                foreach (var a in n.Attrs.Values)
                {
                    if (a.G != null) Walk(a.G);
                    foreach (var sg in a.Graphs) Walk(sg);
                }
            }
        }
        Walk(g);
        return list;
    }

    /// <summary>Infers one node and folds it when its inputs are constant.</summary>
    public static void InferNode(Node n)
    {
        var op = OpRegistry.Get(n);
        foreach (var v in n.Inputs)
            if (v != null && v.Type.Elem == Runtime.ElementType.Undefined)
                throw new LlmaotException(Codes.BadGraph, n, $"input '{v.Name}' has no known type");
        try
        {
            op.Infer(n);
            if (op.Fold(n) is { } folded)
                for (int i = 0; i < folded.Length && i < n.Outputs.Count; i++)
                {
                    var y = n.Outputs[i];
                    if (y.Type.Shape is { IsStatic: true } s && folded[i].Length != Runtime.ElementTypes.ByteCount(y.Elem, s.Count))
                        throw new LlmaotException(Codes.Internal, n, $"folding produced {folded[i].Length} bytes for {y.Type}");
                    y.Const = folded[i];
                }
        }
        catch (LlmaotException) { throw; }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or IndexOutOfRangeException or OverflowException or NotSupportedException)
        {
            throw new LlmaotException(Codes.BadAttribute, n, $"cannot infer this node ({e.Message}); check its attributes and input shapes");
        }
        foreach (var y in n.Outputs)
            if (y.Type.Elem == Runtime.ElementType.Undefined && !y.Name.Contains(":unused"))
                throw new LlmaotException(Codes.Internal, n, $"output '{y.Name}' got no type");
    }
}

/// <summary>Lowers composite ops to core ops so that one fusion pass serves every source of the pattern.</summary>
public static class Lowering
{
    public static void Run(Model m, CompileOptions o)
    {
        foreach (var g in ControlFlow.AllGraphs(m.Graph).ToList()) LowerGraph(m, g);
    }

    /// <summary>Lowers the nodes of one graph (the main graph or a control-flow body); new constants join the main graph's.</summary>
    private static void LowerGraph(Model m, Graph g)
    {
        var result = new List<Node>(g.Nodes.Count);
        foreach (var n in g.Nodes)
        {
            if (n.Op == "BatchNormalization" && n.Domain == "" && !n.Outputs[0].IsConst && BatchNormalizationOp.Affine(n) is var (s, t))
            {
                var x = n.Inputs[0]!;
                var y = n.Outputs[0];
                var pshape = new Shape(new[] { Dim.Of(s.Length) }.Concat(Enumerable.Repeat(Dim.Of(1), x.Shape.Rank - 2)).ToArray());
                var sv = m.NewValue(n.Name + "/scale", new TensorType(Runtime.ElementType.Float, pshape));
                sv.Const = TensorData.Of<float>(s);
                var tv = m.NewValue(n.Name + "/shift", new TensorType(Runtime.ElementType.Float, pshape));
                tv.Const = TensorData.Of<float>(t);
                m.Graph.Constants.Add(sv);
                m.Graph.Constants.Add(tv);
                var mid = m.NewValue(n.Name + "/scaled", x.Type);
                var mul = new Node(m.NextNodeId++, n.Name + "/mul", "Mul", "", 14);
                mul.Inputs.AddRange([x, sv]);
                mul.Outputs.Add(mid);
                mid.Producer = mul;
                var add = new Node(m.NextNodeId++, n.Name + "/add", "Add", "", 14);
                add.Inputs.AddRange([mid, tv]);
                add.Outputs.Add(y);
                y.Producer = add;
                ShapeInference.InferNode(mul);
                ShapeInference.InferNode(add);
                result.Add(mul);
                result.Add(add);
            }
            else result.Add(n);
        }
        g.Nodes = result;
    }
}
