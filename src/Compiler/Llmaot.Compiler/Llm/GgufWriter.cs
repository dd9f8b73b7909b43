using System.Text;
using Llmaot.Diagnostics;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>
/// Writes GGUF v3 files (the layout <see cref="GgufReader"/> reads): header, metadata key/values, tensor infos, then the
/// tensor data, each tensor aligned to <see cref="Alignment"/> bytes. Tensors are streamed: each one's bytes come from a
/// callback when the data section is written, so multi-gigabyte files never sit in memory.
/// </summary>
public sealed class GgufWriter
{
    public const int Alignment = 32;
    private readonly List<(string Key, uint Type, object Value)> _meta = [];
    private readonly List<(string Name, ElementType Type, long[] Shape, Action<Stream> Write)> _tensors = [];

    /// <summary>Adds a string value (GGUF type 8).</summary>
    public void Add(string key, string value) => _meta.Add((key, 8, value));
    /// <summary>Adds a uint32 value (GGUF type 4).</summary>
    public void Add(string key, uint value) => _meta.Add((key, 4, value));
    /// <summary>Adds a float32 value (GGUF type 6).</summary>
    public void Add(string key, float value) => _meta.Add((key, 6, value));
    /// <summary>Adds an array of strings.</summary>
    public void Add(string key, string[] values) => _meta.Add((key, 9, values));
    /// <summary>Adds an array of float32.</summary>
    public void Add(string key, float[] values) => _meta.Add((key, 9, values));
    /// <summary>Adds an array of int32.</summary>
    public void Add(string key, int[] values) => _meta.Add((key, 9, values));

    /// <summary>
    /// Adds a tensor of the given shape (outermost first, as <see cref="LlmTensor.Shape"/>; written reversed, ggml order) whose
    /// <see cref="ElementTypes.ByteCount"/> bytes <paramref name="write"/> produces.
    /// </summary>
    public void AddTensor(string name, ElementType type, long[] shape, Action<Stream> write) => _tensors.Add((name, type, shape, write));

    private static uint GgmlType(ElementType t) => t switch
    {
        ElementType.Float => 0, ElementType.Float16 => 1, ElementType.Q4_0 => 2, ElementType.Q8_0 => 8,
        _ => throw new LlmaotException(Codes.UnsupportedType, $"the GGUF writer handles F32, F16, Q8_0 and Q4_0, not {t}"),
    };

    public void Write(string path)
    {
        using var fs = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        var w = new BinaryWriter(fs, Encoding.UTF8, leaveOpen: true);
        void Str(string s)
        {
            var b = Encoding.UTF8.GetBytes(s);
            w.Write((ulong)b.Length);
            w.Write(b);
        }
        w.Write("GGUF"u8);
        w.Write(3u);
        w.Write((ulong)_tensors.Count);
        w.Write((ulong)_meta.Count);
        foreach (var (key, type, value) in _meta)
        {
            Str(key);
            w.Write(type);
            switch (value)
            {
                case string s: Str(s); break;
                case uint u: w.Write(u); break;
                case float f: w.Write(f); break;
                case string[] a:
                    w.Write(8u); w.Write((ulong)a.Length);
                    foreach (var s in a) Str(s);
                    break;
                case float[] a:
                    w.Write(6u); w.Write((ulong)a.Length);
                    foreach (var f in a) w.Write(f);
                    break;
                case int[] a:
                    w.Write(5u); w.Write((ulong)a.Length);
                    foreach (var i in a) w.Write(i);
                    break;
                default: throw new InvalidOperationException(value.GetType().Name);
            }
        }
        long offset = 0;
        var offsets = new long[_tensors.Count];
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, type, shape, _) = _tensors[i];
            Str(name);
            w.Write((uint)shape.Length);
            for (int d = shape.Length - 1; d >= 0; d--) w.Write((ulong)shape[d]);
            w.Write(GgmlType(type));
            w.Write((ulong)offset);
            offsets[i] = offset;
            long bytes = ElementTypes.ByteCount(type, shape.Aggregate(1L, (a, b) => a * b));
            offset += (bytes + Alignment - 1) / Alignment * Alignment;
        }
        w.Flush();
        Pad(fs);
        long data = fs.Position;
        for (int i = 0; i < _tensors.Count; i++)
        {
            var (name, type, shape, write) = _tensors[i];
            long before = fs.Position;
            if (before - data != offsets[i]) throw new InvalidOperationException($"GGUF writer: tensor '{name}' at {before - data}, expected {offsets[i]}");
            write(fs);
            long bytes = ElementTypes.ByteCount(type, shape.Aggregate(1L, (a, b) => a * b));
            if (fs.Position - before != bytes) throw new InvalidOperationException($"GGUF writer: tensor '{name}' wrote {fs.Position - before} bytes, expected {bytes}");
            Pad(fs);
        }
    }

    private static void Pad(Stream s)
    {
        while (s.Position % Alignment != 0) s.WriteByte(0);
    }
}

