using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Passes;

/// <summary>
/// Fuses what follows a Conv, Gemm or MatMul into it, when the intermediate has exactly one reader and is not
/// a graph output:
/// <list type="bullet">
/// <item>Conv/ConvTranspose (float) → Mul by a per-channel constant: scales the weights (and bias);</item>
/// <item>Conv/ConvTranspose/Gemm/MatMul → Add of a per-channel (Conv) or per-column (Gemm, MatMul) constant: becomes the bias;</item>
/// <item>→ Relu, Clip (constant bounds) or LeakyRelu: becomes the kernel's epilogue;</item>
/// <item>Conv/ConvTranspose (float) → hard swish spelled out (y·Clip(y + 3, 0, 6) / 6, the output read by exactly that Add
/// and Mul), optionally followed by Mul and Add of scalar constants: becomes the HardSwish epilogue (with that affine).</item>
/// </list>
/// Each fused node's name is kept on the survivor, for the generated comment.
/// </summary>
public static class Fusion
{
    public static void Run(Model m, CompileOptions o)
    {
        foreach (var g in Ops.ControlFlow.AllGraphs(m.Graph).ToList()) FuseGraph(m, g);
    }

    /// <summary>Fuses within one graph (the main graph or a control-flow body).</summary>
    private static void FuseGraph(Model m, Graph g)
    {
        bool changed = true;
        while (changed)
        {
            changed = false;
            var users = g.Users();
            var outputs = new HashSet<Value>(g.Outputs);
            foreach (var n in g.Nodes.ToList())
            {
                if (n.Domain != "" || n.Op is not ("Conv" or "Gemm" or "MatMul" or "ConvTranspose") || n.Outputs[0].IsConst) continue;
                // Only the tuned float32 kernels have bias and activation epilogues.
                if (n.Outputs[0].Elem != Runtime.ElementType.Float || n.Op == "Conv" && Ops.ConvOp.UsesGeneric(n)) continue;
                if (n.Op == "ConvTranspose" && n.Inputs[0]!.Elem != ElementType.Float) continue;
                if (!n.Facts.ContainsKey("activation") && n.Op is "Conv" or "ConvTranspose" && TryHardSwish(g, n, users, outputs))
                {
                    changed = true;
                    break;
                }
                var y = n.Outputs[0];
                if (outputs.Contains(y) || !users.TryGetValue(y, out var us) || us.Count != 1) continue;
                var next = us[0];
                if (next.Domain != "" || next.Inputs.Count(v => v == y) != 1) continue;
                bool hasAct = n.Facts.ContainsKey("activation");
                bool fused = next.Op switch
                {
                    "Mul" when !hasAct && n.Op is "Conv" or "ConvTranspose" => TryScale(m, n, next),
                    "Add" when !hasAct => TryBias(m, n, next),
                    "Relu" when !hasAct => SetAct(n, "Relu"),
                    "LeakyRelu" when !hasAct => SetAct(n, "LeakyRelu", next.Float("alpha", 0.01f)),
                    "Clip" when !hasAct => TryClip(n, next),
                    _ => false,
                };
                if (!fused) continue;
                // The survivor now produces the follower's output.
                var z = next.Outputs[0];
                n.Outputs[0] = z;
                z.Producer = n;
                n.Fused.Add($"{next.Op} '{next.Name}'");
                g.Nodes.Remove(next);
                changed = true;
                break;
            }
        }
    }

    /// <summary>The single float value of a constant holding one value (any shape with one element), else null.</summary>
    private static float? ScalarConst(Value? v)
        => v is { IsConst: true, Elem: ElementType.Float } && v.Const!.As<float>().Length == 1 ? v.Const!.As<float>()[0] : null;

    /// <summary>The other input of a binary node when it is a float scalar constant and <paramref name="x"/> the first or second input.</summary>
    private static float? ScalarOperand(Node b, Value x, bool commutative)
    {
        if (b.Inputs.Count != 2) return null;
        if (b.Inputs[0] == x) return ScalarConst(b.Inputs[1]);
        if (commutative && b.Inputs[1] == x) return ScalarConst(b.Inputs[0]);
        return null;
    }

