using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Passes;

/// <summary>
/// Binds symbolic dims. <c>--shape INPUT=d0,...</c> gives an input's full shape (binding each of its symbols);
/// <c>--dim SYM=N</c> binds a symbol by name. Input dims still symbolic afterwards default to 1, with a warning.
/// </summary>
public static class SymbolBinding
{
    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        foreach (var (name, t) in o.ConstInputs)
        {
            var v = g.Inputs.FirstOrDefault(i => i.Name == name)
                ?? throw new LlmaotException(Codes.BadBinding, $"--const names '{name}', but the model's inputs are: {string.Join(", ", g.Inputs.Select(i => i.Name))}");
            if (t.Type != v.Elem) throw new LlmaotException(Codes.BadBinding, $"--const {name}: the file holds {Runtime.ElementTypes.Name(t.Type)}, the input is {Runtime.ElementTypes.Name(v.Elem)}");
            v.Type = v.Type with { Shape = new Shape(t.Shape) };
            v.Const = TensorData.Of(t.Data);
            g.Inputs.Remove(v);
            g.Constants.Add(v);
        }
        foreach (var (name, value) in o.ConstScalars)
        {
            var v = g.Inputs.FirstOrDefault(i => i.Name == name)
                ?? throw new LlmaotException(Codes.BadBinding, $"--const names '{name}', but the model's inputs are: {string.Join(", ", g.Inputs.Select(i => i.Name))}");
            if (v.Type.Shape is { } s0 && s0.Rank > 0 && !(s0.Rank == 1 && s0[0].IsKnown && s0[0].Value == 1))
                throw new LlmaotException(Codes.BadBinding, $"--const {name}={value}: the input has shape {s0}; a scalar value fits only [] or [1] (give a file for tensors)");
            var data = Ops.ConstEval.IsFloat(v.Elem) ? Ops.ConstEval.FromDoubles(v.Elem, [value]) : Ops.ConstEval.FromLongs(v.Elem, [(long)value]);
            v.Type = v.Type with { Shape = v.Type.Shape ?? Shape.Scalar };
            v.Const = data;
            g.Inputs.Remove(v);
            g.Constants.Add(v);
        }
        var bound = new Dictionary<string, long>(o.Dims, StringComparer.Ordinal);
        foreach (var (name, dims) in o.Shapes)
        {
            var v = g.Inputs.FirstOrDefault(i => i.Name == name)
                ?? throw new LlmaotException(Codes.BadBinding, $"--shape names '{name}', but the model's inputs are: {string.Join(", ", g.Inputs.Select(i => i.Name))}");
            if (dims.Any(d => d < 0)) throw new LlmaotException(Codes.BadBinding, $"--shape {name}: dims must be non-negative");
            var s = v.Type.Shape;
            if (s != null && s.Rank != dims.Length)
                throw new LlmaotException(Codes.BadBinding, $"--shape {name}={string.Join(",", dims)} has rank {dims.Length}, but the input is {s} (rank {s.Rank})");
            if (s != null)
                for (int i = 0; i < dims.Length; i++)
                {
                    if (s[i].IsKnown && s[i].Value != dims[i])
                        throw new LlmaotException(Codes.BadBinding, $"--shape {name}: dim {i} is fixed at {s[i].Value} in the model, not {dims[i]}");
                    if (!s[i].IsKnown)
                    {
                        if (bound.TryGetValue(s[i].Symbol!, out var prev) && prev != dims[i])
                            throw new LlmaotException(Codes.BadBinding, $"symbol '{s[i].Symbol}' is bound to both {prev} and {dims[i]}");
                        bound[s[i].Symbol!] = dims[i];
                    }
                }
            v.Type = v.Type with { Shape = new Shape(dims) };
        }
        var symbols = new HashSet<string>(StringComparer.Ordinal);
        foreach (var v in g.Inputs)
            if (v.Type.Shape != null)
                foreach (var d in v.Type.Shape.Dims)
                    if (!d.IsKnown) symbols.Add(d.Symbol!);
        foreach (var k in o.Dims.Keys)
            if (!symbols.Contains(k) && !o.Shapes.Keys.Any())
                o.Warnings.Add($"--dim {k}: no input dim is named '{k}'");
        foreach (var v in g.Inputs)
        {
            if (v.Type.Shape == null)
                throw new LlmaotException(Codes.UnboundDim, $"input '{v.Name}' has no shape in the model; give one with --shape {v.Name}=d0,d1,...");
            var dims = v.Type.Shape.Dims.Select(d =>
            {
                if (d.IsKnown) return d;
                if (bound.TryGetValue(d.Symbol!, out var val)) return Dim.Of(val);
                o.Warnings.Add($"input '{v.Name}': dim '{d.Symbol}' is unbound and defaults to 1 (bind it with --dim {d.Symbol}=N or --shape {v.Name}=...)");
                bound[d.Symbol!] = 1;
                return Dim.Of(1);
            }).ToArray();
            v.Type = v.Type with { Shape = new Shape(dims) };
        }
    }
}