/// <summary>The llama shapes of the synthetic benchmark models (issue 5): dim, layers, heads, KV heads, hidden, vocab.</summary>
public sealed record SynthShape(string Name, int Dim, int Layers, int Heads, int KvHeads, int Hidden, int Vocab)
{
    public static readonly SynthShape[] All =
    [
        new("15m", 288, 6, 6, 6, 768, 32000),
        new("110m", 768, 12, 12, 12, 2048, 32000),
        new("1b", 2048, 22, 32, 4, 5632, 32000),
    ];

    public static SynthShape Find(string name) => All.FirstOrDefault(s => s.Name == name)
        ?? throw new LlmaotException(Codes.BadOption, $"unknown synthetic shape '{name}' ({string.Join(", ", All.Select(s => s.Name))} exist)");

    /// <summary>Bytes of the weights read per generated token: every matrix of every layer and the classifier (not the embedding table).</summary>
    public long BytesPerToken(ElementType t)
    {
        long kv = (long)KvHeads * (Dim / Heads);
        long perLayer = (long)Dim * Dim * 2 + 2 * kv * Dim + 3L * Dim * Hidden;
        return ElementTypes.ByteCount(t, perLayer * Layers + (long)Vocab * Dim) + 4L * Dim * (2 * Layers + 1);
    }
}

