using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// ONNX Runtime contrib ops (domain com.microsoft) that transformer exports use. Each is decomposed into standard ops when
/// its input types are known (<see cref="OpDef.Expand"/>); fusion and the standard kernels then take over.
/// </summary>
public static class ContribOps
{
    public const string Domain = "com.microsoft";

    public static IEnumerable<OpDef> All() => [new FastGeluOp(), new SkipLayerNormalizationOp(), new EmbedLayerNormalizationOp(), new MsAttentionOp(), new MatMulNBitsOp(),
        new DynamicQuantizeMatMulOp(), new MatMulIntegerToFloatOp(), new QGemmOp(), new QLinearBinaryOp("QLinearAdd", mul: false), new QLinearBinaryOp("QLinearMul", mul: true)];

    internal static bool Used(Node n, int output) => output < n.Outputs.Count && !n.Outputs[output].Name.Contains(":unused", StringComparison.Ordinal);
}

/// <summary>Base for ops that only exist as decompositions.</summary>
public abstract class DecomposedOp : OpDef
{
    public override string Domain => ContribOps.Domain;

    public override void Infer(Node n) => throw Error(n, Codes.Internal, "should have been decomposed");

    public override void Emit(Node n, EmitContext e) => throw Error(n, Codes.Internal, "should have been decomposed");
}

/// <summary>FastGelu(X, bias?): y = Gelu_tanh(X + bias) = 0.5·x·(1 + tanh(0.7978845608·(x + 0.044715·x³))).</summary>
public sealed class FastGeluOp : DecomposedOp
{
    public override string Op => "FastGelu";

    public override List<Node> Expand(Node n, Model m)
    {
        var b = new GraphBuilder(m, n);
        var x = n.In(1) is { } bias ? b.Op("Add", 14, [n.Inputs[0], bias]) : n.Inputs[0]!;
        b.Bind(0, b.Op("Gelu", 20, [x], ("approximate", "tanh")));
        return b.Nodes;
    }
}

/// <summary>
/// SkipLayerNormalization(input, skip, gamma, beta?, bias?): s = input + skip (+ bias); output = LayerNorm(s) over the last axis;
/// optional output 3 is s. The mean/inverse-std outputs (1, 2) are not supported.
/// </summary>
public sealed class SkipLayerNormalizationOp : DecomposedOp
{
    public override string Op => "SkipLayerNormalization";

    public override List<Node> Expand(Node n, Model m)
    {
        if (ContribOps.Used(n, 1) || ContribOps.Used(n, 2)) throw Error(n, Codes.UnsupportedOp, "the mean and inv_std_var outputs are not supported");
        var b = new GraphBuilder(m, n);
        var s = b.Op("Add", 14, [n.Inputs[0], n.Inputs[1]]);
        if (n.In(4) is { } bias) s = b.Op("Add", 14, [s, bias]);
        b.Bind(0, b.Op("LayerNormalization", 17, [s, n.Inputs[2], n.In(3)], ("axis", -1L), ("epsilon", n.Float("epsilon", 1e-12f))));
        if (ContribOps.Used(n, 3)) b.Bind(3, b.Op("Identity", 14, [s]));
        return b.Nodes;
    }
}

/// <summary>
/// EmbedLayerNormalization(input_ids, segment_ids?, word_embedding, position_embedding, segment_embedding?, gamma, beta, mask?, position_ids?):
/// e = word[ids] + position[position_ids or 0..S-1] (+ segment[segment_ids]); output = LayerNorm(e); mask_index = Σ mask per batch
/// (int32, zeros without a mask); optional embedding_sum = e.
/// </summary>
public sealed class EmbedLayerNormalizationOp : DecomposedOp
{
    public override string Op => "EmbedLayerNormalization";

    public override List<Node> Expand(Node n, Model m)
    {
        var b = new GraphBuilder(m, n);
        var ids = n.Inputs[0]!;
        var ishape = ids.Shape.ToLongs();
        long batch = ishape[0], seq = ishape[1];
        var e = b.Op("Gather", 13, [n.Inputs[2], ids], ("axis", 0L));
        var positions = n.In(8) ?? b.Const("positions", ElementType.Int64, [1, seq], Enumerable.Range(0, (int)seq).Select(i => (long)i).ToArray());
        e = b.Op("Add", 14, [e, b.Op("Gather", 13, [n.Inputs[3], positions], ("axis", 0L))]);
        if (n.In(1) is { } seg && n.In(4) is { } segEmb) e = b.Op("Add", 14, [e, b.Op("Gather", 13, [segEmb, seg], ("axis", 0L))]);
        b.Bind(0, b.Op("LayerNormalization", 17, [e, n.Inputs[5], n.Inputs[6]], ("axis", -1L), ("epsilon", n.Float("epsilon", 1e-12f))));
        if (ContribOps.Used(n, 1))
        {
            var mask = n.In(7) is { } mk
                ? b.Op("ReduceSum", 13, [b.Op("Cast", 13, [mk], ("to", (long)ElementType.Int32)), b.Ints("axis1", 1)], ("keepdims", 0L))
                : b.Const("mask_index", ElementType.Int32, [batch], new int[batch]);
            b.Bind(1, b.Op("Identity", 14, [mask]));
        }
        if (ContribOps.Used(n, 2)) b.Bind(2, b.Op("Identity", 14, [e]));
        return b.Nodes;
    }
}