    /// <summary>
    /// y = n(...); a = Add(y, 3); c = Clip(a, 0, 6); p = Mul(y, c); q = Div(p, 6) [; r = Mul(q, s); t = Add(r, b)]
    /// (each intermediate read once and not a graph output, shapes unchanged): n gets the HardSwish epilogue and produces q (or t).
    /// </summary>
    private static bool TryHardSwish(Graph g, Node n, Dictionary<Value, List<Node>> users, HashSet<Value> outputs)
    {
        var y = n.Outputs[0];
        if (outputs.Contains(y) || !users.TryGetValue(y, out var us) || us.Count != 2) return false;
        Node? Single(Value v) => !outputs.Contains(v) && users.TryGetValue(v, out var u) && u.Count == 1 && u[0].Domain == ""
            && u[0].Outputs[0].Shape.Equals(y.Shape) ? u[0] : null;
        var add = us.FirstOrDefault(u => u.Op == "Add");
        var mul = us.FirstOrDefault(u => u.Op == "Mul");
        if (add == null || mul == null || add.Domain != "" || mul.Domain != "" || !add.Outputs[0].Shape.Equals(y.Shape)) return false;
        if (ScalarOperand(add, y, true) != 3f) return false;
        var clip = Single(add.Outputs[0]);
        if (clip is not { Op: "Clip" } || clip.Inputs[0] != add.Outputs[0]) return false;
        float lo, hi;
        if (clip.Opset < 11) { lo = clip.Float("min", float.MinValue); hi = clip.Float("max", float.MaxValue); }
        else
        {
            if (clip.In(1) is not { } mn || clip.In(2) is not { } mx || ScalarConst(mn) is not float l || ScalarConst(mx) is not float h) return false;
            lo = l; hi = h;
        }
        if (lo != 0f || hi != 6f) return false;
        if (Single(clip.Outputs[0]) != mul || !(mul.Inputs.Count == 2 && mul.Inputs.Contains(y) && mul.Inputs.Contains(clip.Outputs[0]))) return false;
        var div = Single(mul.Outputs[0]);
        if (div is not { Op: "Div" } || ScalarOperand(div, mul.Outputs[0], false) != 6f) return false;
        var chain = new List<Node> { add, clip, mul, div };
        float scale = 1f, shift = 0f;
        if (Single(div.Outputs[0]) is { Op: "Mul" } sm && ScalarOperand(sm, div.Outputs[0], true) is float s
            && Single(sm.Outputs[0]) is { Op: "Add" } sa && ScalarOperand(sa, sm.Outputs[0], true) is float b)
        {
            scale = s;
            shift = b;
            chain.Add(sm);
            chain.Add(sa);
        }
        SetAct(n, "HardSwish", scale, shift);
        var z = chain[^1].Outputs[0];
        n.Outputs[0] = z;
        z.Producer = n;
        foreach (var c in chain)
        {
            n.Fused.Add($"{c.Op} '{c.Name}'");
            g.Nodes.Remove(c);
        }
        return true;
    }

    private static bool SetAct(Node n, string act, float alpha = 0, float beta = 0)
    {
        n.Facts["activation"] = act;
        n.Facts["alpha"] = alpha.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        n.Facts["beta"] = beta.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
        return true;
    }

    private static bool TryClip(Node n, Node clip)
    {
        float lo, hi;
        if (clip.Opset < 11) { lo = clip.Float("min", float.MinValue); hi = clip.Float("max", float.MaxValue); }
        else
        {
            var min = clip.In(1);
            var max = clip.In(2);
            if (min != null && !min.IsConst || max != null && !max.IsConst) return false;
            lo = min == null ? float.NegativeInfinity : min.Const!.As<float>()[0];
            hi = max == null ? float.PositiveInfinity : max.Const!.As<float>()[0];
        }
        return SetAct(n, "Clip", lo, hi);
    }

