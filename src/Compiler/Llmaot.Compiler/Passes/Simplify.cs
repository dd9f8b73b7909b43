using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Ops;

namespace Llmaot.Passes;

/// <summary>
/// Dead-code elimination (nodes whose outputs nobody needs, and nodes folded to constants), then a check that
/// every remaining shape is static: code is only emitted for fully known shapes.
/// </summary>
public static class Simplify
{
    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        var live = Prune(g, g, new HashSet<Value>(g.Outputs));
        g.Constants.RemoveAll(c => !live.Contains(c));
        // Folded values that are still read become constants of the graph.
        foreach (var v in live)
            if (v.IsConst && v.Producer != null && !g.Constants.Contains(v)) { v.Producer = null; g.Constants.Add(v); }
        g.Constants.Sort((a, b) => a.Id.CompareTo(b.Id));

        foreach (var n in ControlFlow.AllNodes(g))
            foreach (var v in n.Inputs.Concat(n.Outputs))
                if (v != null && v.Type.Shape is not { IsStatic: true } && !v.Name.Contains(":unused"))
                    throw new LlmaotException(Codes.UnboundDim, n,
                        $"value '{v.Name}' has shape {v.Type.Shape?.ToString() ?? "[?]"} that is not static; bind the symbolic dims with --dim SYM=N or --shape INPUT=d0,d1,...");
        foreach (var b in ControlFlow.AllGraphs(g).Skip(1))
            foreach (var v in b.Inputs.Concat(b.Outputs))
                if (v.Type.Shape is not { IsStatic: true })
                    throw new LlmaotException(Codes.UnboundDim, $"subgraph '{b.Name}' value '{v.Name}' has shape {v.Type.Shape?.ToString() ?? "[?]"} that is not static");
        foreach (var v in g.Outputs)
            if (v.Type.Shape is not { IsStatic: true })
                throw new LlmaotException(Codes.UnboundDim, $"output '{v.Name}' has shape {v.Type.Shape?.ToString() ?? "[?]"} that is not static; bind the symbolic dims with --dim or --shape");
    }

    /// <summary>
    /// Removes the nodes of <paramref name="g"/> whose outputs nobody needs (or that folded to constants), then prunes
    /// the bodies of the control-flow nodes that stay. Returns every value still read, <paramref name="live"/> included:
    /// what the bodies read from outside keeps its producer alive. Constants of a body (initializers and folded values)
    /// move to the main graph's <see cref="Graph.Constants"/>, so every weight is packed in one place.
    /// </summary>
    private static HashSet<Value> Prune(Graph root, Graph g, HashSet<Value> live)
    {
        var kept = new List<Node>();
        for (int i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (n.Outputs.All(v => v.IsConst) || !n.Outputs.Any(live.Contains)) continue;
            kept.Add(n);
            foreach (var v in n.Inputs) if (v != null) live.Add(v);
            foreach (var b in ControlFlow.Bodies(n)) live.UnionWith(Prune(root, b, new HashSet<Value>(b.Outputs)));
        }
        kept.Reverse();
        g.Nodes = kept;
        if (g != root)
        {
            foreach (var c in g.Constants) if (live.Contains(c) && !root.Constants.Contains(c)) root.Constants.Add(c);
            g.Constants.Clear();
            foreach (var v in live)
                if (v.IsConst && v.Producer != null && !root.Constants.Contains(v)) { v.Producer = null; root.Constants.Add(v); }
        }
        return live;
    }
}

/// <summary>Records each node's kernel choice in the IR (<see cref="Node.Kernel"/>, <see cref="Node.ScratchBytes"/>).</summary>
public static class KernelSelection
{
    public static void Run(Model m, CompileOptions o)
    {
        foreach (var n in ControlFlow.AllNodes(m.Graph))
        {
            var op = OpRegistry.Get(n);
            op.Select(n);
        }
    }
}
