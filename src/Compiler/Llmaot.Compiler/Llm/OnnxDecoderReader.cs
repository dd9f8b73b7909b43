using System.Security.Cryptography;
using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>
/// Reads an ONNX decoder exported with a KV cache (inputs input_ids, position_ids, past_key_values.{i}.key/value; outputs
/// logits and present.*) and Hugging Face llama weight names (model.embed_tokens, model.layers.{i}.input_layernorm,
/// self_attn.{q,k,v,o}_proj, post_attention_layernorm, mlp.{gate,up,down}_proj, model.norm, lm_head) into an
/// <see cref="LlmModel"/>, so it compiles through the same decoder emitter as GGUF and llama2.c checkpoints.
/// MatMul weights are [in, out] and are transposed to the [out, in] rows the decoder kernels read. Projections quantized with
/// com.microsoft MatMulNBits (4-bit, block 32, weights {name}_Q4 and {name}_scales) stay packed as
/// <see cref="ElementType.MatMulNBits4"/>; the attention may be plain ONNX ops or com.microsoft GroupQueryAttention with
/// RotaryEmbedding (interleaved) and (Skip)SimplifiedLayerNormalization. RoPE θ and the RMSNorm epsilon are read from the
/// graph (rope.cos_table / rope.cos_cache, const_rms_eps or the normalization's epsilon) when present.
/// </summary>
public static class OnnxDecoderReader
{
    /// <summary>True when the ONNX model has the decoder-with-KV-cache signature.</summary>
    public static bool IsDecoder(Model m) =>
        m.Graph.Inputs.Any(i => i.Name == "input_ids") && m.Graph.Inputs.Any(i => i.Name.StartsWith("past_key_values.", StringComparison.Ordinal))
        && m.Graph.Outputs.Any(o => o.Name == "logits");

    public static LlmModel Read(string path, Model m)
    {
        var consts = m.Graph.Constants.ToDictionary(c => c.Name, StringComparer.Ordinal);
        Value C(string name) => consts.TryGetValue(name, out var v) ? v
            : throw new LlmaotException(Codes.UnsupportedOp, $"{Path.GetFileName(path)}: decoder weight '{name}' not found; llmaot reads ONNX decoders with Hugging Face llama weight names");
        var emb = C("model.embed_tokens.weight");
        CheckMicrosoftOps(path, m);
        long vocab = emb.Shape[0].Value, dim = emb.Shape[1].Value;
        int layers = 0;
        while (consts.ContainsKey($"model.layers.{layers}.input_layernorm.weight")) layers++;
        var past = m.Graph.Inputs.First(i => i.Name == "past_key_values.0.key").Shape;
        int kvHeads = (int)past[1].Value, headSize = (int)past[3].Value;
        int heads = (int)(dim / headSize);
        long hidden = consts.TryGetValue("model.layers.0.mlp.gate_proj.weight", out var gate) ? gate.Shape[1].Value
            : C("model.layers.0.mlp.gate_proj.weight_Q4").Shape[0].Value;
        float theta = 10000f, eps = 1e-5f;
        var cos = consts.GetValueOrDefault("rope.cos_table") ?? consts.GetValueOrDefault("rope.cos_cache");
        if (cos != null && cos.Shape.Rank == 2 && cos.Shape[0].Value > 1 && cos.Shape[1].Value > 1)
        {
            // cos_table[1, 1] = cos(θ^(-2/headSize)) → θ
            double f1 = Math.Acos(cos.Const!.As<float>()[(int)cos.Shape[1].Value + 1]);
            theta = (float)Math.Round(Math.Pow(f1, -headSize / 2.0));
        }
        if (consts.TryGetValue("const_rms_eps", out var e)) eps = e.Const!.As<float>()[0];
        else if (m.Graph.Nodes.FirstOrDefault(n => n.Op is "SimplifiedLayerNormalization" or "SkipSimplifiedLayerNormalization") is { } norm)
            eps = norm.Float("epsilon", 1e-5f);
        long ctx = cos?.Shape[0].Value ?? 2048;

        var t = new Dictionary<string, LlmTensor>(StringComparer.Ordinal);
        LlmTensor Vec(string key, string name) => new(key, ElementType.Float, [C(name).Shape.Count], C(name).Const!);
        LlmTensor Mat(string key, string name)
        {
            if (!consts.ContainsKey(name) && consts.ContainsKey(name + "_Q4")) return NBits4(path, m, consts, key, name);
            var v = C(name);
            long rows = v.Shape[0].Value, cols = v.Shape[1].Value;
            var src = v.Const!.As<float>();
            var dst = new float[src.Length];
            for (long i = 0; i < rows; i++)
                for (long j = 0; j < cols; j++) dst[j * rows + i] = src[(int)(i * cols + j)];
            return new LlmTensor(key, ElementType.Float, [cols, rows], TensorData.Of<float>(dst));
        }
        t["token_embd"] = new LlmTensor("token_embd", ElementType.Float, [vocab, dim], emb.Const!);
        for (int l = 0; l < layers; l++)
        {
            string p = $"model.layers.{l}.";
            t[$"blk.{l}.attn_norm"] = Vec($"blk.{l}.attn_norm", p + "input_layernorm.weight");
            t[$"blk.{l}.attn_q"] = Mat($"blk.{l}.attn_q", p + "self_attn.q_proj.weight");
            t[$"blk.{l}.attn_k"] = Mat($"blk.{l}.attn_k", p + "self_attn.k_proj.weight");
            t[$"blk.{l}.attn_v"] = Mat($"blk.{l}.attn_v", p + "self_attn.v_proj.weight");
            t[$"blk.{l}.attn_output"] = Mat($"blk.{l}.attn_output", p + "self_attn.o_proj.weight");
            t[$"blk.{l}.ffn_norm"] = Vec($"blk.{l}.ffn_norm", p + "post_attention_layernorm.weight");
            t[$"blk.{l}.ffn_gate"] = Mat($"blk.{l}.ffn_gate", p + "mlp.gate_proj.weight");
            t[$"blk.{l}.ffn_up"] = Mat($"blk.{l}.ffn_up", p + "mlp.up_proj.weight");
            t[$"blk.{l}.ffn_down"] = Mat($"blk.{l}.ffn_down", p + "mlp.down_proj.weight");
        }
        t["output_norm"] = Vec("output_norm", "model.norm.weight");
        bool tied = !consts.ContainsKey("lm_head.weight") && !consts.ContainsKey("lm_head.weight_Q4");
        t["output"] = tied ? t["token_embd"] with { Name = "output" } : Mat("output", "lm_head.weight");
        string sha;
        using (var s = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(s));
        return new LlmModel
        {
            Config = new LlmConfig("llama", (int)dim, (int)hidden, layers, heads, kvHeads, (int)vocab, (int)ctx, theta, eps, tied),
            Tensors = t,
            SourceName = Path.GetFileName(path),
            Sha256 = sha,
        };
    }