/// <summary>
/// Synthetic llama-architecture GGUF models for benchmarks: seeded N(0, 0.02) weights (the output projections attn_output and
/// ffn_down scaled by 1/sqrt(2·layers), as GPT-2 initializes them, so the residual stream stays of order one), norms of one,
/// an untied classifier, and a synthetic SentencePiece vocabulary (&lt;unk&gt;, &lt;s&gt;, &lt;/s&gt;, the 256 byte tokens, printable
/// ASCII characters, then made-up words) so the generated binary tokenizes and prints text. The text is meaningless;
/// the point is the exact size and layout of a real model of that shape.
/// </summary>
public static class GgufSynth
{
    /// <summary>
    /// Writes the model; <paramref name="byteLevel"/>, when given, replaces the SentencePiece vocabulary with a GPT-2 style one
    /// (tokenizer.ggml.model = gpt2: tokens spelled with the byte-to-unicode table, merges "left right"; its last token is the
    /// end-of-text token; <paramref name="bpePre"/> is tokenizer.ggml.pre); its token count must be the shape's vocabulary.
    /// </summary>
    public static void Write(string path, SynthShape s, ElementType type, ulong seed = 1, int context = 2048, (string[] Tokens, string[] Merges)? byteLevel = null, string? bpePre = null)
    {
        if (type is not (ElementType.Float or ElementType.Q8_0 or ElementType.Q4_0))
            throw new LlmaotException(Codes.BadOption, $"synthetic models are F32, Q8_0 or Q4_0, not {type}");
        var g = new GgufWriter();
        g.Add("general.architecture", "llama");
        g.Add("general.name", $"llmaot-synthetic-{s.Name}-{TypeName(type)}");
        g.Add("general.alignment", (uint)GgufWriter.Alignment);
        g.Add("llama.context_length", (uint)context);
        g.Add("llama.embedding_length", (uint)s.Dim);
        g.Add("llama.block_count", (uint)s.Layers);
        g.Add("llama.feed_forward_length", (uint)s.Hidden);
        g.Add("llama.attention.head_count", (uint)s.Heads);
        g.Add("llama.attention.head_count_kv", (uint)s.KvHeads);
        g.Add("llama.rope.dimension_count", (uint)(s.Dim / s.Heads));
        g.Add("llama.rope.freq_base", 10000f);
        g.Add("llama.attention.layer_norm_rms_epsilon", 1e-5f);
        if (byteLevel is { } bl)
        {
            if (bl.Tokens.Length != s.Vocab) throw new LlmaotException(Codes.BadOption, $"the byte-level vocabulary has {bl.Tokens.Length} tokens, the shape {s.Vocab}");
            g.Add("tokenizer.ggml.model", "gpt2");
            g.Add("tokenizer.ggml.tokens", bl.Tokens);
            g.Add("tokenizer.ggml.merges", bl.Merges);
            if (bpePre != null) g.Add("tokenizer.ggml.pre", bpePre);
            g.Add("tokenizer.ggml.token_type", bl.Tokens.Select((_, i) => i == bl.Tokens.Length - 1 ? 3 : 1).ToArray());
            g.Add("tokenizer.ggml.bos_token_id", (uint)(bl.Tokens.Length - 1));
            g.Add("tokenizer.ggml.eos_token_id", (uint)(bl.Tokens.Length - 1));
        }
        else
        {
            var (tokens, scores, kinds) = Vocabulary(s.Vocab);
            g.Add("tokenizer.ggml.model", "llama");
            g.Add("tokenizer.ggml.tokens", tokens);
            g.Add("tokenizer.ggml.scores", scores);
            g.Add("tokenizer.ggml.token_type", kinds);
            g.Add("tokenizer.ggml.bos_token_id", 1u);
            g.Add("tokenizer.ggml.eos_token_id", 2u);
        }
        int kv = s.KvHeads * (s.Dim / s.Heads);
        float proj = 0.02f / MathF.Sqrt(2 * s.Layers);
        ulong id = 0;
        void Matrix(string name, long rows, long cols, float std)
        {
            ulong tensorSeed = Mix(seed, ++id);
            g.AddTensor(name, type, [rows, cols], st => WriteRandom(st, type, rows * cols, std, tensorSeed));
        }
        void Norm(string name) => g.AddTensor(name, ElementType.Float, [s.Dim], st =>
        {
            var one = BitConverter.GetBytes(1f);
            for (int i = 0; i < s.Dim; i++) st.Write(one);
        });
        Matrix("token_embd.weight", s.Vocab, s.Dim, 0.02f);
        for (int l = 0; l < s.Layers; l++)
        {
            Norm($"blk.{l}.attn_norm.weight");
            Matrix($"blk.{l}.attn_q.weight", s.Dim, s.Dim, 0.02f);
            Matrix($"blk.{l}.attn_k.weight", kv, s.Dim, 0.02f);
            Matrix($"blk.{l}.attn_v.weight", kv, s.Dim, 0.02f);
            Matrix($"blk.{l}.attn_output.weight", s.Dim, s.Dim, proj);
            Norm($"blk.{l}.ffn_norm.weight");
            Matrix($"blk.{l}.ffn_gate.weight", s.Hidden, s.Dim, 0.02f);
            Matrix($"blk.{l}.ffn_up.weight", s.Hidden, s.Dim, 0.02f);
            Matrix($"blk.{l}.ffn_down.weight", s.Dim, s.Hidden, proj);
        }
        Norm("output_norm.weight");
        Matrix("output.weight", s.Vocab, s.Dim, 0.02f);
        g.Write(path);
    }

    /// <summary>f32, q8_0 or q4_0.</summary>
    public static string TypeName(ElementType t) => t switch { ElementType.Q8_0 => "q8_0", ElementType.Q4_0 => "q4_0", _ => "f32" };

