using System.Buffers.Binary;
using System.Security.Cryptography;
using System.Text;
using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>A parsed GGUF file: metadata, tensor infos, and tensor data as slices of the memory-mapped file.</summary>
public sealed class GgufFile : IDisposable
{
    public required uint Version { get; init; }
    public required Dictionary<string, object> Metadata { get; init; }
    public required List<(string Name, ElementType Type, long[] Dims, long Offset)> TensorInfos { get; init; }
    public required long DataOffset { get; init; }
    public required MappedFile File { get; init; }

    public void Dispose() => File.Dispose();

    public T Get<T>(string key, T dflt) => Metadata.TryGetValue(key, out var v) ? (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture) : dflt;

    public T Require<T>(string key) => Metadata.TryGetValue(key, out var v) ? (T)Convert.ChangeType(v, typeof(T), System.Globalization.CultureInfo.InvariantCulture)
        : throw new LlmaotException(Codes.MalformedModel, $"GGUF metadata '{key}' is missing");
}

/// <summary>
/// Reads GGUF v2 and v3 (the format of llama.cpp): header, metadata key/values, tensor infos and the aligned data
/// section. The file is memory-mapped and never read whole; tensor data stays in the mapping.
/// Tensor types F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K and Q6_K are understood.
/// </summary>
public static class GgufReader
{
    private const uint Magic = 0x46554747; // "GGUF"

    public static GgufFile Parse(string path)
    {
        if (!System.IO.File.Exists(path)) throw new LlmaotException(Codes.FileNotFound, $"model file '{path}' not found");
        var file = new MappedFile(path);
        try
        {
            var c = new Cursor(file, path);
            uint U32() => c.U32();
            ulong U64() => c.U64();
            string Str() => c.Str();
            object Value(uint type) => c.Value(type);
            if (U32() != Magic) throw new LlmaotException(Codes.MalformedModel, $"'{path}' is not a GGUF file (bad magic)");
            uint version = U32();
            if (version is not (2 or 3)) throw new LlmaotException(Codes.UnsupportedVersion, $"'{path}' is GGUF version {version}; llmaot reads versions 2 and 3");
            ulong nTensors = U64(), nKv = U64();
            if (nTensors > 1_000_000 || nKv > 1_000_000) throw new LlmaotException(Codes.MalformedModel, $"'{path}': implausible counts ({nTensors} tensors, {nKv} keys)");
            var meta = new Dictionary<string, object>(StringComparer.Ordinal);
            for (ulong i = 0; i < nKv; i++)
            {
                string key = Str();
                meta[key] = Value(U32());
            }
            var infos = new List<(string, ElementType, long[], long)>();
            for (ulong i = 0; i < nTensors; i++)
            {
                string name = Str();
                uint nd = U32();
                if (nd > 8) throw new LlmaotException(Codes.MalformedModel, $"'{path}': tensor '{name}' has {nd} dims");
                var dims = new long[nd];
                for (int d = 0; d < nd; d++) dims[d] = (long)U64();
                uint gt = U32();
                long off = (long)U64();
                infos.Add((name, FromGgml(gt, name, path), dims, off));
            }
            long align = meta.TryGetValue("general.alignment", out var al) ? Convert.ToInt64(al, System.Globalization.CultureInfo.InvariantCulture) : 32;
            if (align <= 0 || (align & (align - 1)) != 0) throw new LlmaotException(Codes.MalformedModel, $"'{path}': alignment {align} is not a power of two");
            long data = (c.P + align - 1) / align * align;
            foreach (var (name, type, dims, off) in infos)
            {
                long count = dims.Aggregate(1L, (x, y) => checked(x * y));
                long bytes = ElementTypes.ByteCount(type, count);
                if (data + off + bytes > file.Length || off < 0)
                    throw new LlmaotException(Codes.MalformedModel, $"'{path}': tensor '{name}' ({bytes} bytes at {off}) runs past the end of the file");
            }
            return new GgufFile { Version = version, Metadata = meta, TensorInfos = infos, DataOffset = data, File = file };
        }
        catch (Exception e) when (e is not LlmaotException)
        {
            file.Dispose();
            throw new LlmaotException(Codes.MalformedModel, $"'{path}' is not a valid GGUF file ({e.Message})");
        }
        catch
        {
            file.Dispose();
            throw;
        }
    }

