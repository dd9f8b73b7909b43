using Llmaot.Ir;

namespace Llmaot.Passes;

/// <summary>
/// Rewrites that expose fusions without changing results:
/// MaxPool → Relu becomes Relu → MaxPool (max and a non-decreasing function commute: max(relu(x)) = relu(max(x))),
/// so the Relu can then fuse into the Conv or Gemm that produces the MaxPool's input.
/// </summary>
public static class Canonicalize
{
    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        var users = g.Users();
        var outputs = new HashSet<Value>(g.Outputs);
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var pool = g.Nodes[i];
            if (pool.Op != "MaxPool" || pool.Domain != "" || pool.Outputs.Count > 1 && !pool.Outputs[1].Name.Contains(":unused", StringComparison.Ordinal)) continue;
            var pooled = pool.Outputs[0];
            if (outputs.Contains(pooled) || !users.TryGetValue(pooled, out var us) || us.Count != 1) continue;
            var relu = us[0];
            if (relu.Op != "Relu" || relu.Domain != "" || pooled.Elem != Runtime.ElementType.Float) continue;
            var x = pool.Inputs[0]!;
            // Relu now reads x and writes a new value; MaxPool reads that and writes the Relu's old output.
            var activated = m.NewValue(relu.Name + "/pre_pool", x.Type);
            activated.Producer = relu;
            var result = relu.Outputs[0];
            relu.Inputs[0] = x;
            relu.Outputs[0] = activated;
            pool.Inputs[0] = activated;
            pool.Outputs[0] = result;
            result.Producer = pool;
            pooled.Producer = null;
            int ri = g.Nodes.IndexOf(relu);
            g.Nodes.RemoveAt(ri);
            g.Nodes.Insert(i, relu);
            users = g.Users();
        }
    }
}