    /// <summary>The other operand's values when it is a float constant holding one value per output channel (Conv) or column (Gemm/MatMul).</summary>
    private static float[]? PerChannel(Node n, Node follower)
    {
        var y = n.Outputs[0];
        var other = follower.Inputs[0] == y ? follower.Inputs[1] : follower.Inputs[0];
        if (other == null || !other.IsConst || other.Elem != ElementType.Float) return null;
        if (!follower.Outputs[0].Shape.Equals(y.Shape)) return null; // must not broadcast y itself
        var ys = y.Shape.ToLongs();
        var os = other.Shape.ToLongs();
        int channelDim = n.Op is "Conv" or "ConvTranspose" ? 1 : ys.Length - 1;
        if (os.Length > ys.Length) return null;
        var padded = Enumerable.Repeat(1L, ys.Length - os.Length).Concat(os).ToArray();
        for (int i = 0; i < ys.Length; i++)
            if (i != channelDim && padded[i] != 1) return null;
        long c = ys[channelDim];
        var vals = other.Const!.As<float>();
        if (padded[channelDim] == c) return vals.ToArray();
        if (padded[channelDim] == 1) return Enumerable.Repeat(vals[0], (int)c).ToArray();
        return null;
    }

    private static bool TryBias(Model m, Node n, Node add)
    {
        var b = PerChannel(n, add);
        if (b == null) return false;
        if (n.Op == "Gemm" && n.In(2) != null && !Ops.GemmOp.BiasIsRow(n)) return false;
        if (n.In(2) is { } old)
        {
            if (!old.IsConst) return false;
            var ob = old.Const!.As<float>();
            if (ob.Length != b.Length) return false;
            float beta = n.Op == "Gemm" ? n.Float("beta", 1f) : 1f;
            for (int i = 0; i < b.Length; i++) b[i] += beta * ob[i];
        }
        if (n.Op == "Gemm") n.Attrs["beta"] = new Attr { Name = "beta", Kind = Attr.Kinds.Float, F = 1f };
        SetBias(m, n, b);
        return true;
    }

    private static void SetBias(Model m, Node n, float[] b)
    {
        var v = m.NewValue(n.Name + "/bias", new TensorType(ElementType.Float, new Shape([(long)b.Length])));
        v.Const = TensorData.Of<float>(b);
        m.Graph.Constants.Add(v);
        while (n.Inputs.Count < 3) n.Inputs.Add(null);
        n.Inputs[2] = v;
    }

    private static bool TryScale(Model m, Node conv, Node mul)
    {
        var s = PerChannel(conv, mul);
        var w = conv.Inputs[1]!;
        if (s == null || !w.IsConst || conv.In(2) is { IsConst: false }) return false;
        var wv = w.Const!.As<float>().ToArray();
        if (conv.Op == "ConvTranspose")
        {
            // W: [C, M/group, k...]; output channel o = (c / (C/group))·(M/group) + mo.
            var ws = w.Shape.ToLongs();
            long cIn = ws[0], mg = ws[1], k = wv.Length / (cIn * mg);
            long cg = cIn / conv.Int("group", 1);
            for (long c = 0; c < cIn; c++)
                for (long mo = 0; mo < mg; mo++)
                {
                    float sc = s[(c / cg) * mg + mo];
                    for (long i = 0; i < k; i++) wv[(c * mg + mo) * k + i] *= sc;
                }
        }
        else
        {
            long per = wv.Length / s.Length;
            for (int c = 0; c < s.Length; c++)
                for (long i = 0; i < per; i++) wv[c * per + i] *= s[c];
        }
        var nw = m.NewValue(w.Name + "/scaled", w.Type);
        nw.Const = TensorData.Of<float>(wv);
        m.Graph.Constants.Add(nw);
        conv.Inputs[1] = nw;
        if (conv.In(2) is { } b)
        {
            var bv = b.Const!.As<float>().ToArray();
            for (int c = 0; c < bv.Length; c++) bv[c] *= s[c];
            SetBias(m, conv, bv);
        }
        return true;
    }
}
