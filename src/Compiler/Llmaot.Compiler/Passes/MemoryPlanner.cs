using Llmaot.Ir;
using Llmaot.Ops;

namespace Llmaot.Passes;

/// <summary>
/// Static memory plan. Graph inputs and outputs live in the caller's buffers, constants in the weights blob,
/// views (Reshape, ...) alias their input, and every other tensor, plus each node's scratch, gets an offset in
/// one arena. Offsets are chosen greedily, biggest first, so that tensors whose lifetimes (first write to last
/// read, in node order) overlap never share bytes. The arena size is the plan's peak. Values of control-flow bodies (If
/// branches, Loop and Scan bodies) get arena space too, alive for their whole control-flow node.
/// </summary>
public static class MemoryPlanner
{
    public const int Alignment = Runtime.Arena.Alignment;

    private sealed record Block(object Owner, long Size, int Start, int End)
    {
        public long Offset = -1;
    }

    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        var outputs = new HashSet<Value>(g.Outputs);
        var inputs = new HashSet<Value>(g.Inputs);
        var index = new Dictionary<Node, int>();
        for (int i = 0; i < g.Nodes.Count; i++) index[g.Nodes[i]] = i;

        // Aliases: a view's output shares its input's storage unless it must land in an output buffer.
        foreach (var b in ControlFlow.AllGraphs(g).Skip(1))
            b.Inputs.ForEach(v => { v.AliasOf = null; v.ArenaOffset = -1; });
        foreach (var n in ControlFlow.AllNodes(g))
        {
            n.Outputs.ForEach(v => { v.AliasOf = null; v.ArenaOffset = -1; });
            if (OpRegistry.Get(n).IsView(n) && !outputs.Contains(n.Outputs[0]))
                n.Outputs[0].AliasOf = Root(n.Inputs[0]!);
        }

        // Lifetimes of arena roots. A control-flow node's bodies are planned as part of it: every value they define
        // lives for the whole node (simple, and safe however often the body runs), and every outer value they read
        // stays alive until the node ends.
        var start = new Dictionary<Value, int>();
        var end = new Dictionary<Value, int>();
        var order = new List<Value>();
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            foreach (var v in n.Inputs.Concat(ControlFlow.OuterReads(n)))
                if (v != null && Root(v) is var r && start.ContainsKey(r)) end[r] = Math.Max(end[r], i);
            foreach (var v in n.Outputs.Concat(ControlFlow.BodyValues(n)))
            {
                if (v.AliasOf != null || outputs.Contains(v) || inputs.Contains(v) || v.IsConst) continue;
                start[v] = i;
                end[v] = i;
                order.Add(v);
            }
        }
        var blocks = new List<Block>();
        foreach (var v in order) blocks.Add(new Block(v, Align(v.Bytes), start[v], end[v]));
        foreach (var n in g.Nodes)
            foreach (var s in ControlFlow.SelfAndNested(n))
                if (s.ScratchBytes > 0) blocks.Add(new Block(s, Align(s.ScratchBytes), index[n], index[n]));

        var placed = new List<Block>();
        foreach (var b in blocks.OrderByDescending(b => b.Size).ThenBy(b => b.Start))
        {
            var conflicts = placed.Where(p => p.Start <= b.End && b.Start <= p.End).OrderBy(p => p.Offset).ToList();
            long off = 0;
            foreach (var p in conflicts)
            {
                if (off + b.Size <= p.Offset) break;
                off = Math.Max(off, p.Offset + p.Size);
            }
            b.Offset = off;
            placed.Add(b);
        }
        long peak = 0;
        foreach (var b in placed)
        {
            if (b.Owner is Value v) v.ArenaOffset = b.Offset;
            else ((Node)b.Owner).ScratchOffset = b.Offset;
            peak = Math.Max(peak, b.Offset + b.Size);
        }
        m.ArenaBytes = peak;
    }

    /// <summary>The value whose storage <paramref name="v"/> uses.</summary>
    public static Value Root(Value v)
    {
        while (v.AliasOf != null) v = v.AliasOf;
        return v;
    }

    private static long Align(long n) => (n + Alignment - 1) / Alignment * Alignment;
}