    /// <summary>A bounds-checked reader over the mapped file.</summary>
    private sealed class Cursor(MappedFile f, string path)
    {
        public long P;

        private ReadOnlySpan<byte> Take(long n)
        {
            if (n < 0 || P + n > f.Length) throw new LlmaotException(Codes.MalformedModel, $"'{path}' is truncated at byte {P} (GGUF)");
            var s = f.Slice(P, (int)n);
            P += n;
            return s;
        }

        public uint U32() => BinaryPrimitives.ReadUInt32LittleEndian(Take(4));
        public ulong U64() => BinaryPrimitives.ReadUInt64LittleEndian(Take(8));

        public string Str()
        {
            ulong n = U64();
            if (n > int.MaxValue) throw new LlmaotException(Codes.MalformedModel, $"'{path}': string length {n} at byte {P}");
            return Encoding.UTF8.GetString(Take((long)n));
        }

        public object Value(uint type)
        {
            switch (type)
            {
                case 0: return Take(1)[0];
                case 1: return (sbyte)Take(1)[0];
                case 2: return BinaryPrimitives.ReadUInt16LittleEndian(Take(2));
                case 3: return BinaryPrimitives.ReadInt16LittleEndian(Take(2));
                case 4: return U32();
                case 5: return (int)U32();
                case 6: return BitConverter.UInt32BitsToSingle(U32());
                case 7: return Take(1)[0] != 0;
                case 8: return Str();
                case 9:
                    {
                        uint et = U32();
                        ulong n = U64();
                        if (n > (ulong)f.Length) throw new LlmaotException(Codes.MalformedModel, $"'{path}': array of {n} items at byte {P}");
                        var arr = new object[n];
                        for (ulong i = 0; i < n; i++) arr[i] = Value(et);
                        return arr;
                    }
                case 10: return U64();
                case 11: return (long)U64();
                case 12: return BitConverter.UInt64BitsToDouble(U64());
                default: throw new LlmaotException(Codes.MalformedModel, $"'{path}': unknown GGUF value type {type} at byte {P}");
            }
        }
    }

    /// <summary>ggml type ids (ggml.h) to element types.</summary>
    public static ElementType FromGgml(uint t, string name, string path) => t switch
    {
        0 => ElementType.Float,
        1 => ElementType.Float16,
        2 => ElementType.Q4_0,
        3 => ElementType.Q4_1,
        6 => ElementType.Q5_0,
        7 => ElementType.Q5_1,
        8 => ElementType.Q8_0,
        12 => ElementType.Q4_K,
        13 => ElementType.Q5_K,
        14 => ElementType.Q6_K,
        30 => ElementType.BFloat16,
        _ => throw new LlmaotException(Codes.UnsupportedType, $"'{path}': tensor '{name}' has ggml type {t}, which llmaot does not support (F32, F16, BF16, Q8_0, Q4_0, Q4_1, Q5_0, Q5_1, Q4_K, Q5_K, Q6_K are)"),
    };

