using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Attention (opset 23, 24): Y = softmax(softcap(scale · Q·Kᵀ) + bias) · V with K, V = concat(past, new) along the
/// sequence; 4-D inputs [B, heads, S, d] or 3-D [B, S, heads·d] (then q_num_heads and kv_num_heads are required);
/// GQA/MQA when q_num_heads is a multiple of kv_num_heads; bias from attn_mask (bool: false → -inf; float: added;
/// a last dim shorter than the total sequence is padded with -inf), is_causal (bottom-right aligned) and opset 24's
/// nonpad_kv_seqlen; scale defaults to 1/√d. Outputs present_key/present_value and qk_matmul_output
/// (qk_matmul_output_mode 0/1: scores after softcap, 2: after bias, 3: after softmax). float32 and float16.
/// </summary>
public sealed class AttentionOp : OpDef
{
    public override string Op => "Attention";
    public override int SinceVersion => 23;

    private sealed record Geo(int B, int Hq, int Hkv, int Sq, int Skv, int Past, int D, int Dv, bool ThreeD)
    {
        public int Total => Past + Skv;
    }

    private static Geo Geometry(Node n)
    {
        var q = InShape(n, 0);
        var k = InShape(n, 1);
        var v = InShape(n, 2);
        if (q.Rank != k.Rank || q.Rank != v.Rank || q.Rank is not (3 or 4))
            throw Error(n, Codes.ShapeMismatch, $"Q {q}, K {k} and V {v} must all be 3-D or all 4-D");
        if (!q.IsStatic || !k.IsStatic || !v.IsStatic) throw Error(n, Codes.UnboundDim, "Attention needs static Q, K and V shapes");
        int past = n.In(4) is { } pk ? (int)InShape(n, 4)[2].Value : 0;
        if (q.Rank == 4)
            return new Geo((int)q[0].Value, (int)q[1].Value, (int)k[1].Value, (int)q[2].Value, (int)k[2].Value, past, (int)q[3].Value, (int)v[3].Value, false);
        long hq = n.Int("q_num_heads", 0), hkv = n.Int("kv_num_heads", 0);
        if (hq <= 0 || hkv <= 0) throw Error(n, Codes.BadAttribute, "3-D inputs need the q_num_heads and kv_num_heads attributes");
        if (q[2].Value % hq != 0 || k[2].Value % hkv != 0 || v[2].Value % hkv != 0)
            throw Error(n, Codes.ShapeMismatch, $"hidden sizes of Q {q}, K {k}, V {v} are not divisible by the head counts {hq}, {hkv}");
        return new Geo((int)q[0].Value, (int)hq, (int)hkv, (int)q[1].Value, (int)k[1].Value, past, (int)(q[2].Value / hq), (int)(v[2].Value / hkv), true);
    }

    public override void Infer(Node n)
    {
        var t = Input(n, 0).Elem;
        if (t is not (ElementType.Float or ElementType.Float16 or ElementType.Double))
            throw Error(n, Codes.UnsupportedType, $"Attention supports float32, float16 and double, not {ElementTypes.Name(t)}");
        var g = Geometry(n);
        if (g.Hq % g.Hkv != 0) throw Error(n, Codes.ShapeMismatch, $"q heads {g.Hq} are not a multiple of kv heads {g.Hkv}");
        if (n.In(3) is { } m && m.Elem != ElementType.Bool && m.Elem != t)
            throw Error(n, Codes.UnsupportedType, "attn_mask must be bool or the type of Q");
        if (n.In(3) is { } m2 && InShape(n, 3).Rank > 4) throw Error(n, Codes.ShapeMismatch, "attn_mask has rank above 4");
        Set(n, 0, t, g.ThreeD ? new Shape(g.B, g.Sq, (long)g.Hq * g.Dv) : new Shape(g.B, g.Hq, g.Sq, g.Dv));
        Set(n, 1, t, new Shape(g.B, g.Hkv, g.Total, g.D));
        Set(n, 2, t, new Shape(g.B, g.Hkv, g.Total, g.Dv));
        Set(n, 3, t, new Shape(g.B, g.Hq, g.Sq, g.Total));
    }

    private static bool Has(Node n, int output) => output < n.Outputs.Count && !n.Outputs[output].Name.Contains(":unused");

    public override void Select(Node n)
    {
        var g = Geometry(n);
        int es = ElementTypes.BlockBytes(n.Inputs[0]!.Elem);
        long scratch = (long)g.Total * 4;
        if (!Has(n, 1)) scratch += Align((long)g.B * g.Hkv * g.Total * g.D * es);
        if (!Has(n, 2)) scratch += Align((long)g.B * g.Hkv * g.Total * g.Dv * es);
        n.ScratchBytes = Align(scratch);
        n.Kernel = "Attention.Run" + (g.Hq != g.Hkv ? "[gqa]" : "") + (n.Int("is_causal", 0) != 0 ? "+causal" : "") + (n.In(3) != null ? "+mask" : "");
    }