    /// <summary>com.microsoft ops the decoder path understands; anything else (or an unsupported variant) is refused.</summary>
    private static void CheckMicrosoftOps(string path, Model m)
    {
        foreach (var n in m.Graph.Nodes.Where(n => n.Domain == "com.microsoft"))
        {
            string? why = n.Op switch
            {
                "MatMulNBits" or "SimplifiedLayerNormalization" or "SkipSimplifiedLayerNormalization" => null,
                "RotaryEmbedding" when n.Int("interleaved", 0) != 1 => "only interleaved rotary embeddings (interleaved=1, llama2.c order) are supported",
                "RotaryEmbedding" => null,
                "GroupQueryAttention" when n.Int("do_rotary", 0) != 0 && n.Int("rotary_interleaved", 0) != 1 => "do_rotary needs rotary_interleaved=1",
                "GroupQueryAttention" when n.Float("softcap", 0f) != 0f || n.Int("local_window_size", -1) != -1 => "softcap and local_window_size are not supported",
                "GroupQueryAttention" => null,
                _ => $"op com.microsoft.{n.Op} is not supported in a decoder",
            };
            if (why != null)
                throw new LlmaotException(Codes.UnsupportedOp, $"{Path.GetFileName(path)}: node '{n.Name}' ({n.OpLabel}): {why}; export the decoder without it or with plain ONNX ops");
        }
    }

    /// <summary>
    /// A MatMulNBits projection (weight {name}_Q4 [N, blocks, 16], {name}_scales [N·blocks]) kept packed: the 4-bit blocks, then the
    /// float scales. Only 4 bits, block 32, no zero points, g_idx or bias.
    /// </summary>
    private static LlmTensor NBits4(string path, Model m, Dictionary<string, Value> consts, string key, string name)
    {
        var q = consts[name + "_Q4"];
        var node = m.Graph.Nodes.FirstOrDefault(n => n.Op == "MatMulNBits" && n.In(1) == q)
            ?? throw new LlmaotException(Codes.BadGraph, $"{Path.GetFileName(path)}: '{name}_Q4' is not the weight of a MatMulNBits node");
        long k = node.Int("K", 0), rows = node.Int("N", 0), bits = node.Int("bits", 4), block = node.Int("block_size", 0);
        string where = $"{Path.GetFileName(path)}: node '{node.Name}' ({node.OpLabel})";
        if (bits != 4 || block != 32)
            throw new LlmaotException(Codes.UnsupportedType, $"{where}: bits={bits}, block_size={block}; the decoder kernels read 4-bit blocks of 32; re-export with bits=4 block_size=32");
        for (int i = 3; i < node.Inputs.Count; i++)
            if (node.Inputs[i] != null)
                throw new LlmaotException(Codes.UnsupportedType, $"{where}: zero points, g_idx and bias inputs are not supported by the decoder path; re-export with symmetric quantization");
        long blocks = (k + 31) / 32;
        var scales = node.In(2);
        if (k <= 0 || rows <= 0 || q.Const == null || scales?.Const == null || q.Shape.Rank != 3 || q.Shape[0].Value != rows || q.Shape[1].Value != blocks
            || q.Shape[2].Value != 16 || scales.Shape.Count != rows * blocks || scales.Elem != ElementType.Float)
            throw new LlmaotException(Codes.MalformedModel, $"{where}: weight {q.Shape} or scales {scales?.Shape} do not match K={k}, N={rows}, block 32");
        var bytes = new byte[rows * blocks * 16 + rows * blocks * 4];
        q.Const.Span.CopyTo(bytes);
        scales.Const.Span.CopyTo(bytes.AsSpan((int)(rows * blocks * 16)));
        return new LlmTensor(key, ElementType.MatMulNBits4, [rows, k], TensorData.Of(bytes));
    }
}
