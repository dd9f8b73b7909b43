using System.Security.Cryptography;
using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>
/// Reads a llama2.c legacy checkpoint: a header of seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
/// vocab_size — negative when the classifier is not shared — and seq_len), then float32 weights in llama2.c's order.
/// The file is memory-mapped; weights are slices of it. The vocabulary comes from llama2.c's tokenizer.bin.
/// </summary>
public static class Llama2cReader
{
    public static LlmModel Read(string path, string? tokenizerPath)
    {
        var file = new MappedFile(path);
        try
        {
            if (file.Length < 28) throw new LlmaotException(Codes.MalformedModel, $"'{path}' is too short for a llama2.c checkpoint");
            var header = file.Slice(0, 28).ToArray();
            int H(int i) => BitConverter.ToInt32(header, i * 4);
            int dim = H(0), hidden = H(1), layers = H(2), heads = H(3), kvHeads = H(4), vocab = H(5), seq = H(6);
            bool shared = vocab > 0;
            vocab = Math.Abs(vocab);
            if (dim <= 0 || hidden <= 0 || layers <= 0 || heads <= 0 || kvHeads <= 0 || vocab <= 0 || seq <= 0 || dim % heads != 0 || heads % kvHeads != 0 || dim > 1 << 16 || layers > 1024)
                throw new LlmaotException(Codes.MalformedModel, $"'{path}' does not look like a llama2.c checkpoint (header {dim}, {hidden}, {layers}, {heads}, {kvHeads}, {vocab}, {seq})");
            int hs = dim / heads, kvDim = kvHeads * hs;
            long off = 28;
            var t = new Dictionary<string, LlmTensor>(StringComparer.Ordinal);
            LlmTensor Take(string name, params long[] shape)
            {
                long n = shape.Aggregate(1L, (a, b) => a * b) * 4;
                if (off + n > file.Length) throw new LlmaotException(Codes.MalformedModel, $"'{path}' is truncated: '{name}' needs {n} bytes at {off}, the file has {file.Length}");
                var r = new LlmTensor(name, ElementType.Float, shape, TensorData.Slice(file, off, checked((int)n)));
                off += n;
                return r;
            }
            var emb = Take("token_embd", vocab, dim);
            t["token_embd"] = emb;
            // Per-layer weights are stored layer-major for each kind: [layers, ...]; split them per layer.
            void PerLayer(string kind, params long[] shape)
            {
                for (int l = 0; l < layers; l++) t[$"blk.{l}.{kind}"] = Take($"blk.{l}.{kind}", shape);
            }
            PerLayer("attn_norm", dim);
            PerLayer("attn_q", dim, dim);
            PerLayer("attn_k", kvDim, dim);
            PerLayer("attn_v", kvDim, dim);
            PerLayer("attn_output", dim, dim);
            PerLayer("ffn_norm", dim);
            PerLayer("ffn_gate", hidden, dim);
            PerLayer("ffn_down", dim, hidden);
            PerLayer("ffn_up", hidden, dim);
            t["output_norm"] = Take("output_norm", dim);
            off += (long)seq * hs / 2 * 4 * 2; // freq_cis_real and freq_cis_imag: unused (RoPE is computed)
            t["output"] = shared ? emb with { Name = "output" } : Take("output", vocab, dim);
            string sha;
            using (var s = File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(s));
            var m = new LlmModel
            {
                Config = new LlmConfig("llama", dim, hidden, layers, heads, kvHeads, vocab, seq, 10000f, 1e-5f, shared),
                Tensors = t,
                SourceName = Path.GetFileName(path),
                Sha256 = sha,
            };
            m.Owned.Add(file);
            if (tokenizerPath != null) m.Vocab = ReadTokenizer(tokenizerPath, vocab);
            return m;
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>llama2.c's tokenizer.bin.</summary>
    public static LlmVocab ReadTokenizer(string path, int vocab)
    {
        if (!File.Exists(path)) throw new LlmaotException(Codes.FileNotFound, $"tokenizer '{path}' not found");
        try
        {
            var (pieces, scores) = Runtime.Llm.Tokenizer.ReadLlama2c(File.ReadAllBytes(path), vocab);
            return new LlmVocab(pieces, scores, 1, 2, "llama2c");
        }
        catch (InvalidDataException e)
        {
            throw new LlmaotException(Codes.MalformedModel, $"tokenizer '{path}': {e.Message}");
        }
    }
}