    /// <summary>
    /// Reads a llama-family GGUF into an <see cref="LlmModel"/>: llama; qwen2 (biases on the Q/K/V projections); phi3 (fused
    /// attn_qkv and gate+up ffn_up, split here by rows). qwen2 and phi3 rotate the two halves of each head (NeoX RoPE): their
    /// Q/K rows (and biases) are reordered per head so the interleaved RoPE of the decoder kernels computes the same thing.
    /// Rows move whole, so quantized blocks stay as they are.
    /// </summary>
    public static LlmModel ReadLlama(string path)
    {
        var g = Parse(path);
        try
        {
            string arch = g.Get("general.architecture", "llama");
            if (arch is not ("llama" or "qwen2" or "phi3"))
                throw new LlmaotException(Codes.UnsupportedOp, $"'{path}': architecture '{arch}' is not supported yet (llama, qwen2 and phi3 are)");
            var tensors = new Dictionary<string, LlmTensor>(StringComparer.Ordinal);
            foreach (var (name, type, dims, off) in g.TensorInfos)
            {
                string key = name.EndsWith(".weight", StringComparison.Ordinal) ? name[..^7] : name;
                long count = dims.Aggregate(1L, (x, y) => x * y);
                var shape = dims.Reverse().ToArray(); // ggml ne[0] is the fastest dim
                tensors[key] = new LlmTensor(key, type, shape, TensorData.Slice(g.File, g.DataOffset + off, checked((int)ElementTypes.ByteCount(type, count))));
            }
            int dim = g.Require<int>($"{arch}.embedding_length");
            int heads = g.Require<int>($"{arch}.attention.head_count");
            var emb = tensors.GetValueOrDefault("token_embd") ?? throw new LlmaotException(Codes.MalformedModel, $"'{path}': tensor token_embd.weight is missing");
            int vocab = (int)emb.Shape[0];
            bool tied = !tensors.ContainsKey("output");
            if (tied) tensors["output"] = emb with { Name = "output" };
            if (arch != "llama") ToLlamaLayout(path, arch, g, tensors, dim, heads, g.Get($"{arch}.attention.head_count_kv", heads), g.Require<int>($"{arch}.block_count"));
            var cfg = new LlmConfig(arch, dim, g.Require<int>($"{arch}.feed_forward_length"), g.Require<int>($"{arch}.block_count"), heads,
                g.Get($"{arch}.attention.head_count_kv", heads), vocab, g.Get($"{arch}.context_length", 2048),
                g.Get($"{arch}.rope.freq_base", 10000f), g.Get($"{arch}.attention.layer_norm_rms_epsilon", 1e-5f), tied);
            string sha;
            using (var s = System.IO.File.OpenRead(path)) sha = Convert.ToHexStringLower(SHA256.HashData(s));
            var m = new LlmModel { Config = cfg, Tensors = tensors, SourceName = Path.GetFileName(path), Sha256 = sha };
            m.Owned.Add(g);
            m.Vocab = Vocab(g, vocab);
            return m;
        }
        catch
        {
            g.Dispose();
            throw;
        }
    }

    private static LlmVocab? Vocab(GgufFile g, int vocab)
    {
        if (!g.Metadata.TryGetValue("tokenizer.ggml.tokens", out var tv) || tv is not object[] toks) return null;
        string kind = g.Get("tokenizer.ggml.model", "llama");
        if (kind == "gpt2") return ByteLevelVocab(g, toks);
        var scores = g.Metadata.TryGetValue("tokenizer.ggml.scores", out var sv) && sv is object[] sa ? sa.Select(Convert.ToSingle).ToArray() : new float[toks.Length];
        var pieces = toks.Select(t => Encoding.UTF8.GetBytes(kind == "llama" ? ((string)t).Replace('\u2581', ' ') : (string)t)).ToArray();
        return new LlmVocab(pieces, scores, g.Get("tokenizer.ggml.bos_token_id", 1), g.Get("tokenizer.ggml.eos_token_id", 2), kind);
    }

    /// <summary>
    /// GPT-2's byte-to-unicode table: bytes '!'..'~', '¡'..'¬', '®'..'ÿ' stand for themselves, the other 68 bytes (controls,
    /// space, DEL, NBSP, soft hyphen) for U+0100 upwards in byte order. Byte-level BPE vocabularies spell tokens with it.
    /// </summary>
    public static char[] ByteToUnicode()
    {
        var map = new char[256];
        int next = 256;
        for (int b = 0; b < 256; b++)
            map[b] = b is >= '!' and <= '~' or >= 0xA1 and <= 0xAC or >= 0xAE and <= 0xFF ? (char)b : (char)next++;
        return map;
    }

