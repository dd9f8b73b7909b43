using System.Globalization;
using System.Text;
using Llmaot.Runtime;

namespace Llmaot.Ir;

/// <summary>
/// The readable text form of the IR:
/// <code>
/// %7 = Conv(%0, %1, %2) {group=1, pads=[2,2,2,2]} 'Convolution28' : float32[1,8,28,28]  @kernel=Conv.Run2D[...] @arena=0
/// </code>
/// Values print as %id with their ONNX name on first appearance; decisions of later phases print as @facts.
/// </summary>
public static class IrPrinter
{
    public static string Print(Model m)
    {
        var sb = new StringBuilder();
        sb.Append("model ").Append(m.SourceName).Append(" (ir ").Append(m.IrVersion).Append(", opsets ")
          .Append(string.Join(", ", m.Opsets.OrderBy(k => k.Key, StringComparer.Ordinal).Select(k => (k.Key.Length == 0 ? "ai.onnx" : k.Key) + ":" + k.Value)))
          .Append(m.Producer.Length > 0 ? ", producer " + m.Producer : "").Append(")\n");
        if (m.ArenaBytes > 0) sb.Append("arena ").Append(m.ArenaBytes).Append(" bytes\n");
        PrintGraph(sb, m.Graph, "");
        return sb.ToString();
    }

    private static void PrintGraph(StringBuilder sb, Graph g, string ind)
    {
        sb.Append(ind).Append("graph ").Append(g.Name.Length > 0 ? g.Name : "main").Append(" {\n");
        foreach (var v in g.Inputs)
            sb.Append(ind).Append("  input ").Append(Decl(v)).Append(v.ArenaOffset >= 0 ? $"  @arena={v.ArenaOffset}" : "").Append('\n'); // body inputs live in the arena
        foreach (var v in g.Constants)
            sb.Append(ind).Append("  const ").Append(Decl(v)).Append(v.IsOverridableDefault ? " (overridable default)" : "")
              .Append(v.WeightOffset >= 0 ? $" @weights={v.WeightOffset}" : "").Append('\n');
        foreach (var n in g.Nodes)
        {
            sb.Append(ind).Append("  ");
            sb.Append(string.Join(", ", n.Outputs.Select(o => o.ToString()))).Append(" = ");
            sb.Append(n.Domain.Length > 0 ? n.Domain + "." : "").Append(n.Op).Append('(');
            sb.Append(string.Join(", ", n.Inputs.Select(i => i?.ToString() ?? "_"))).Append(')');
            if (n.Attrs.Count > 0)
                sb.Append(" {").Append(string.Join(", ", n.Attrs.Values.OrderBy(a => a.Name, StringComparer.Ordinal).Select(a => a.Name + "=" + a))).Append('}');
            sb.Append(" '").Append(n.Name).Append("' : ").Append(string.Join(", ", n.Outputs.Select(o => TypeText(o) + (o.IsConst ? " const" : ""))));
            if (n.Kernel != null) sb.Append("  @kernel=").Append(n.Kernel);
            foreach (var o in n.Outputs)
            {
                if (o.ArenaOffset >= 0) sb.Append(" @arena=").Append(o.ArenaOffset);
                if (o.AliasOf != null) sb.Append(" @alias=").Append(o.AliasOf);
            }
            if (n.ScratchOffset >= 0) sb.Append(" @scratch=").Append(n.ScratchOffset).Append('+').Append(n.ScratchBytes);
            if (n.Fused.Count > 0) sb.Append(" @fused=[").Append(string.Join(", ", n.Fused)).Append(']');
            sb.Append('\n');
            foreach (var a in n.Attrs.Values)
            {
                if (a.G != null) PrintGraph(sb, a.G, ind + "    ");
                foreach (var sg in a.Graphs) PrintGraph(sb, sg, ind + "    ");
            }
        }
        sb.Append(ind).Append("  return ").Append(string.Join(", ", g.Outputs.Select(o => $"{o} '{o.Name}'"))).Append('\n');
        sb.Append(ind).Append("}\n");
    }

    private static string Decl(Value v) => $"{v} '{v.Name}' : {TypeText(v)}";

    private static string TypeText(Value v) => v.Type.ToString();

    /// <summary>A table of op counts: "Conv 2", ...</summary>
    public static string OpTable(Model m)
    {
        var counts = new SortedDictionary<string, int>(StringComparer.Ordinal);
        void Walk(Graph g)
        {
            foreach (var n in g.Nodes)
            {
                string k = (n.Domain.Length > 0 ? n.Domain + "." : "") + n.Op + " (opset " + n.Opset + ")";
                counts[k] = counts.GetValueOrDefault(k) + 1;
                foreach (var a in n.Attrs.Values)
                {
                    if (a.G != null) Walk(a.G);
                    foreach (var sg in a.Graphs) Walk(sg);
                }
            }
        }
        Walk(m.Graph);
        var sb = new StringBuilder();
        int w = counts.Keys.Select(k => k.Length).DefaultIfEmpty(4).Max();
        sb.Append("op".PadRight(w)).Append("  count  supported\n");
        foreach (var (k, c) in counts)
        {
            string op = k[..k.IndexOf(" (", StringComparison.Ordinal)];
            int dot = op.LastIndexOf('.');
            bool ok = Ops.OpRegistry.Find(dot < 0 ? "" : op[..dot], dot < 0 ? op : op[(dot + 1)..]) != null;
            sb.Append(k.PadRight(w)).Append("  ").Append(c.ToString(CultureInfo.InvariantCulture).PadLeft(5)).Append("  ").Append(ok ? "yes" : "NO").Append('\n');
        }
        return sb.ToString();
    }
}
