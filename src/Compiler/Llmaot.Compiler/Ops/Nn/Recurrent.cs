using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// RNN, GRU and LSTM (opsets 7, 14, 22; one table-driven class): forward, reverse or bidirectional, optional B,
/// sequence_lens, initial_h/initial_c, LSTM peepholes P, layout 0/1, activations with activation_alpha/beta, clip,
/// GRU linear_before_reset. RNN: H = f(W·x + R·h + Wb + Rb). GRU: z, r = f(...), h~ = g(W_h·x + R_h·(r⊙h) + Rb_h + Wb_h)
/// (or r⊙(R_h·h + Rb_h) with linear_before_reset), H = (1-z)⊙h~ + z⊙h. LSTM: i, f, o = f(... + P⊙C), c~ = g(...),
/// C = f⊙C + i⊙c~, H = o⊙h(C). Outputs Y, Y_h (and Y_c).
/// </summary>
public sealed class RecurrentOp(string op) : OpDef
{
    public override string Op => op;
    private int Kind => op switch { "RNN" => 0, "GRU" => 1, _ => 2 };
    private int Gates => Kind switch { 0 => 1, 1 => 3, _ => 4 };

    private sealed record Geo(int S, int B, int I, int H, int Dirs, bool BatchFirst);

    private Geo Geometry(Node n)
    {
        var x = InShape(n, 0);
        var w = InShape(n, 1);
        if (!x.IsStatic || !w.IsStatic || x.Rank != 3) throw Error(n, Codes.ShapeMismatch, $"X {x} must be a static 3-D tensor");
        bool bf = n.Int("layout", 0) != 0;
        string dir = n.Str("direction", "forward");
        int dirs = dir == "bidirectional" ? 2 : dir is "forward" or "reverse" ? 1 : throw Error(n, Codes.BadAttribute, $"direction '{dir}' is not forward, reverse or bidirectional");
        int h = (int)n.Int("hidden_size", w[1].Value / Gates);
        if (w[0].Value != dirs || w[1].Value != (long)Gates * h) throw Error(n, Codes.ShapeMismatch, $"W {w} does not match {dirs} direction(s) of {Gates}·{h} gates");
        return new Geo((int)x[bf ? 1 : 0].Value, (int)x[bf ? 0 : 1].Value, (int)x[2].Value, h, dirs, bf);
    }

    public override void Infer(Node n)
    {
        var t = Input(n, 0).Elem;
        if (t is not (ElementType.Float or ElementType.Double or ElementType.Float16)) throw Error(n, Codes.UnsupportedType, $"{op} does not support {ElementTypes.Name(t)}");
        if (n.Int("input_forget", 0) != 0) throw Error(n, Codes.UnsupportedOp, "LSTM input_forget=1 is not supported");
        if (n.In(4) is { } sl && sl.Elem != ElementType.Int32) throw Error(n, Codes.UnsupportedType, "sequence_lens must be int32");
        var g = Geometry(n);
        Set(n, 0, t, g.BatchFirst ? new Shape(g.B, g.S, g.Dirs, g.H) : new Shape(g.S, g.Dirs, g.B, g.H));
        var state = g.BatchFirst ? new Shape(g.B, g.Dirs, g.H) : new Shape(g.Dirs, g.B, g.H);
        Set(n, 1, t, state);
        if (Kind == 2) Set(n, 2, t, state);
    }

    public override void Select(Node n)
    {
        var g = Geometry(n);
        n.ScratchBytes = 4L * Runtime.Kernels.Recurrent.ScratchFloats(g.H, Gates);
        n.Kernel = $"Recurrent.Run[{op}]";
    }

    private static readonly Dictionary<string, int> Codes_ = new(StringComparer.OrdinalIgnoreCase)
    {
        ["Tanh"] = 0, ["Sigmoid"] = 1, ["Relu"] = 2, ["Affine"] = 3, ["LeakyRelu"] = 4, ["ThresholdedRelu"] = 5,
        ["ScaledTanh"] = 6, ["HardSigmoid"] = 7, ["Elu"] = 8, ["Softsign"] = 9, ["Softplus"] = 10,
    };

