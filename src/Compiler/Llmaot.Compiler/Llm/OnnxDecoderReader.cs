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
/// MatMul weights are [in, out] and are transposed to the [out, in] rows the decoder kernels read. RoPE θ and the RMSNorm
/// epsilon are read from the graph's constants (rope.cos_table, const_rms_eps) when present.
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
        if (m.Graph.Nodes.Any(n => n.Domain == "com.microsoft"))
            throw new LlmaotException(Codes.UnsupportedOp, $"{Path.GetFileName(path)}: decoders with com.microsoft ops (MatMulNBits, GroupQueryAttention) are not supported by the decoder path yet");
        long vocab = emb.Shape[0].Value, dim = emb.Shape[1].Value;
        int layers = 0;
        while (consts.ContainsKey($"model.layers.{layers}.input_layernorm.weight")) layers++;
        var past = m.Graph.Inputs.First(i => i.Name == "past_key_values.0.key").Shape;
        int kvHeads = (int)past[1].Value, headSize = (int)past[3].Value;
        int heads = (int)(dim / headSize);
        long hidden = C("model.layers.0.mlp.gate_proj.weight").Shape[1].Value;
        float theta = 10000f, eps = 1e-5f;
        if (consts.TryGetValue("rope.cos_table", out var cos) && cos.Shape.Rank == 2 && cos.Shape[0].Value > 1 && cos.Shape[1].Value > 1)
        {
            // cos_table[1, 1] = cos(θ^(-2/headSize)) → θ
            double f1 = Math.Acos(cos.Const!.As<float>()[(int)cos.Shape[1].Value + 1]);
            theta = (float)Math.Round(Math.Pow(f1, -headSize / 2.0));
        }
        if (consts.TryGetValue("const_rms_eps", out var e)) eps = e.Const!.As<float>()[0];
        long ctx = consts.TryGetValue("rope.cos_table", out var ct) ? ct.Shape[0].Value : 2048;

        var t = new Dictionary<string, LlmTensor>(StringComparer.Ordinal);
        LlmTensor Vec(string key, string name) => new(key, ElementType.Float, [C(name).Shape.Count], C(name).Const!);
        LlmTensor Mat(string key, string name)
        {
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
        bool tied = !consts.ContainsKey("lm_head.weight");
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
}