    /// <summary>Parses f32, q8_0 or q4_0.</summary>
    public static ElementType ParseType(string s) => s.ToLowerInvariant() switch
    {
        "f32" => ElementType.Float, "q8_0" => ElementType.Q8_0, "q4_0" => ElementType.Q4_0,
        _ => throw new LlmaotException(Codes.BadOption, $"--type {s}: synthetic models are f32, q8_0 or q4_0"),
    };

    /// <summary>A synthetic SentencePiece vocabulary of <paramref name="n"/> pieces (n ≥ 512) with byte fallback at ids 3..258.</summary>
    public static (string[] Tokens, float[] Scores, int[] Types) Vocabulary(int n)
    {
        var tokens = new List<string> { "<unk>", "<s>", "</s>" };
        for (int b = 0; b < 256; b++) tokens.Add($"<0x{b:X2}>");
        var seen = new HashSet<string>(tokens, StringComparer.Ordinal);
        for (char c = ' '; c <= '~'; c++)
            if (seen.Add(c.ToString())) tokens.Add(c.ToString());
        seen.Add("\u2581");
        tokens.Add("\u2581");
        const string letters = "etaoinshrdlucmfwypvbgkjqxz";
        ulong state = 12345;
        while (tokens.Count < n)
        {
            state = Mix(state, 1);
            int len = 2 + (int)(state % 7);
            var sb = new StringBuilder();
            if ((state >> 8) % 2 == 0) sb.Append('\u2581');
            ulong r = state >> 16;
            for (int i = 0; i < len; i++)
            {
                sb.Append(letters[(int)(r % 26)]);
                r /= 26;
                if (r == 0) r = Mix(state, (ulong)i + 7);
            }
            if (seen.Add(sb.ToString())) tokens.Add(sb.ToString());
        }
        var scores = new float[n];
        var types = new int[n];
        for (int i = 0; i < n; i++)
        {
            types[i] = i < 3 ? 3 : i < 259 ? 6 : 1; // control, byte, normal
            scores[i] = i < 259 ? 0 : -(i - 259);
        }
        return (tokens.ToArray(), scores, types);
    }

    /// <summary>SplitMix64 step of (a, b): a well-mixed 64-bit value.</summary>
    private static ulong Mix(ulong a, ulong b)
    {
        ulong z = a + 0x9E3779B97F4A7C15UL * (b + 1);
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Streams count N(0, std) values (a multiple of 32) in the given format, generated chunk by chunk from the seed.</summary>
    private static unsafe void WriteRandom(Stream st, ElementType type, long count, float std, ulong seed)
    {
        const int Chunk = 1 << 16;
        var f = new float[Chunk];
        var bytes = new byte[ElementTypes.ByteCount(ElementType.Float, Chunk)];
        ulong x = seed | 1;
        for (long done = 0; done < count; done += Chunk)
        {
            int n = (int)Math.Min(Chunk, count - done);
            for (int i = 0; i < n; i += 2)
            {
                // xorshift64* uniforms, Box-Muller pairs.
                x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
                double u1 = ((x * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / (1UL << 53));
                x ^= x >> 12; x ^= x << 25; x ^= x >> 27;
                double u2 = ((x * 0x2545F4914F6CDD1DUL) >> 11) * (1.0 / (1UL << 53));
                double r = Math.Sqrt(-2 * Math.Log(1 - u1)) * std;
                f[i] = (float)(r * Math.Cos(2 * Math.PI * u2));
                if (i + 1 < n) f[i + 1] = (float)(r * Math.Sin(2 * Math.PI * u2));
            }
            int outBytes = (int)ElementTypes.ByteCount(type, n);
            fixed (float* src = f)
            fixed (byte* dst = bytes)
            {
                if (type == ElementType.Q8_0) Runtime.Kernels.BlockQuant.QuantizeQ8_0(src, dst, n);
                else if (type == ElementType.Q4_0) Runtime.Kernels.BlockQuant.QuantizeQ4_0(src, dst, n);
                else Buffer.MemoryCopy(src, dst, outBytes, outBytes);
            }
            st.Write(bytes, 0, outBytes);
        }
    }
}
