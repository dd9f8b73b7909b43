using System.Diagnostics;
using System.Globalization;
using System.Text;

namespace Llmaot.Runtime.Llm;

/// <summary>What a generated language model declares about itself.</summary>
public sealed record LlmInfo(string Name, int Dim, int Layers, int Heads, int KvHeads, int Vocab, int Context, long WeightsBytes, long StateBytes, string WeightFormat, string Provenance)
{
    /// <summary>The model's name (a short ToString keeps the record's reflection-based printer out of generated binaries).</summary>
    public override string ToString() => Name;
}

/// <summary>The face of a generated decoder: one position at a time, with its KV cache inside.</summary>
public unsafe interface ILlmModel : IDisposable
{
    LlmInfo Info { get; }

    /// <summary>The tokenizer built from the vocabulary embedded in the model.</summary>
    Tokenizer Tokenizer { get; }

    /// <summary>Runs token <paramref name="token"/> at position <paramref name="pos"/> (filling the KV cache); returns the logits (Vocab floats, owned by the model).</summary>
    float* Forward(int token, int pos);

    /// <summary>Runs a prompt of several tokens at positions start.. in one pass; returns the logits of the last one.</summary>
    float* Prefill(ReadOnlySpan<int> tokens, int start);

    /// <summary>Worker threads for the matrix products (1 = the calling thread only).</summary>
    int Threads { get; set; }
}

/// <summary>
/// The command line of a generated text generator, llama.cpp-style:
/// <c>NAME [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--threads T] [-i] [--info] [--mmap]</c>.
/// Text streams to stdout as tokens come; one JSON line of statistics goes to stderr at the end.
/// </summary>
public static unsafe class LlmHost
{
    public static int Main(string[] args, Func<ILlmModel> create)
    {
        try
        {
            return Run(args, create);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string msg = e.Message.StartsWith("LLMAOT", StringComparison.Ordinal) ? e.Message : "LLMAOT9000: " + e.Message;
            StdIo.Err("error " + msg);
            return 1;
        }
    }