    private static long Align(long x) => (x + 63) / 64 * 64;

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var q = n.Inputs[0]!;
        string t = EmitContext.T(q);
        int es = ElementTypes.BlockBytes(q.Elem);
        long off = n.ScratchOffset;
        string row = $"(float*)(a + {off})";
        off += Align((long)g.Total * 4);
        string presentK, presentV;
        if (Has(n, 1)) presentK = e.P(n.Outputs[1]);
        else { presentK = $"({t}*)(a + {off})"; off += Align((long)g.B * g.Hkv * g.Total * g.D * es); }
        if (Has(n, 2)) presentV = e.P(n.Outputs[2]);
        else presentV = $"({t}*)(a + {off})";

        // (batch, head, seq) strides of the 3-D [B, S, H*d] and 4-D [B, H, S, d] layouts.
        (long B, long H, long S) Strides(int heads, int seq, int d) => g.ThreeD
            ? ((long)seq * heads * d, d, (long)heads * d)
            : ((long)heads * seq * d, (long)seq * d, d);

        string pastK = n.In(4) is { } pk ? e.P(pk) : "null", pastV = n.In(5) is { } pv ? e.P(pv) : "null";
        var ks = Strides(g.Hkv, g.Skv, g.D);
        var vs = Strides(g.Hkv, g.Skv, g.Dv);
        e.W.Line($"Attention.BuildCache({pastK}, {e.P(n.Inputs[1]!)}, {presentK}, batch: {g.B}, heads: {g.Hkv}, pastLen: {g.Past}, len: {g.Skv}, d: {g.D}, sB: {ks.B}, sH: {ks.H}, sS: {ks.S});");
        e.W.Line($"Attention.BuildCache({pastV}, {e.P(n.Inputs[2]!)}, {presentV}, batch: {g.B}, heads: {g.Hkv}, pastLen: {g.Past}, len: {g.Skv}, d: {g.Dv}, sB: {vs.B}, sH: {vs.H}, sS: {vs.S});");

        string maskF = "null", maskB = "null";
        long mB = 0, mH = 0, mQ = 0;
        int maskLen = g.Total;
        if (n.In(3) is { } m)
        {
            if (m.Elem == ElementType.Bool) maskB = e.P(m); else maskF = e.P(m);
            var ms = m.Shape.ToLongs();
            var padded = Enumerable.Repeat(1L, 4 - ms.Length).Concat(ms).ToArray();
            var str = new long[4];
            long acc = 1;
            for (int d = 3; d >= 0; d--) { str[d] = padded[d] == 1 ? 0 : acc; acc *= padded[d]; }
            (mB, mH, mQ) = (str[0], str[1], str[2]);
            maskLen = (int)padded[3];
        }
        string nonpad = n.In(6) is { } np ? e.P(np) : "null";
        float scale = n.Attrs.ContainsKey("scale") ? n.Float("scale", 1f) : 1f / MathF.Sqrt(g.D);
        var qs = Strides(g.Hq, g.Sq, g.D);
        var ys = Strides(g.Hq, g.Sq, g.Dv);
        string qk = Has(n, 3) ? e.P(n.Outputs[3]) : "null";
        e.W.Line($"Attention.Run({e.P(q)}, {presentK}, {presentV}, ({t}*){maskF}, (bool*){maskB}, (long*){nonpad}, {e.P(n.Outputs[0])}, ({t}*){qk}, {row},");
        e.W.Line($"    batch: {g.B}, qHeads: {g.Hq}, kvHeads: {g.Hkv}, qLen: {g.Sq}, totalLen: {g.Total}, pastLen: {g.Past}, headSize: {g.D}, vHeadSize: {g.Dv},");
        e.W.Line($"    qB: {qs.B}, qH: {qs.H}, qS: {qs.S}, yB: {ys.B}, yH: {ys.H}, yS: {ys.S},");
        e.W.Line($"    maskStrideB: {mB}, maskStrideH: {mH}, maskStrideQ: {mQ}, maskLen: {maskLen},");
        e.W.Line($"    scale: {Lit.F(scale)}, softcap: {Lit.F(n.Float("softcap", 0f))}, causal: {Lit.B(n.Int("is_causal", 0) != 0)}, hasPast: {Lit.B(n.In(4) != null)}, qkMode: {n.Int("qk_matmul_output_mode", 0)});");
    }
}