    /// <summary>
    /// A GPT-2 style vocabulary (tokenizer.ggml.model = gpt2): tokens turned back into raw bytes, merges into id triples, and the
    /// pre-tokenizer named by tokenizer.ggml.pre.
    /// </summary>
    private static LlmVocab ByteLevelVocab(GgufFile g, object[] toks)
    {
        var inverse = new Dictionary<char, byte>();
        var map = ByteToUnicode();
        for (int b = 0; b < 256; b++) inverse[map[b]] = (byte)b;
        var ids = new Dictionary<string, int>(toks.Length, StringComparer.Ordinal);
        var pieces = new byte[toks.Length][];
        for (int i = 0; i < toks.Length; i++)
        {
            string t = (string)toks[i];
            ids.TryAdd(t, i);
            // special tokens (e.g. <|endoftext|>) may use characters outside the table: those keep their UTF-8 bytes
            pieces[i] = t.All(inverse.ContainsKey) ? t.Select(c => inverse[c]).ToArray() : Encoding.UTF8.GetBytes(t);
        }
        var merges = new List<(int, int, int)>();
        if (g.Metadata.TryGetValue("tokenizer.ggml.merges", out var mv) && mv is object[] ma)
            foreach (string line in ma.Cast<string>())
            {
                int sp = line.IndexOf(' ', 1);
                string a = sp > 0 ? line[..sp] : "", b = sp > 0 ? line[(sp + 1)..] : "";
                if (!ids.TryGetValue(a, out int ia) || !ids.TryGetValue(b, out int ib) || !ids.TryGetValue(a + b, out int im))
                    throw new LlmaotException(Codes.MalformedModel, $"GGUF merge '{line}' names tokens that are not in tokenizer.ggml.tokens; the vocabulary is inconsistent");
                merges.Add((ia, ib, im));
            }
        for (int b = 0; b < 256; b++)
            if (!ids.ContainsKey(map[b].ToString()))
                throw new LlmaotException(Codes.MalformedModel, $"the byte-level vocabulary has no token for byte 0x{b:X2} ('{map[b]}'); it cannot encode arbitrary text");
        int eos = g.Get("tokenizer.ggml.eos_token_id", ids.GetValueOrDefault("<|endoftext|>", 0));
        return new LlmVocab(pieces, new float[toks.Length], g.Get("tokenizer.ggml.bos_token_id", eos), eos, "gpt2")
        {
            Merges = merges.ToArray(),
            AddBos = g.Get("tokenizer.ggml.add_bos_token", false),
            PreTokenizer = g.Get("tokenizer.ggml.pre", "default") switch
            {
                "default" or "gpt-2" or "gpt2" => "Gpt2",
                "llama-bpe" or "llama3" or "llama-v3" => "Llama3",
                "qwen2" => "Qwen2",
                var p => throw new LlmaotException(Codes.UnsupportedOp, $"byte-level BPE pre-tokenizer '{p}' (tokenizer.ggml.pre) is not supported; default/gpt-2, llama-bpe and qwen2 are"),
            },
        };
    }

