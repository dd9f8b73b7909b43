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
        var live = new HashSet<Value>(g.Outputs);
        var kept = new List<Node>();
        for (int i = g.Nodes.Count - 1; i >= 0; i--)
        {
            var n = g.Nodes[i];
            if (n.Outputs.All(v => v.IsConst) || !n.Outputs.Any(live.Contains)) continue;
            kept.Add(n);
            foreach (var v in n.Inputs) if (v != null) live.Add(v);
        }
        kept.Reverse();
        g.Nodes = kept;
        g.Constants.RemoveAll(c => !live.Contains(c));
        // Folded values that are still read become constants of the graph.
        foreach (var v in live)
            if (v.IsConst && v.Producer != null && !g.Constants.Contains(v)) { v.Producer = null; g.Constants.Add(v); }
        g.Constants.Sort((a, b) => a.Id.CompareTo(b.Id));

        foreach (var n in g.Nodes)
            foreach (var v in n.Inputs.Concat(n.Outputs))
                if (v != null && v.Type.Shape is not { IsStatic: true } && !v.Name.Contains(":unused"))
                    throw new LlmaotException(Codes.UnboundDim, n,
                        $"value '{v.Name}' has shape {v.Type.Shape?.ToString() ?? "[?]"} that is not static; bind the symbolic dims with --dim SYM=N or --shape INPUT=d0,d1,...");
        foreach (var v in g.Outputs)
            if (v.Type.Shape is not { IsStatic: true })
                throw new LlmaotException(Codes.UnboundDim, $"output '{v.Name}' has shape {v.Type.Shape?.ToString() ?? "[?]"} that is not static; bind the symbolic dims with --dim or --shape");
    }
}

/// <summary>Records each node's kernel choice in the IR (<see cref="Node.Kernel"/>, <see cref="Node.ScratchBytes"/>).</summary>
public static class KernelSelection
{
    public static void Run(Model m, CompileOptions o)
    {
        foreach (var n in m.Graph.Nodes)
        {
            var op = OpRegistry.Get(n);
            op.Select(n);
        }
    }
}