    private (long[] Kinds, float[] Alpha, float[] Beta) Activations(Node n, int dirs)
    {
        string[] dflt = Kind switch { 0 => ["Tanh"], 1 => ["Sigmoid", "Tanh"], _ => ["Sigmoid", "Tanh", "Tanh"] };
        var names = n.Attrs.TryGetValue("activations", out var a) && a.Strings.Length > 0 ? a.Strings : Enumerable.Range(0, dirs).SelectMany(_ => dflt).ToArray();
        if (names.Length != dflt.Length * dirs) throw Error(n, Codes.BadAttribute, $"{names.Length} activations given; {op} needs {dflt.Length} per direction");
        var alphas = n.Attrs.TryGetValue("activation_alpha", out var aa) ? aa.Floats : [];
        var betas = n.Attrs.TryGetValue("activation_beta", out var bb) ? bb.Floats : [];
        var kinds = new long[names.Length];
        var al = new float[names.Length];
        var be = new float[names.Length];
        int ia = 0, ib = 0;
        for (int i = 0; i < names.Length; i++)
        {
            if (!Codes_.TryGetValue(names[i], out int k)) throw Error(n, Codes.BadAttribute, $"activation '{names[i]}' is not supported");
            kinds[i] = k;
            (al[i], be[i]) = k switch { 3 => (1f, 0f), 4 => (0.01f, 0f), 5 => (1f, 0f), 6 => (1f, 1f), 7 => (0.2f, 0.5f), 8 => (1f, 0f), _ => (0f, 0f) };
            if (k is 3 or 4 or 5 or 6 or 7 or 8 && ia < alphas.Length) al[i] = alphas[ia++];
            if (k is 3 or 6 or 7 && ib < betas.Length) be[i] = betas[ib++];
        }
        return (kinds, al, be);
    }

    private static bool Has(Node n, int i) => i < n.Outputs.Count && !n.Outputs[i].Name.Contains(":unused");

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var (kinds, al, be) = Activations(n, g.Dirs);
        string t = EmitContext.T(n.Inputs[0]!);
        string Opt(int i) => n.In(i) is { } v ? e.P(v) : $"({t}*)null";
        string Out(int i) => Has(n, i) ? e.P(n.Outputs[i]) : $"({t}*)null";
        string seq = n.In(4) is { } s ? e.P(s) : "(int*)null";
        string peep = Kind == 2 ? Opt(7) : $"({t}*)null";
        string initC = Kind == 2 ? Opt(6) : $"({t}*)null";
        string yc = Kind == 2 ? Out(2) : $"({t}*)null";
        e.W.Line($"Recurrent.Run(kind: {Kind}, {e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, bias: {Opt(3)}, seqLens: {seq}, initH: {Opt(5)}, initC: {initC}, peep: {peep},");
        e.W.Line($"    y: {Out(0)}, yH: {Out(1)}, yC: {yc}, scratch: {EmitContext.Scratch(n)},");
        e.W.Line($"    seqLen: {g.S}, batch: {g.B}, input: {g.I}, hidden: {g.H}, dirs: {g.Dirs}, reverse: {Lit.B(n.Str("direction", "forward") == "reverse")}, batchFirst: {Lit.B(g.BatchFirst)},");
        e.W.Line($"    act: {EmitContext.Ints(kinds)}, alpha: [{string.Join(", ", al.Select(Lit.F))}], beta: [{string.Join(", ", be.Select(Lit.F))}],");
        e.W.Line($"    clip: {Lit.F(n.Attrs.ContainsKey("clip") ? n.Float("clip", 0f) : 0f)}, linearBeforeReset: {Lit.B(n.Int("linear_before_reset", 0) != 0)});");
    }
}
