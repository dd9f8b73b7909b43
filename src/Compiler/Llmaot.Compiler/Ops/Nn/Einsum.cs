using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Einsum (opset 12): y[out labels] = Σ over the other labels of Π operands[their labels], one or two operands;
/// ellipsis (broadcast, right-aligned), repeated labels (diagonals), implicit output (ellipsis dims, then the labels
/// seen once, alphabetically). Numeric types.
/// </summary>
public sealed class EinsumOp : OpDef
{
    public override string Op => "Einsum";
    public override int SinceVersion => 12;

    private sealed record Plan(int[] Sizes, long[][] InStrides, long[] OutStrides, long[] OutShape);

    private static Plan Make(Node n)
    {
        string eq = n.Str("equation", "").Replace(" ", "");
        int nin = n.Inputs.Count;
        if (nin is < 1 or > 2) throw Error(n, Codes.UnsupportedOp, $"Einsum with {nin} operands is not supported (1 or 2 are)");
        int arrow = eq.IndexOf("->", StringComparison.Ordinal);
        var terms = (arrow >= 0 ? eq[..arrow] : eq).Split(',');
        if (terms.Length != nin) throw Error(n, Codes.BadAttribute, $"equation '{eq}' has {terms.Length} operands; the node has {nin}");
        var shapes = Enumerable.Range(0, nin).Select(i => InShape(n, i)).ToArray();
        if (shapes.Any(s => !s.IsStatic)) throw Error(n, Codes.UnboundDim, "Einsum needs static shapes");
        int ellRank = 0;
        var labels = new List<char>[nin];
        for (int i = 0; i < nin; i++)
        {
            string t = terms[i];
            int letters = t.Replace("...", "").Length;
            int er = t.Contains("...") ? shapes[i].Rank - letters : 0;
            if (er < 0 || (!t.Contains("...") && letters != shapes[i].Rank)) throw Error(n, Codes.ShapeMismatch, $"term '{t}' does not match operand shape {shapes[i]}");
            ellRank = Math.Max(ellRank, er);
            labels[i] = [];
            for (int p = 0; p < t.Length; p++)
            {
                if (t[p] == '.') { for (int k = er - 1; k >= 0; k--) labels[i].Add((char)(0x100 + k)); p += 2; }
                else labels[i].Add(t[p]);
            }
        }
        var ell = Enumerable.Range(0, ellRank).Reverse().Select(k => (char)(0x100 + k)).ToList();
        List<char> outLabels;
        if (arrow >= 0)
        {
            outLabels = [];
            string o = eq[(arrow + 2)..];
            for (int p = 0; p < o.Length; p++)
            {
                if (o[p] == '.') { outLabels.AddRange(ell); p += 2; }
                else outLabels.Add(o[p]);
            }
        }
        else
        {
            var counts = labels.SelectMany(l => l).Where(c => c < 0x100).GroupBy(c => c).Where(g => g.Count() == 1).Select(g => g.Key).Order();
            outLabels = [.. ell, .. counts];
        }
        var all = outLabels.Concat(labels.SelectMany(l => l).Distinct().Where(c => !outLabels.Contains(c))).ToList();
        var size = new Dictionary<char, long>();
        for (int i = 0; i < nin; i++)
            for (int d = 0; d < labels[i].Count; d++)
            {
                long v = shapes[i][d].Value;
                if (!size.TryGetValue(labels[i][d], out var s) || s == 1) size[labels[i][d]] = v;
                else if (v != s && v != 1) throw Error(n, Codes.ShapeMismatch, $"label '{labels[i][d]}' has sizes {s} and {v}");
            }
        foreach (var c in outLabels) if (!size.ContainsKey(c)) throw Error(n, Codes.BadAttribute, $"output label '{c}' is not in any input");
        var inStr = new long[nin][];
        for (int i = 0; i < nin; i++)
        {
            inStr[i] = new long[all.Count];
            var st = shapes[i].Strides();
            for (int d = 0; d < labels[i].Count; d++)
                if (shapes[i][d].Value != 1) inStr[i][all.IndexOf(labels[i][d])] += st[d];
        }
        var outShape = outLabels.Select(c => size[c]).ToArray();
        var outStr = new long[all.Count];
        long acc = 1;
        for (int d = outLabels.Count - 1; d >= 0; d--) { outStr[all.IndexOf(outLabels[d])] += acc; acc *= outShape[d]; }
        return new Plan(all.Select(c => (int)size[c]).ToArray(), inStr, outStr, outShape);
    }

    public override void Infer(Node n)
    {
        var t = Input(n, 0).Elem;
        if (t is ElementType.Bool or ElementType.String or ElementType.BFloat16) throw Error(n, Codes.UnsupportedType, $"Einsum does not support {ElementTypes.Name(t)}");
        Set(n, 0, t, new Shape(Make(n).OutShape));
    }

    public override void Select(Node n) => n.Kernel = "Einsum.Run";

    public override void Emit(Node n, EmitContext e)
    {
        var p = Make(n);
        var y = n.Outputs[0];
        string b = n.Inputs.Count > 1 ? e.P(n.Inputs[1]!) : $"({EmitContext.T(y)}*)null";
        var bStr = n.Inputs.Count > 1 ? p.InStrides[1] : new long[p.Sizes.Length];
        e.W.Line($"Einsum.Run({e.P(n.Inputs[0]!)}, {b}, {e.P(y)}, yCount: {y.Shape.Count}, sizes: {EmitContext.Ints(p.Sizes.Select(s => (long)s))},");
        e.W.Line($"    aStr: {EmitContext.Ints(p.InStrides[0])}, bStr: {EmitContext.Ints(bStr)}, yStr: {EmitContext.Ints(p.OutStrides)});");
    }
}
