using System.Globalization;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>
/// Emits a decoder-only language model as one C# class implementing <see cref="Runtime.Llm.ILlmModel"/>: shape constants,
/// weight offsets into the packed blob, a static state (activations, KV cache sized by the context, RoPE tables), and a
/// <c>Forward(token, pos)</c> that reads like llama2.c's forward(): per layer RMSNorm, Q/K/V projections, RoPE, attention
/// over the cache, output projection, residual, RMSNorm, SwiGLU feed-forward, residual; then the final norm and classifier.
/// </summary>
public static class LlmEmitter
{
    /// <summary>Kernel-name suffix of a weight format.</summary>
    private static string Fmt(ElementType t) => t switch
    {
        ElementType.Float => "F32", ElementType.Float16 => "F16", ElementType.Q8_0 => "Q8_0", ElementType.Q4_0 => "Q4_0",
        ElementType.MatMulNBits4 => "NBits4",
        _ => throw new LlmaotException(Codes.UnsupportedType, $"weight format {t} is not supported by the decoder kernels yet (F32, F16, Q8_0, Q4_0 and MatMulNBits 4-bit are)"),
    };

    /// <summary>
    /// Packs one weight in its format, or quantized to <paramref name="quantize"/> (q8_0/q4_0) when it is a matrix whose rows are
    /// whole 32-element blocks; other tensors (norms, rows like ffn_down's 172) keep their format. Returns the format used.
    /// </summary>
    private static unsafe (ElementType Type, byte[] Bytes) Pack(LlmTensor t, string? quantize)
    {
        bool matrix = t.Shape.Length == 2 && !t.Name.EndsWith("norm", StringComparison.Ordinal);
        bool blocks = matrix && t.Shape[1] % 32 == 0;
        float[] f;
        if (GgmlBlocks.Widens(t.Type))
        {
            // GGUF formats without a decoder kernel (Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K, BF16): widened to float here (exact), then
            // packed as the --quantize target or Q8_0 (an 8-bit grid finer than any of the quantized ones; BF16 stays exact as F32)
            f = GgmlBlocks.ToFloat(t.Type, t.Data.Span, t.Count);
            if (!blocks || (quantize == null && t.Type == ElementType.BFloat16))
                return (ElementType.Float, System.Runtime.InteropServices.MemoryMarshal.AsBytes(f.AsSpan()).ToArray());
            quantize ??= "q8_0";
        }
        else
        {
            if (quantize == null || !blocks || t.Type is not (ElementType.Float or ElementType.Float16))
                return (t.Type, t.Data.Span.ToArray());
            f = new float[t.Count];
            if (t.Type == ElementType.Float) t.Data.As<float>().CopyTo(f);
            else { var h = t.Data.As<Half>(); for (int i = 0; i < f.Length; i++) f[i] = (float)h[i]; }
        }
        var target = quantize == "q8_0" ? ElementType.Q8_0 : ElementType.Q4_0;
        var bytes = new byte[ElementTypes.ByteCount(target, f.Length)];
        fixed (float* src = f)
        fixed (byte* dst = bytes)
        {
            if (target == ElementType.Q8_0) Runtime.Kernels.BlockQuant.QuantizeQ8_0(src, dst, f.Length);
            else Runtime.Kernels.BlockQuant.QuantizeQ4_0(src, dst, f.Length);
        }
        return (target, bytes);
    }

    /// <summary>Weights above which the decode attention prefetches the KV cache (below, weights and cache stay in L2/L3 between tokens).</summary>
    private const long PrefetchAboveBytes = 16L << 20;

    /// <summary>Prompt tokens per batched pass (bounded so the prompt buffers stay small).</summary>
    public const int PrefillBatch = 64;

