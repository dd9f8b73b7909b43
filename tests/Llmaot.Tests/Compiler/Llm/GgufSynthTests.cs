using Llmaot.Emit;
using Llmaot.Llm;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.Llm;
using Llmaot.Verify;

namespace Llmaot.Tests.Compiler.Llm;

/// <summary>The synthetic GGUF writer: files read back with <see cref="GgufReader"/>, build, and generate.</summary>
public unsafe class GgufSynthTests
{
    private static readonly SynthShape Tiny = new("tiny", 64, 2, 4, 2, 128, 512);

    [Theory]
    [InlineData("f32")]
    [InlineData("q8_0")]
    [InlineData("q4_0")]
    public void Synthetic_gguf_reads_back_builds_and_generates(string type)
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-synth-{Guid.NewGuid():N}.gguf");
        try
        {
            var t = GgufSynth.ParseType(type);
            GgufSynth.Write(path, Tiny, t, seed: 5, context: 64);
            using (var m = GgufReader.ReadLlama(path))
            {
                Assert.Equal(64, m.Config.Dim);
                Assert.Equal(2, m.Config.Layers);
                Assert.Equal(4, m.Config.Heads);
                Assert.Equal(2, m.Config.KvHeads);
                Assert.Equal(128, m.Config.HiddenDim);
                Assert.Equal(512, m.Config.Vocab);
                Assert.False(m.Config.TiedOutput);
                Assert.Equal(t, m.Tensor("blk.1.ffn_down").Type);
                Assert.Equal(new long[] { 64, 128 }, m.Tensor("blk.1.ffn_down").Shape);
                Assert.Equal(new long[] { 32, 64 }, m.Tensor("blk.0.attn_k").Shape);
                Assert.Equal(ElementType.Float, m.Tensor("output_norm").Type);
                Assert.Equal(512, m.Vocab!.Pieces.Length);
                Assert.Equal("<0x41>", System.Text.Encoding.UTF8.GetString(m.Vocab.Pieces[0x41 + 3]));
                // Seeded N(0, 0.02): the sample deviation of the F32 embedding is near 0.02.
                if (t == ElementType.Float)
                {
                    var e = m.Tensor("token_embd").Data.As<float>();
                    double ss = 0;
                    foreach (var v in e) ss += v * v;
                    Assert.InRange(Math.Sqrt(ss / e.Length), 0.019, 0.021);
                }
            }
            var g = global::Llmaot.Compiler.Compile(path, new CompileOptions(), new EmitOptions { ClassName = "Lm", Name = "lm" });
            using var loaded = InMemoryCompiler.Compile([g]);
            Assert.Empty(loaded.Warnings);
            using var lm = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            using var ms = new MemoryStream();
            int pos = 0, last = 1;
            string stats = LlmHost.Generate(lm, "the cat", 8, new SamplerOptions(Temperature: 0), ms, ref pos, ref last, System.Diagnostics.Stopwatch.GetTimestamp());
            Assert.Contains("\"generated_tokens\":", stats);
            Assert.True(pos > 4, stats);
            float* logits = lm.Forward(300, pos);
            for (int i = 0; i < 512; i++) Assert.True(float.IsFinite(logits[i]));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("f32", 1)]
    [InlineData("q4_0", 2)]
    [InlineData("q8_0", 2)]
    public void Batched_prefill_matches_token_by_token_forward(string type, int threads)
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-synth-{Guid.NewGuid():N}.gguf");
        try
        {
            GgufSynth.Write(path, Tiny, GgufSynth.ParseType(type), seed: 11, context: 160);
            var g = global::Llmaot.Compiler.Compile(path, new CompileOptions(), new EmitOptions { ClassName = "Lm", Name = "lm" });
            using var loaded = InMemoryCompiler.Compile([g]);
            using var a = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            using var b = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            a.Threads = threads;
            // 70 tokens: two batches (64 + 6) after a 3-token start, so the second batch attends over the first one's cache.
            var tokens = Enumerable.Range(0, 73).Select(i => 1 + (i * 37) % 511).ToArray();
            a.Prefill(tokens.AsSpan(0, 3), 0);
            float* la = a.Prefill(tokens.AsSpan(3), 3);
            float* lb = null;
            for (int i = 0; i < tokens.Length; i++) lb = b.Forward(tokens[i], i);
            // Quantized weights: the prompt path multiplies widened weights by float activations, decoding by int8 activations.
            double tol = type == "f32" ? 1e-4 : 0.05;
            void Same(float* x, float* y, string what)
            {
                double scale = 0;
                for (int i = 0; i < 512; i++) scale = Math.Max(scale, Math.Abs(y[i]));
                for (int i = 0; i < 512; i++) Assert.True(Math.Abs(x[i] - y[i]) <= tol * (1 + scale), $"{what} logit {i}: {x[i]} vs {y[i]}");
            }
            Same(la, lb, "after prefill");
            Same(a.Forward(7, tokens.Length), b.Forward(7, tokens.Length), "next token");
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void Same_seed_same_bytes_and_quantized_files_hold_the_same_weights()
    {
        string a = Path.GetTempFileName(), b = Path.GetTempFileName(), q = Path.GetTempFileName();
        try
        {
            GgufSynth.Write(a, Tiny, ElementType.Float, seed: 9);
            GgufSynth.Write(b, Tiny, ElementType.Float, seed: 9);
            GgufSynth.Write(q, Tiny, ElementType.Q8_0, seed: 9);
            Assert.Equal(File.ReadAllBytes(a), File.ReadAllBytes(b));
            using var fm = GgufReader.ReadLlama(a);
            using var qm = GgufReader.ReadLlama(q);
            var f = fm.Tensor("blk.0.attn_q").Data.As<float>().ToArray();
            var d = new float[f.Length];
            fixed (byte* src = qm.Tensor("blk.0.attn_q").Data.Span)
            fixed (float* dst = d)
                global::Llmaot.Runtime.Kernels.BlockQuant.DequantizeQ8_0(src, dst, d.Length);
            for (int i = 0; i < f.Length; i++) Assert.True(Math.Abs(f[i] - d[i]) < 1e-3, $"{i}: {f[i]} vs {d[i]}");
        }
        finally
        {
            File.Delete(a); File.Delete(b); File.Delete(q);
        }
    }
}
