using Llmaot.Emit;
using Llmaot.Llm;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.Llm;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Compiler.Llm;

/// <summary>
/// qwen2-style (Q/K/V biases) and phi3-style (fused attn_qkv, gate+up in ffn_up) GGUFs, both with NeoX-ordered Q/K rows, written
/// here from the stories260K llama2.c checkpoint, against the independent scalar reference (<see cref="ReferenceLlama"/>).
/// </summary>
public unsafe class GgufVariantTests
{
    [Theory]
    [InlineData("qwen2")]
    [InlineData("phi3")]
    public void Gguf_variant_logits_match_the_scalar_reference(string arch)
    {
        string bin = SharedData.File("models/llama2c/stories260K.bin");
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-{arch}-{Guid.NewGuid():N}.gguf");
        try
        {
            var (bq, bk, bv) = WriteVariant(bin, path, arch);
            var co = new CompileOptions { Tokenizer = SharedData.File("models/llama2c/tok512.bin") };
            var g = global::Llmaot.Compiler.Compile(path, co, new EmitOptions { ClassName = "Lm", Name = "lm" });
            if (arch == "qwen2") Assert.Contains("attn_q bias", g.Source);
            using var loaded = InMemoryCompiler.Compile([g]);
            Assert.Empty(loaded.Warnings);
            using var m = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            using var prefilled = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            using var reference = new ReferenceLlama(bin) { Bq = bq, Bk = bk, Bv = bv };
            int[] tokens = [1, 403, 407, 261, 400, 261, 289, 270, 311, 352];
            float* ours = null;
            for (int pos = 0; pos < tokens.Length; pos++)
            {
                ours = m.Forward(tokens[pos], pos);
                var theirs = reference.Forward(tokens[pos], pos);
                for (int i = 0; i < theirs.Length; i++)
                    Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-4 + 1e-4 * Math.Abs(theirs[i]), $"{arch} pos {pos} logit {i}: {ours[i]} vs {theirs[i]}");
            }
            // the prompt path (biases added per token before RoPE) agrees with token-by-token decoding
            float* p = prefilled.Prefill(tokens, 0);
            for (int i = 0; i < 512; i++) Assert.True(Math.Abs(p[i] - ours[i]) <= 1e-4 + 1e-4 * Math.Abs(ours[i]), $"{arch} prefill logit {i}: {p[i]} vs {ours[i]}");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Phi3_with_long_context_rope_factors_is_refused_with_a_clear_error()
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-phi3-rf-{Guid.NewGuid():N}.gguf");
        try
        {
            WriteVariant(SharedData.File("models/llama2c/stories260K.bin"), path, "phi3", ropeFactors: true);
            var e = Assert.Throws<global::Llmaot.Diagnostics.LlmaotException>(() => GgufReader.ReadLlama(path));
            Assert.Contains("scaled rotary embeddings", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
    }

    /// <summary>Writes the checkpoint as a qwen2 or phi3 GGUF; returns the biases (qwen2) in the checkpoint's (interleaved) order.</summary>
    private static (float[]?, float[]?, float[]?) WriteVariant(string bin, string path, string arch, bool ropeFactors = false)
    {
        using var r = new BinaryReader(File.OpenRead(bin));
        int dim = r.ReadInt32(), hidden = r.ReadInt32(), layers = r.ReadInt32(), heads = r.ReadInt32(), kvHeads = r.ReadInt32(), vocab = Math.Abs(r.ReadInt32()), seq = r.ReadInt32();
        int hs = dim / heads, kvDim = kvHeads * hs;
        float[] F(long n) { var a = new float[n]; for (long i = 0; i < n; i++) a[i] = r.ReadSingle(); return a; }
        var emb = F((long)vocab * dim); var rmsAtt = F(layers * dim); var wq = F((long)layers * dim * dim); var wk = F((long)layers * dim * kvDim); var wv = F((long)layers * dim * kvDim);
        var wo = F((long)layers * dim * dim); var rmsFfn = F(layers * dim); var w1 = F((long)layers * dim * hidden); var w2 = F((long)layers * hidden * dim); var w3 = F((long)layers * dim * hidden); var rmsFinal = F(dim);
        float[] Slice(float[] a, long off, long n) => a.AsSpan((int)off, (int)n).ToArray();
        // NeoX order: within each head, the even elements of the interleaved pairs first, then the odd ones
        float[] Neox(float[] rows, int nHeads, int cols)
        {
            var o = new float[rows.Length];
            for (int h = 0; h < nHeads; h++)
                for (int i = 0; i < hs / 2; i++)
                {
                    Array.Copy(rows, (h * hs + 2 * i) * cols, o, (h * hs + i) * cols, cols);
                    Array.Copy(rows, (h * hs + 2 * i + 1) * cols, o, (h * hs + hs / 2 + i) * cols, cols);
                }
            return o;
        }
        var rng = new Random(5);
        float[]? Bias(int n) => arch == "qwen2" ? Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() - 0.5) * 0.4f).ToArray() : null;
        var (bq, bk, bv) = (Bias(layers * dim), Bias(layers * kvDim), Bias(layers * kvDim));

        var g = new GgufWriter();
        g.Add("general.architecture", arch);
        g.Add($"{arch}.context_length", (uint)seq);
        g.Add($"{arch}.embedding_length", (uint)dim);
        g.Add($"{arch}.block_count", (uint)layers);
        g.Add($"{arch}.feed_forward_length", (uint)hidden);
        g.Add($"{arch}.attention.head_count", (uint)heads);
        g.Add($"{arch}.attention.head_count_kv", (uint)kvHeads);
        g.Add($"{arch}.rope.dimension_count", (uint)hs);
        g.Add($"{arch}.rope.freq_base", 10000f);
        g.Add($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f);
        void T(string name, float[] data, params long[] shape) => g.AddTensor(name, ElementType.Float, shape, s => s.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan())));
        T("token_embd.weight", emb, vocab, dim);
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.";
            T(b + "attn_norm.weight", Slice(rmsAtt, l * dim, dim), dim);
            var q = Neox(Slice(wq, (long)l * dim * dim, (long)dim * dim), heads, dim);
            var k = Neox(Slice(wk, (long)l * kvDim * dim, (long)kvDim * dim), kvHeads, dim);
            var v = Slice(wv, (long)l * kvDim * dim, (long)kvDim * dim);
            if (arch == "phi3") T(b + "attn_qkv.weight", [.. q, .. k, .. v], dim + 2 * kvDim, dim);
            else
            {
                T(b + "attn_q.weight", q, dim, dim);
                T(b + "attn_k.weight", k, kvDim, dim);
                T(b + "attn_v.weight", v, kvDim, dim);
                T(b + "attn_q.bias", Neox(Slice(bq!, l * dim, dim), heads, 1), dim);
                T(b + "attn_k.bias", Neox(Slice(bk!, l * kvDim, kvDim), kvHeads, 1), kvDim);
                T(b + "attn_v.bias", Slice(bv!, l * kvDim, kvDim), kvDim);
            }
            T(b + "attn_output.weight", Slice(wo, (long)l * dim * dim, (long)dim * dim), dim, dim);
            T(b + "ffn_norm.weight", Slice(rmsFfn, l * dim, dim), dim);
            var gate = Slice(w1, (long)l * hidden * dim, (long)hidden * dim);
            var up = Slice(w3, (long)l * hidden * dim, (long)hidden * dim);
            if (arch == "phi3") T(b + "ffn_up.weight", [.. gate, .. up], 2 * hidden, dim);
            else
            {
                T(b + "ffn_gate.weight", gate, hidden, dim);
                T(b + "ffn_up.weight", up, hidden, dim);
            }
            T(b + "ffn_down.weight", Slice(w2, (long)l * dim * hidden, (long)dim * hidden), dim, hidden);
        }
        T("output_norm.weight", rmsFinal, dim);
        if (ropeFactors) T("rope_factors_long.weight", Enumerable.Repeat(1f, hs / 2).ToArray(), hs / 2);
        g.Write(path);
        return (bq, bk, bv);
    }
}