    /// <summary>
    /// Emits Prefill: a one-token prompt is one Forward; longer prompts go through each layer together, PrefillBatch tokens at a
    /// time: RMSNorm per row, the projections as matrix-matrix products over the tokens (<c>LlmParallel.MatMul</c>: for Q8_0/Q4_0
    /// weights the tokens' activations are quantized to int8 once per product and an integer GEMM (<c>BlockQuantGemm</c>) runs
    /// register tiles of weight rows × 4 tokens; F32 goes to Gemm), RoPE and the keys/values into the cache (in the --kv-cache
    /// format), causal attention over the cache, SwiGLU; then the classifier for the last token only.
    /// </summary>
    private static void EmitPrefill(CSharpWriter w, LlmConfig c, List<string> state, Func<string, string> T, Func<string, string> WF, Dictionary<string, long> offsets, Kv kv)
    {
        w.Open("public float* Prefill(ReadOnlySpan<int> tokens, int start)");
        w.Line("if (tokens.Length == 1) return Forward(tokens[0], start);");
        w.Line("float* logits = null;");
        w.Line("for (int c = 0; c < tokens.Length; c += PrefillBatch) logits = PrefillBatchOf(tokens.Slice(c, Math.Min(PrefillBatch, tokens.Length - c)), start + c);");
        w.Line("return logits;");
        w.Close();
        w.Line();
        w.Open("private float* PrefillBatchOf(ReadOnlySpan<int> tokens, int start)");
        w.Line("int n = tokens.Length;");
        w.Line("if (n == 0 || (uint)start > Context || start + n > Context) throw new ArgumentOutOfRangeException(nameof(start), \"LLMAOT9031: token or position out of range\");");
        w.Line("float* s = (float*)_arena.Base;");
        w.Line("byte* wb = _weights.Pointer;");
        foreach (var name in state) w.Line($"float* {name} = s + S_{name};");
        w.Open("for (int t = 0; t < n; t++)");
        w.Line("if ((uint)tokens[t] >= Vocab) throw new ArgumentOutOfRangeException(nameof(tokens), \"LLMAOT9031: token or position out of range\");");
        w.Line($"Transformer.EmbeddingRow{T("token_embd")}(wb + W_token_embd, tokens[t], px + (long)t * Dim, Dim);");
        w.Close();
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk_{l}_";
            string b = $"blk.{l}.";
            w.Line();
            w.Comment($"layer {l}: attention");
            w.Line($"for (int t = 0; t < n; t++) Transformer.RmsNorm(px + (long)t * Dim, (float*)(wb + W_{p}attn_norm), pxb + (long)t * Dim, Dim, RmsEps);");
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "attn_q")}, n, Dim, pxb, wb + W_{p}attn_q, Dim, pq, Dim, (sbyte*)pxq, pxd);");
            // K and V reuse Q's quantized activations when they share its format
            string again = WF(b + "attn_k") == WF(b + "attn_q") ? "true" : "false";
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "attn_k")}, n, Dim, pxb, wb + W_{p}attn_k, KvDim, pk, KvDim, (sbyte*)pxq, pxd, quantized: {again});");
            again = WF(b + "attn_v") == WF(b + "attn_k") ? "true" : "false";
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "attn_v")}, n, Dim, pxb, wb + W_{p}attn_v, KvDim, {(kv.Name == "f32" ? $"valueCache + ({l}L * Context + start) * KvDim" : "pv")}, KvDim, (sbyte*)pxq, pxd, quantized: {again});");
            w.Open("for (int t = 0; t < n; t++)");
            EmitBiases(w, offsets, l, "pq + (long)t * Dim", "pk + (long)t * KvDim", kv.Name == "f32" ? $"valueCache + ({l}L * Context + start + t) * KvDim" : "pv + (long)t * KvDim");
            w.Line("float* cos = ropeCos + (long)(start + t) * (HeadSize / 2), sin = ropeSin + (long)(start + t) * (HeadSize / 2);");
            w.Line("Transformer.Rope(pq + (long)t * Dim, Dim, HeadSize, cos, sin);");
            w.Line("Transformer.Rope(pk + (long)t * KvDim, KvDim, HeadSize, cos, sin);");
            kv.Store(w, l, "pk + (long)t * KvDim", "pv + (long)t * KvDim", "start + t");
            w.Close();
            kv.PromptAttention(w, l);
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "attn_output")}, n, Dim, pxb, wb + W_{p}attn_output, Dim, pxb2, Dim, (sbyte*)pxq, pxd);");
            w.Line("Transformer.AddInPlace(px, pxb2, n * Dim);");
            w.Comment($"layer {l}: feed-forward (SwiGLU)");
            w.Line($"for (int t = 0; t < n; t++) Transformer.RmsNorm(px + (long)t * Dim, (float*)(wb + W_{p}ffn_norm), pxb + (long)t * Dim, Dim, RmsEps);");
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "ffn_gate")}, n, Dim, pxb, wb + W_{p}ffn_gate, HiddenDim, phb, HiddenDim, (sbyte*)pxq, pxd);");
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "ffn_up")}, n, Dim, pxb, wb + W_{p}ffn_up, HiddenDim, phb2, HiddenDim, (sbyte*)pxq, pxd, quantized: {(WF(b + "ffn_up") == WF(b + "ffn_gate") ? "true" : "false")});");
            w.Line("Transformer.SwiGlu(phb, phb2, n * HiddenDim);");
            w.Line($"LlmParallel.MatMul(_pool, {WF(b + "ffn_down")}, n, HiddenDim, phb, wb + W_{p}ffn_down, Dim, pxb, Dim, (sbyte*)pxq, pxd);");
            w.Line("Transformer.AddInPlace(px, pxb, n * Dim);");
        }
        w.Line();
        w.Comment("final norm and classifier, last token only");
        w.Line("Transformer.RmsNorm(px + (long)(n - 1) * Dim, (float*)(wb + W_output_norm), x, Dim, RmsEps);");
        w.Line($"LlmParallel.MatVec(_pool, {WF("output")}, Dim, x, (sbyte*)xq, xd, wb + W_output, logits, Vocab);");
        w.Line("return logits;");
        w.Close();
    }

    public static GeneratedModel Emit(LlmModel m, EmitOptions o, int? context = null, string? quantize = null, string? kvCache = null)
    {
        if (quantize is not (null or "q8_0" or "q4_0"))
            throw new LlmaotException(Codes.BadOption, $"--quantize {quantize} is not available for language models (q8_0 and q4_0 are)");
        kvCache ??= "f32";
        if (kvCache is not ("f32" or "f16" or "int8"))
            throw new LlmaotException(Codes.BadOption, $"--kv-cache {kvCache} is not available (f32, f16 and int8 are)");
        var kv = new Kv(kvCache);
        var c = m.Config;
        int ctx = context ?? c.ContextLength;
        if (ctx <= 0) throw new LlmaotException(Codes.BadOption, $"--ctx must be positive, got {ctx}");
        if (m.Vocab == null) throw new LlmaotException(Codes.BadOption, $"{m.SourceName} carries no vocabulary; give the tokenizer with --tokenizer FILE");
        if (m.Vocab.Pieces.Length != c.Vocab) throw new LlmaotException(Codes.MalformedModel, $"the tokenizer has {m.Vocab.Pieces.Length} pieces, the model {c.Vocab} tokens");

        // Pack weights (64-byte aligned), then the vocabulary in llama2.c tokenizer format.
        var blob = new MemoryStream();
        var offsets = new Dictionary<string, long>(StringComparer.Ordinal);
        var formats = new SortedSet<string>(StringComparer.Ordinal);
        void Add(string name, ReadOnlySpan<byte> bytes)
        {
            while (blob.Length % 64 != 0) blob.WriteByte(0);
            offsets[name] = blob.Length;
            blob.Write(bytes);
        }
        var order = new List<string> { "token_embd" };
        for (int l = 0; l < c.Layers; l++)
        {
            foreach (var k in new[] { "attn_norm", "attn_q", "attn_k", "attn_v", "attn_output", "ffn_norm", "ffn_gate", "ffn_down", "ffn_up" })
                order.Add($"blk.{l}.{k}");
            foreach (var k in new[] { "attn_q.bias", "attn_k.bias", "attn_v.bias" })
                if (m.Tensors.ContainsKey($"blk.{l}.{k}")) order.Add($"blk.{l}.{k}");
        }
        order.Add("output_norm");
        if (!c.TiedOutput) order.Add("output");
        long parameters = 0;
        var types = new Dictionary<string, ElementType>(StringComparer.Ordinal);
        var kept = new List<string>();
        var widened = new List<(string Name, string From, string To)>();
        foreach (var name in order)
        {
            var t = m.Tensor(name);
            if (name.EndsWith("norm", StringComparison.Ordinal) && t.Type != ElementType.Float)
                throw new LlmaotException(Codes.UnsupportedType, $"{m.SourceName}: norm weight '{name}' must be F32");
            if (name.EndsWith(".bias", StringComparison.Ordinal) && (t.Type != ElementType.Float || t.Shape.Length != 1))
                throw new LlmaotException(Codes.UnsupportedType, $"{m.SourceName}: bias '{name}' must be an F32 vector");
            var (type, bytes) = Pack(t, quantize);
            if (GgmlBlocks.Widens(t.Type)) widened.Add((name, ElementTypes.Name(t.Type), Fmt(type)));
            Fmt(type);
            if (type == ElementType.MatMulNBits4 && (name == "token_embd" || (t.Shape[1] + 31) / 32 * 32 > Runtime.Kernels.LlmParallel.ScratchFloats))
                throw new LlmaotException(Codes.UnsupportedType, $"{m.SourceName}: '{name}' in MatMulNBits format can only be a projection with at most {Runtime.Kernels.LlmParallel.ScratchFloats} inputs");
            if (quantize != null && t.Shape.Length == 2 && type is not (ElementType.Q8_0 or ElementType.Q4_0 or ElementType.MatMulNBits4)) kept.Add($"{name} ({t.Shape[1]} per row)");
            types[name] = type;
            formats.Add(Fmt(type));
            Add(name, bytes);
            parameters += t.Count;
        }
        if (c.TiedOutput) { offsets["output"] = offsets["token_embd"]; types["output"] = types["token_embd"]; }
        var vocabBytes = new MemoryStream();
        var bw = new BinaryWriter(vocabBytes);
        bw.Write(m.Vocab.Pieces.Max(p => p.Length));
        for (int i = 0; i < c.Vocab; i++)
        {
            bw.Write(m.Vocab.Scores[i]);
            bw.Write(m.Vocab.Pieces[i].Length);
            bw.Write(m.Vocab.Pieces[i]);
        }
        bw.Flush();
        Add("vocab", vocabBytes.ToArray());
        var merges = m.Vocab.Merges;
        if (merges != null) Add("merges", MergeBytes(merges));
        var weights = blob.ToArray();

        string T(string name) => Fmt(types[name]);
        string WF(string name) => $"WeightFormat.{Fmt(types[name])}";
        int maxN = Math.Max(c.Dim, c.HiddenDim);
        int batch = Math.Min(PrefillBatch, ctx);
        var w = new CSharpWriter();
        string cls = o.ClassName;
        var ci = CultureInfo.InvariantCulture;
        w.Line("// <auto-generated>");
        w.Line($"// Generated by llmaot {ModelEmitter.CompilerVersion} from {Lit.Comment(m.SourceName)}. Do not edit: rebuild the model instead.");
        w.Line($"// model sha256: {m.Sha256}");
        w.Line($"// architecture: {c.Architecture}; dim {c.Dim}, hidden {c.HiddenDim}, layers {c.Layers}, heads {c.Heads} (kv {c.KvHeads}), vocab {c.Vocab}, context {ctx} of {c.ContextLength}");
        w.Line($"// weights: {weights.Length} bytes ({string.Join("+", formats)}), parameters: {parameters}; options: {Lit.Comment(o.OptionsText.Length > 0 ? o.OptionsText : "(defaults)")}");
        if (kept.Count > 0) w.Line($"// not quantized (rows are not whole 32-element blocks): {string.Join(", ", kept)}");
        if (widened.Count > 0) w.Line($"// converted at build time (no kernel of their own): {string.Join(", ", widened.Select(x => $"{x.Name} {x.From} -> {x.To}"))}");
        if (kv.Name != "f32") w.Line($"// KV cache: {kv.Name}");
        w.Line("// </auto-generated>");
        w.Line("#nullable enable");
        w.Line("using System;");
        w.Line("using Llmaot.Runtime;");
        w.Line("using Llmaot.Runtime.Kernels;");
        w.Line("using Llmaot.Runtime.Llm;");
        w.Line();
        w.Line($"namespace {o.Namespace};");
        w.Line();
        w.Line("/// <summary>");
        w.Line($"/// {Lit.Comment(m.SourceName)} compiled ahead of time by llmaot: a {c.Architecture} decoder with a static KV cache of {ctx} positions.");
        w.Line("/// Forward never allocates. One instance is one conversation; use one instance per thread.");
        w.Line("/// </summary>");
        w.Open($"public sealed unsafe partial class {cls} : ILlmModel");
        w.Line($"public const int Dim = {c.Dim}, HiddenDim = {c.HiddenDim}, Layers = {c.Layers}, Heads = {c.Heads}, KvHeads = {c.KvHeads};");
        w.Line($"public const int HeadSize = {c.HeadSize}, KvDim = {c.KvDim}, Vocab = {c.Vocab}, Context = {ctx};");
        w.Line($"public const float RmsEps = {Lit.F(c.RmsEps)}, RopeTheta = {Lit.F(c.RopeTheta)};");
        w.Line($"public const long WeightsBytes = {weights.Length};");
        w.Line($"/// <summary>Prompt tokens run together through each layer (longer prompts go in batches of this size).</summary>");
        w.Line($"public const int PrefillBatch = {batch};");
        w.Line($"/// <summary>Whether the decode attention prefetches the cached keys/values: the weights, streamed once per token, are larger than {PrefetchAboveBytes >> 20} MiB and evict them from L2/L3.</summary>");
        w.Line($"private const bool PrefetchKv = {(weights.Length > PrefetchAboveBytes ? "true" : "false")};");
        w.Line($"/// <summary>Per-thread scratch of the worker pool: a tile of widened weight rows, or one attention row.</summary>");
        w.Line($"private const long PoolScratchBytes = {Math.Max(Runtime.Kernels.LlmParallel.ScratchFloats, ctx + 16) * 4L};");
        w.Line();
        // State layout (floats) in one arena.
        var state = new List<(string Name, long Floats, string What)>
        {
            ("x", c.Dim, "residual stream"), ("xb", c.Dim, "normalized input / attention output"), ("xb2", c.Dim, "projection output"),
            ("q", c.Dim, "query"), ("hb", c.HiddenDim, "gate"), ("hb2", c.HiddenDim, "up"), ("att", (ctx + 15) / 16 * 16, "attention scores"),
            ("logits", c.Vocab, "classifier output"), ("ropeCos", (long)ctx * c.HeadSize / 2, "cos table [pos, headSize/2]"),
            ("ropeSin", (long)ctx * c.HeadSize / 2, "sin table"),
            ("keyCache", kv.Floats((long)c.Layers * ctx * c.KvDim), $"[layer, kvDim, pos] {kv.Name}: keys transposed, so attention scores are contiguous FMAs"),
            ("k", c.KvDim, "this position's keys"),
            ("valueCache", kv.Floats((long)c.Layers * ctx * c.KvDim), $"[layer, pos, kvDim] {kv.Name}"),
            ("xq", (2L * maxN + 3) / 4, "the input of a matrix-vector product as int8 blocks, then the blocks' Q4_0 corrections (Q8_0/Q4_0 weights)"),
            ("xd", (maxN + 31) / 32, "scales of xq, one per 32"),
            ("px", (long)batch * c.Dim, "prompt: residual streams [PrefillBatch, Dim]"), ("pxb", (long)batch * c.Dim, "prompt: normalized inputs / attention outputs"),
            ("pxb2", (long)batch * c.Dim, "prompt: projection outputs"), ("pq", (long)batch * c.Dim, "prompt: queries"), ("pk", (long)batch * c.KvDim, "prompt: keys"),
            ("phb", (long)batch * c.HiddenDim, "prompt: gates"), ("phb2", (long)batch * c.HiddenDim, "prompt: ups"),
            ("pxq", ((long)batch * maxN + 3) / 4, "prompt: the input of a matrix product as int8 blocks [PrefillBatch, n] (Q8_0/Q4_0 weights)"),
            ("pxd", (long)batch * ((maxN + 31) / 32), "prompt: scales of pxq, one per 32"),
        };
        if (kv.Name != "f32")
        {
            state.Add(("v", c.KvDim, "this position's values (before they go into the cache)"));
            state.Add(("pv", (long)batch * c.KvDim, "prompt: values (before they go into the cache)"));
        }
        if (kv.Name == "int8")
        {
            state.Add(("keyScale", (long)c.Layers * c.KvHeads * ctx, "[layer, kvHead, pos] scales of the int8 keys"));
            state.Add(("valueScale", (long)c.Layers * ctx * c.KvHeads, "[layer, pos, kvHead] scales of the int8 values"));
        }
        long offset = 0;
        w.Comment("State: float offsets into the arena.");
        foreach (var (name, floats, what) in state)
        {
            w.Line($"private const long S_{name} = {offset}; // {floats} floats: {what}");
            offset += (floats + 15) / 16 * 16;
        }
        w.Line($"public const long StateBytes = {offset * 4};");
        w.Comment("Weights: byte offsets into the packed blob.");
        foreach (var (name, off) in offsets.OrderBy(k => k.Value).ThenBy(k => k.Key, StringComparer.Ordinal))
            w.Line($"private const long W_{Lit.Ident(name)} = {off};{(name == "output" && c.TiedOutput ? " // tied to token_embd" : "")}");
        w.Line($"private const int VocabBytes = {vocabBytes.Length};");
        if (merges != null) w.Line($"private const int MergesBytes = {4 + 12L * merges.Length};");
        w.Line();
        w.Line("private readonly Arena _arena;");
        w.Line("private readonly WeightBlob _weights;");
        w.Line("private readonly Tokenizer _tokenizer;");
        w.Line("private WorkerPool _pool = new(1, PoolScratchBytes);");
        w.Line();
        string load = o.Weights == WeightsMode.Embedded
            ? $"WeightBlob.FromResource(typeof({cls}).Assembly, {Lit.S(o.ResourceName)}, WeightsBytes)"
            : $"WeightBlob.OpenFile(System.IO.Path.Combine(AppContext.BaseDirectory, {Lit.S(o.WeightsFileName)}), WeightsBytes)";
        w.Line($"public {cls}() : this({load}) {{ }}");
        w.Line();
        w.Open($"public {cls}(WeightBlob weights)");
        w.Line("_weights = weights;");
        w.Line("_arena = new Arena(StateBytes);");
        if (merges != null)
            w.Line($"_tokenizer = Tokenizer.FromGpt2(new ReadOnlySpan<byte>(_weights.Pointer + W_vocab, VocabBytes), new ReadOnlySpan<byte>(_weights.Pointer + W_merges, MergesBytes), Vocab, bos: {m.Vocab.Bos}, eos: {m.Vocab.Eos}, addBos: {(m.Vocab.AddBos ? "true" : "false")}, BpePreTokenizer.{m.Vocab.PreTokenizer});");
        else w.Line("_tokenizer = Tokenizer.FromLlama2c(new ReadOnlySpan<byte>(_weights.Pointer + W_vocab, VocabBytes), Vocab);");
        w.Line("float* s = (float*)_arena.Base;");
        w.Line("Transformer.RopeTable(s + S_ropeCos, s + S_ropeSin, Context, HeadSize, RopeTheta);");
        w.Close();
        w.Line();
        w.Line($"public LlmInfo Info {{ get; }} = new({Lit.S(o.Name)}, Dim, Layers, Heads, KvHeads, Vocab, Context, WeightsBytes, StateBytes, {Lit.S(string.Join("+", formats))}, {Lit.S($"llmaot {ModelEmitter.CompilerVersion}; {m.SourceName}; sha256 {m.Sha256}")});");
        w.Line("public Tokenizer Tokenizer => _tokenizer;");
        w.Open("public int Threads");
        w.Line("get => _pool.Threads;");
        w.Open("set");
        w.Line("if (value < 1) value = 1;");
        w.Line("if (value == _pool.Threads) return;");
        w.Line("_pool.Dispose();");
        w.Line("_pool = new WorkerPool(value, PoolScratchBytes);");
        w.Close();
        w.Close();
        w.Line();
        EmitPrefill(w, c, state.Select(st => st.Name).ToList(), T, WF, offsets, kv);
        w.Line();
        w.Open("public float* Forward(int token, int pos)");
        w.Line("if ((uint)token >= Vocab || (uint)pos >= Context) throw new ArgumentOutOfRangeException(nameof(pos), \"LLMAOT9031: token or position out of range\");");
        w.Line("float* s = (float*)_arena.Base;");
        w.Line("byte* wb = _weights.Pointer;");
        foreach (var (name, _, _) in state) w.Line($"float* {name} = s + S_{name};");
        w.Line("float* cos = ropeCos + (long)pos * (HeadSize / 2);");
        w.Line("float* sin = ropeSin + (long)pos * (HeadSize / 2);");
        w.Line();
        w.Comment("token embedding");
        w.Line($"Transformer.EmbeddingRow{T("token_embd")}(wb + W_token_embd, token, x, Dim);");
        for (int l = 0; l < c.Layers; l++)
        {
            string p = $"blk_{l}_";
            string b = $"blk.{l}.";
            w.Line();
            w.Comment($"layer {l}: attention");
            w.Line($"Transformer.RmsNorm(x, (float*)(wb + W_{p}attn_norm), xb, Dim, RmsEps);");
            w.Line(kv.Name == "f32" ? $"float* v{l} = valueCache + ({l}L * Context + pos) * KvDim; // the values go straight into the cache" : $"float* v{l} = v;");
            if (types[b + "attn_q"] == types[b + "attn_k"] && types[b + "attn_k"] == types[b + "attn_v"])
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "attn_q")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}attn_q, q, Dim, wb + W_{p}attn_k, k, KvDim, wb + W_{p}attn_v, v{l}, KvDim);");
            else
            {
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "attn_q")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}attn_q, q, Dim);");
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "attn_k")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}attn_k, k, KvDim);");
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "attn_v")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}attn_v, v{l}, KvDim);");
            }
            EmitBiases(w, offsets, l, "q", "k", $"v{l}");
            w.Comment("RoPE, this position's keys/values into the cache, attention over positions [0, pos] into xb2 (one pool job, by KV head)");
            w.Line($"LlmParallel.DecodeAttention(_pool, {kv.Format}, q, k, v{l}, cos, sin, {kv.Caches(l)}, xb2, Heads, KvHeads, HeadSize, pos, Context, PrefetchKv);");
            w.Line($"LlmParallel.MatVec(_pool, {WF(b + "attn_output")}, Dim, xb2, (sbyte*)xq, xd, wb + W_{p}attn_output, xb, Dim);");
            w.Line("Transformer.AddInPlace(x, xb, Dim);");
            w.Comment($"layer {l}: feed-forward (SwiGLU)");
            w.Line($"Transformer.RmsNorm(x, (float*)(wb + W_{p}ffn_norm), xb, Dim, RmsEps);");
            if (types[b + "ffn_gate"] == types[b + "ffn_up"])
            {
                w.Comment("gate and up products and SwiGLU in one pool job: hb = silu(gate·xb) * (up·xb)");
                w.Line($"LlmParallel.GateUpSwiGlu(_pool, {WF(b + "ffn_gate")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}ffn_gate, hb, wb + W_{p}ffn_up, hb2, HiddenDim);");
            }
            else
            {
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "ffn_gate")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}ffn_gate, hb, HiddenDim);");
                w.Line($"LlmParallel.MatVec(_pool, {WF(b + "ffn_up")}, Dim, xb, (sbyte*)xq, xd, wb + W_{p}ffn_up, hb2, HiddenDim);");
                w.Line("Transformer.SwiGlu(hb, hb2, HiddenDim);");
            }
            w.Line($"LlmParallel.MatVec(_pool, {WF(b + "ffn_down")}, HiddenDim, hb, (sbyte*)xq, xd, wb + W_{p}ffn_down, xb, Dim);");
            w.Line("Transformer.AddInPlace(x, xb, Dim);");
        }
        w.Line();
        w.Comment("final norm and classifier");
        w.Line("Transformer.RmsNorm(x, (float*)(wb + W_output_norm), x, Dim, RmsEps);");
        w.Line($"LlmParallel.MatVec(_pool, {WF("output")}, Dim, x, (sbyte*)xq, xd, wb + W_output, logits, Vocab);");
        w.Line("return logits;");
        w.Close();
        w.Line();
        w.Open("public void Dispose()");
        w.Line("_pool.Dispose();");
        w.Line("_arena.Dispose();");
        w.Line("_weights.Dispose();");
        w.Close();
        w.Close();
        return new GeneratedModel
        {
            ClassName = cls,
            Source = w.ToString(),
            Weights = weights,
            ArenaBytes = offset * 4,
            NodeCount = c.Layers,
            Parameters = parameters,
            Options = o,
            IsLanguageModel = true,
            // per conversion, how many tensors (the generated source's header comment lists them by name)
            Notes = widened.Count > 0
                ? [$"{widened.Count} tensor(s) in formats without a kernel of their own were converted at build time ("
                    + string.Join(", ", widened.GroupBy(x => $"{x.From} -> {x.To}").Select(grp => $"{grp.Count()} {grp.Key}")) + "; listed in the generated source)"]
                : [],
        };
    }

    /// <summary>Byte-level BPE merges as the runtime reads them: int32 count, then (left, right, merged) int32 ids per merge.</summary>
    private static byte[] MergeBytes((int Left, int Right, int Merged)[] merges)
    {
        var bytes = new byte[4 + 12L * merges.Length];
        BitConverter.TryWriteBytes(bytes, merges.Length);
        for (int i = 0; i < merges.Length; i++)
        {
            BitConverter.TryWriteBytes(bytes.AsSpan(4 + 12 * i), merges[i].Left);
            BitConverter.TryWriteBytes(bytes.AsSpan(8 + 12 * i), merges[i].Right);
            BitConverter.TryWriteBytes(bytes.AsSpan(12 + 12 * i), merges[i].Merged);
        }
        return bytes;
    }

    /// <summary>The Q/K/V projection biases of layer <paramref name="l"/> (qwen2), added to the projections before RoPE.</summary>
    private static void EmitBiases(CSharpWriter w, Dictionary<string, long> offsets, int l, string q, string k, string v)
    {
        foreach (var (name, dst, n) in new[] { ("attn_q", q, "Dim"), ("attn_k", k, "KvDim"), ("attn_v", v, "KvDim") })
            if (offsets.ContainsKey($"blk.{l}.{name}.bias"))
                w.Line($"Transformer.AddInPlace({dst}, (float*)(wb + W_blk_{l}_{name}_bias), {n}); // {name} bias");
    }

    /// <summary>The KV cache's element type (<c>--kv-cache</c>): its size in the arena and the store / attention calls it emits.</summary>
    private sealed class Kv(string name)
    {
        public string Name { get; } = name;

        /// <summary>Floats of arena holding <paramref name="elements"/> cache elements.</summary>
        public long Floats(long elements) => Name switch { "f16" => (elements + 1) / 2, "int8" => (elements + 3) / 4, _ => elements };

        private static string KeysT(int l) => $"{l}L * KvDim * Context";
        private static string Values(int l) => $"{l}L * Context * KvDim";

        /// <summary>Stores one position's keys (transposed) and, unless the values were written in place (f32), its values.</summary>
        public void Store(CSharpWriter w, int l, string k, string v, string pos)
        {
            switch (Name)
            {
                case "f16":
                    w.Line($"KvCache.StoreKeyTF16({k}, (Half*)keyCache + {KeysT(l)}, KvDim, Context, {pos});");
                    w.Line($"KvCache.StoreValueF16({v}, (Half*)valueCache + ({l}L * Context + {pos}) * KvDim, KvDim);");
                    break;
                case "int8":
                    w.Line($"KvCache.StoreKeyTInt8({k}, (sbyte*)keyCache + {KeysT(l)}, keyScale + {l}L * KvHeads * Context, KvDim, HeadSize, Context, {pos});");
                    w.Line($"KvCache.StoreValueInt8({v}, (sbyte*)valueCache + ({l}L * Context + {pos}) * KvDim, valueScale + ({l}L * Context + {pos}) * KvHeads, KvDim, HeadSize);");
                    break;
                default:
                    w.Line($"Transformer.StoreKeyT({k}, keyCache + {KeysT(l)}, KvDim, Context, {pos});");
                    break;
            }
        }

        /// <summary>The KvFormat member naming this cache type.</summary>
        public string Format => Name switch { "f16" => "KvFormat.F16", "int8" => "KvFormat.Int8", _ => "KvFormat.F32" };

        /// <summary>Layer <paramref name="l"/>'s key cache, value cache, key scales and value scales as arguments (scales null unless int8).</summary>
        public string Caches(int l) => Name switch
        {
            "f16" => $"(Half*)keyCache + {KeysT(l)}, (Half*)valueCache + {Values(l)}, null, null",
            "int8" => $"(sbyte*)keyCache + {KeysT(l)}, (sbyte*)valueCache + {Values(l)}, keyScale + {l}L * KvHeads * Context, valueScale + {l}L * Context * KvHeads",
            _ => $"keyCache + {KeysT(l)}, valueCache + {Values(l)}, null, null",
        };

        /// <summary>Causal attention of the prompt's tokens over the layer's cache.</summary>
        public void PromptAttention(CSharpWriter w, int l)
        {
            switch (Name)
            {
                case "f16":
                    w.Line($"LlmParallel.PromptAttention(_pool, KvFormat.F16, pq, (Half*)keyCache + {KeysT(l)}, (Half*)valueCache + {Values(l)}, null, null, pxb, Heads, KvHeads, HeadSize, start, n, Context);");
                    break;
                case "int8":
                    w.Line($"LlmParallel.PromptAttention(_pool, KvFormat.Int8, pq, (sbyte*)keyCache + {KeysT(l)}, (sbyte*)valueCache + {Values(l)}, keyScale + {l}L * KvHeads * Context, valueScale + {l}L * Context * KvHeads, pxb, Heads, KvHeads, HeadSize, start, n, Context);");
                    break;
                default:
                    w.Line($"LlmParallel.PromptAttention(_pool, pq, keyCache + {KeysT(l)}, valueCache + {Values(l)}, pxb, Heads, KvHeads, HeadSize, start, n, Context);");
                    break;
            }
        }
    }
}