    /// <summary>qwen2/phi3 tensors in the llama layout: fused phi3 matrices split by rows, NeoX-ordered Q/K rows interleaved.</summary>
    private static void ToLlamaLayout(string path, string arch, GgufFile g, Dictionary<string, LlmTensor> t, int dim, int heads, int kvHeads, int layers)
    {
        int hs = dim / heads;
        int ropeDims = g.Get($"{arch}.rope.dimension_count", hs);
        if (ropeDims != hs)
            throw new LlmaotException(Codes.UnsupportedOp, $"'{path}': partial rotary embeddings ({arch}.rope.dimension_count {ropeDims} of head size {hs}) are not supported");
        if (t.ContainsKey("rope_factors_long") || t.ContainsKey("rope_factors_short") || g.Get($"{arch}.rope.scaling.type", "none") != "none")
            throw new LlmaotException(Codes.UnsupportedOp, $"'{path}': scaled rotary embeddings (rope_factors / {arch}.rope.scaling.type, long-context variants) are not supported; use a model without RoPE scaling");
        LlmTensor Need(string key) => t.GetValueOrDefault(key) ?? throw new LlmaotException(Codes.MalformedModel, $"'{path}': tensor {key} is missing for architecture {arch}");
        for (int l = 0; l < layers; l++)
        {
            string b = $"blk.{l}.";
            if (arch == "phi3")
            {
                var qkv = Need(b + "attn_qkv");
                if (qkv.Shape.Length != 2 || qkv.Shape[0] != dim + 2L * kvHeads * hs)
                    throw new LlmaotException(Codes.MalformedModel, $"'{path}': {b}attn_qkv has shape [{string.Join(", ", qkv.Shape)}], expected [{dim + 2 * kvHeads * hs}, {dim}]");
                t[b + "attn_q"] = Rows(qkv, b + "attn_q", 0, dim);
                t[b + "attn_k"] = Rows(qkv, b + "attn_k", dim, kvHeads * hs);
                t[b + "attn_v"] = Rows(qkv, b + "attn_v", dim + kvHeads * hs, kvHeads * hs);
                t.Remove(b + "attn_qkv");
                if (!t.ContainsKey(b + "ffn_gate"))
                {
                    var up = Need(b + "ffn_up");
                    if (up.Shape.Length != 2 || up.Shape[0] % 2 != 0)
                        throw new LlmaotException(Codes.MalformedModel, $"'{path}': {b}ffn_up has shape [{string.Join(", ", up.Shape)}]; phi3 fuses gate and up into 2·hidden rows");
                    long hidden = up.Shape[0] / 2;
                    t[b + "ffn_gate"] = Rows(up, b + "ffn_gate", 0, hidden);
                    t[b + "ffn_up"] = Rows(up, b + "ffn_up", hidden, hidden);
                }
            }
            foreach (var (name, n) in new[] { ("attn_q", heads), ("attn_k", kvHeads) })
            {
                t[b + name] = Interleave(Need(b + name), n, hs);
                if (t.TryGetValue(b + name + ".bias", out var bias)) t[b + name + ".bias"] = Interleave(bias, n, hs);
            }
        }
    }

    /// <summary>Rows [start, start + count) of a matrix, as bytes in its format.</summary>
    private static LlmTensor Rows(LlmTensor m, string key, long start, long count)
    {
        long rowBytes = ElementTypes.ByteCount(m.Type, m.Shape[1]);
        if (ElementTypes.ByteCount(m.Type, m.Shape[1] * m.Shape[0]) != rowBytes * m.Shape[0])
            throw new LlmaotException(Codes.UnsupportedType, $"tensor {m.Name}: rows of {m.Shape[1]} {m.Type} values are not whole blocks, so it cannot be split");
        var bytes = m.Data.Span.Slice(checked((int)(start * rowBytes)), checked((int)(count * rowBytes))).ToArray();
        return new LlmTensor(key, m.Type, m.Shape.Length == 2 ? [count, m.Shape[1]] : [count], TensorData.Of(bytes));
    }

    /// <summary>
    /// Reorders the rows (or elements, for a bias) of each head from NeoX order (first half, second half) to interleaved pairs:
    /// row h·hs + 2i ← h·hs + i, row h·hs + 2i + 1 ← h·hs + hs/2 + i.
    /// </summary>
    private static LlmTensor Interleave(LlmTensor m, int heads, int hs)
    {
        long rows = m.Shape[0];
        long rowBytes = m.Shape.Length == 2 ? ElementTypes.ByteCount(m.Type, m.Shape[1]) : ElementTypes.ByteCount(m.Type, 1);
        if (rows != (long)heads * hs || (m.Shape.Length == 1 && ElementTypes.BlockSize(m.Type) != 1))
            throw new LlmaotException(Codes.MalformedModel, $"tensor {m.Name}: {rows} rows are not {heads} heads of {hs}");
        var src = m.Data.Span;
        var dst = new byte[src.Length];
        for (int h = 0; h < heads; h++)
            for (int i = 0; i < hs / 2; i++)
            {
                src.Slice(checked((int)((h * hs + i) * rowBytes)), (int)rowBytes).CopyTo(dst.AsSpan(checked((int)((h * hs + 2 * i) * rowBytes))));
                src.Slice(checked((int)((h * hs + hs / 2 + i) * rowBytes)), (int)rowBytes).CopyTo(dst.AsSpan(checked((int)((h * hs + 2 * i + 1) * rowBytes))));
            }
        return m with { Data = TensorData.Of(dst) };
    }
}