    private static int Run(string[] args, Func<ILlmModel> create)
    {
        long t0 = Stopwatch.GetTimestamp();
        string prompt = "";
        int n = 256, threads = Environment.ProcessorCount, topK = 40, promptTokens = 0;
        float temp = 0.8f, topP = 0.95f, minP = 0.05f, repeat = 1.0f;
        ulong seed = 0;
        bool interactive = false, info = false, mem = false;
        var ci = CultureInfo.InvariantCulture;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"LLMAOT9010: {a} needs a value");
            switch (a)
            {
                case "-p": case "--prompt": prompt = Next(); break;
                case "-n": case "--n-predict": n = int.Parse(Next(), ci); break;
                case "--temp": temp = float.Parse(Next(), ci); break;
                case "--top-k": topK = int.Parse(Next(), ci); break;
                case "--top-p": topP = float.Parse(Next(), ci); break;
                case "--min-p": minP = float.Parse(Next(), ci); break;
                case "--repeat-penalty": repeat = float.Parse(Next(), ci); break;
                case "--seed": seed = ulong.Parse(Next(), ci); break;
                case "-t": case "--threads": threads = int.Parse(Next(), ci); break;
                case "-i": case "--interactive": interactive = true; break;
                case "--prompt-tokens": promptTokens = int.Parse(Next(), ci); break;
                case "--info": info = true; break;
                case "--mem": mem = true; break;
                case "--mmap": WeightBlob.PreferMapping = true; break;
                case "-h":
                case "--help":
                    StdIo.Out("usage: NAME [-p PROMPT] [-n N] [--temp T] [--top-k K] [--top-p P] [--min-p P] [--repeat-penalty R] [--seed S] [--threads T] [-i] [--info] [--mem] [--prompt-tokens N] [--mmap]");
                    StdIo.Out("  --mmap: keep the weights file memory-mapped (shared page cache, 4 KiB pages) instead of reading it into huge-page memory");
                    StdIo.Out("  --prompt-tokens N: benchmark prompt of BOS and N-1 fixed token ids instead of -p text (measures prefill at an exact length)");
                    return 0;
                default: throw new ArgumentException($"LLMAOT9012: unknown argument '{a}'; see --help");
            }
        }
        using var model = create();
        model.Threads = Math.Max(1, threads);
        var mi = model.Info;
        if (info)
        {
            var sb = new StringBuilder(string.Create(ci, $"{{\"name\":{Host.Json(mi.Name)},\"dim\":{mi.Dim},\"layers\":{mi.Layers},\"heads\":{mi.Heads},\"kv_heads\":{mi.KvHeads},\"vocab\":{mi.Vocab},\"context\":{mi.Context},\"weights_bytes\":{mi.WeightsBytes},\"state_bytes\":{mi.StateBytes},\"weight_format\":{Host.Json(mi.WeightFormat)},\"provenance\":{Host.Json(mi.Provenance)}"));
            Host.SizeFields(sb);
            Host.AppendIsa(sb);
            StdIo.Out(sb.Append('}').ToString());
            return 0;
        }
        if (mem)
        {
            // One decode step (BOS at position 0, on this thread) with the stack below this frame poisoned.
            model.Threads = 1;
            nint low = MemoryProbe.PoisonStack();
            model.Forward(model.Tokenizer.Bos, 0);
            long stack = MemoryProbe.StackUsed(low);
            long kv = 2L * mi.Layers * mi.Context * (mi.Dim / mi.Heads * mi.KvHeads) * sizeof(float);
            StdIo.Out(string.Create(ci, $"{{\"state_bytes\":{mi.StateBytes},\"kv_cache_bytes\":{kv},\"weights_bytes\":{mi.WeightsBytes},\"stack_bytes\":{stack},\"probe_bytes\":{MemoryProbe.StackWindow},\"rss_peak_bytes\":{MemoryProbe.PeakRssBytes()}}}"));
            return 0;
        }
        var options = new SamplerOptions(temp, topK, topP, minP, repeat, 64, seed);
        using var stdout = StdIo.Open(1, FileAccess.Write);
        StreamReader? stdin = null;
        int pos = 0;
        int lastToken = model.Tokenizer.Bos;
        do
        {
            List<int>? ids = null;
            if (promptTokens > 0)
            {
                ids = [model.Tokenizer.Bos];
                for (int i = 1; i < promptTokens; i++) ids.Add(3 + (int)((i * 7919L) % Math.Max(1, mi.Vocab - 3)));
                promptTokens = 0;
            }
            var stats = Generate(model, prompt, n, options, stdout, ref pos, ref lastToken, t0, ids);
            StdIo.Err(stats);
            if (!interactive) break;
            using (var err = StdIo.Open(2, FileAccess.Write)) err.Write("> "u8);
            stdin ??= new StreamReader(StdIo.Open(0, FileAccess.Read), System.Text.Encoding.UTF8);
            prompt = stdin.ReadLine() ?? "";
            t0 = Stopwatch.GetTimestamp();
        } while (prompt.Length > 0 && pos < mi.Context);
        stdin?.Dispose();
        return 0;
    }

    /// <summary>
    /// One turn, with llama2.c's step semantics: the prompt (BOS first on a fresh context) is prefilled in one pass, then the
    /// model runs <paramref name="n"/> more positions, each on the token sampled from the previous logits; every sampled
    /// token is printed, so a turn prints n + 1 tokens (`-n 255` on an empty prompt is llama2.c's 256 steps). Generation stops
    /// early at BOS or EOS, or at the end of the context. <paramref name="promptTokens"/>, when given, replaces the encoded prompt.
    /// </summary>
    public static string Generate(ILlmModel model, string prompt, int n, SamplerOptions options, Stream output, ref int pos, ref int lastToken, long startTimestamp, List<int>? promptTokens = null)
    {
        var tok = model.Tokenizer;
        var mi = model.Info;
        var sampler = new Sampler(mi.Vocab, options);
        var tokens = promptTokens ?? tok.Encode(prompt, bos: pos == 0, eos: false);
        if (tokens.Count == 0) tokens.Add(tok.Bos);
        if (pos + tokens.Count > mi.Context) throw new ArgumentException($"LLMAOT9030: the prompt ({tokens.Count} tokens) does not fit the context ({mi.Context - pos} positions left)");
        foreach (var t in tokens) sampler.Accept(t);
        long tPrefill = Stopwatch.GetTimestamp();
        float* logits = model.Prefill(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(tokens), pos);
        double prefillS = Stopwatch.GetElapsedTime(tPrefill).TotalSeconds;
        pos += tokens.Count;
        int token = tokens[^1];
        int generated = 0;
        double firstTokenMs = 0;
        long tDecode = Stopwatch.GetTimestamp();
        // Heap bytes allocated by every thread of the process while it decodes: 0 is the contract (static KV cache, arena,
        // no per-token objects); reported so that a NativeAOT binary, where no JIT allocates on the side, can be checked.
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        while (true)
        {
            int next = sampler.Sample(logits, mi.Vocab);
            if (next == tok.Bos || next == tok.Eos) break;
            var piece = tok.Decode(token, next);
            if (Tokenizer.Printable(piece)) output.Write(piece);
            output.Flush();
            if (generated == 0) firstTokenMs = Stopwatch.GetElapsedTime(startTimestamp).TotalMilliseconds;
            sampler.Accept(next);
            generated++;
            token = next;
            if (generated > n || pos >= mi.Context) break;
            logits = model.Forward(token, pos);
            pos++;
        }
        double decodeS = Stopwatch.GetElapsedTime(tDecode).TotalSeconds;
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        output.Write("\n"u8);
        output.Flush();
        lastToken = token;
        // Decode speed counts the forward passes of the loop (one per generated token after the first).
        int decodePasses = Math.Max(0, generated - 1);
        return string.Create(CultureInfo.InvariantCulture,
            $"{{\"prompt_tokens\":{tokens.Count},\"generated_tokens\":{generated},\"prefill_tok_s\":{(prefillS > 0 ? tokens.Count / prefillS : 0):F1},\"decode_tok_s\":{(decodeS > 0 && decodePasses > 0 ? decodePasses / decodeS : 0):F1},\"first_token_ms\":{firstTokenMs:F2},\"decode_alloc_bytes\":{allocated},\"weights_huge_pages\":{(WeightBlob.LastFileInLargePages ? "true" : "false")}}}");
    }
}