/// <summary>
/// com.microsoft Attention(input, weights, bias?, mask_index?, past?): multi-head self-attention with a fused QKV projection.
/// qkv = input·weights + bias split into Q, K, V [B, N, S, H]; with past [2, B, N, P, H] the keys and values are
/// past ++ new, returned as present [2, B, N, P+S, H]; unidirectional=1 masks future positions (query i sees keys ≤ P+i);
/// a 2-D mask_index [B, P+S] masks keys where it is 0. Decomposed into MatMul, Split, Reshape, Transpose, Concat and the
/// standard Attention op with a boolean mask. Only these input forms are supported.
/// </summary>
public sealed class MsAttentionOp : DecomposedOp
{
    public override string Op => "Attention";

    public override List<Node> Expand(Node n, Model m)
    {
        var input = n.Inputs[0]!;
        var xs = input.Shape.ToLongs();
        if (xs.Length != 3) throw Error(n, Codes.UnsupportedOp, $"input {input.Shape} must be [batch, sequence, hidden]");
        long batch = xs[0], seq = xs[1];
        long heads = n.Int("num_heads", 0);
        long hidden = n.Inputs[1]!.Shape.ToLongs()[1] / 3;
        if (heads <= 0 || hidden % heads != 0) throw Error(n, Codes.BadAttribute, $"num_heads {heads} does not divide the hidden size {hidden}");
        if (n.Ints("qkv_hidden_sizes") is { Length: > 0 }) throw Error(n, Codes.UnsupportedOp, "qkv_hidden_sizes is not supported");
        if (n.In(5) != null || n.In(6) != null) throw Error(n, Codes.UnsupportedOp, "attention_bias and past_sequence_length inputs are not supported");
        long hd = hidden / heads;
        long past = n.In(4) is { } pv ? pv.Shape.ToLongs()[3] : 0;
        long total = past + seq;
        var b = new GraphBuilder(m, n);
        var qkv = b.Op("MatMul", 13, [input, n.Inputs[1]]);
        if (n.In(2) is { } bias) qkv = b.Op("Add", 14, [qkv, bias]);
        var parts = b.Ops("Split", 13, [qkv, b.Ints("split", hidden, hidden, hidden)], 3, ("axis", 2L));
        var heads4 = b.Ints("heads4", batch, seq, heads, hd);
        Value Heads(Value v) => b.Op("Transpose", 13, [b.Op("Reshape", 14, [v, heads4])], ("perm", new long[] { 0, 2, 1, 3 }));
        Value q = Heads(parts[0]), k = Heads(parts[1]), v = Heads(parts[2]);
        if (n.In(4) is { } pastKv)
        {
            var pk = b.Op("Squeeze", 13, [b.Op("Slice", 13, [pastKv, b.Ints("s0", 0), b.Ints("e0", 1), b.Ints("ax0", 0)]), b.Ints("sq0", 0)]);
            var pvv = b.Op("Squeeze", 13, [b.Op("Slice", 13, [pastKv, b.Ints("s1", 1), b.Ints("e1", 2), b.Ints("ax1", 0)]), b.Ints("sq1", 0)]);
            k = b.Op("Concat", 13, [pk, k], ("axis", 2L));
            v = b.Op("Concat", 13, [pvv, v], ("axis", 2L));
        }
        if (ContribOps.Used(n, 1))
            b.Bind(1, b.Op("Concat", 13, [b.Op("Unsqueeze", 13, [k, b.Ints("u0", 0)]), b.Op("Unsqueeze", 13, [v, b.Ints("u1", 0)])], ("axis", 0L)));
        // Boolean mask [B or 1, 1, S, total]: causal (bottom-right aligned with the past) and the key padding mask.
        Value? mask = null;
        if (n.Int("unidirectional", 0) != 0)
        {
            var causal = new bool[seq * total];
            for (long i = 0; i < seq; i++)
                for (long j = 0; j < total; j++) causal[i * total + j] = j <= past + i;
            mask = b.Const("causal", ElementType.Bool, [1, 1, seq, total], causal);
        }
        if (n.In(3) is { } keyMask)
        {
            var ks = keyMask.Shape.ToLongs();
            if (ks.Length != 2 || ks[1] != total) throw Error(n, Codes.UnsupportedOp, $"mask_index {keyMask.Shape} must be a 2-D [batch, {total}] key mask");
            var km = b.Op("Reshape", 14, [b.Op("Cast", 13, [keyMask], ("to", (long)ElementType.Bool)), b.Ints("mask4", ks[0], 1, 1, total)]);
            mask = mask == null ? km : b.Op("And", 7, [mask, km]);
        }
        var att = b.Op("Attention", 23, mask == null ? [q, k, v] : [q, k, v, mask]);
        var merged = b.Op("Reshape", 14, [b.Op("Transpose", 13, [att], ("perm", new long[] { 0, 2, 1, 3 })), b.Ints("merge", batch, seq, hidden)]);
        b.Bind(0, merged);
        return b.Nodes;
    }
}
