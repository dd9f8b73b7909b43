using System.Diagnostics;
using LLama;
using LLama.Common;
using LLama.Native;

/// <summary>
/// llama.cpp as the language-model benchmark's speed peer: the same GGUF file loaded by the prebuilt llama.cpp of the
/// LLamaSharp.Backend.Cpu package (its AVX-512 build on this machine), with the same thread count, prompt and greedy decode
/// as the llmaot binary: prefill of the same fixed token ids in one batch, then decode from BOS, one token per llama_decode.
/// The KV cache is llama.cpp's default (float16).
/// </summary>
internal static class LlamaCppPeer
{
    private static bool _configured;

    /// <summary>The llama.cpp library this process loaded (for the table's note), or null before the first run.</summary>
    public static string? Library { get; private set; }

    public static (double Prefill, double Decode) Run(string gguf, int threads, int prompt, int n, int ctx)
    {
        if (!_configured)
        {
            NativeLibraryConfig.All.WithLogCallback((level, message) => { });
            _configured = true;
        }
        var p = new ModelParams(gguf) { ContextSize = (uint)ctx, Threads = threads, BatchThreads = threads, BatchSize = (uint)Math.Max(prompt, 1), GpuLayerCount = 0 };
        using var weights = LLamaWeights.LoadFromFile(p);
        using var context = weights.CreateContext(p);
        Library ??= File.ReadLines("/proc/self/maps").Select(l => l[(l.LastIndexOf(' ') + 1)..]).FirstOrDefault(l => l.EndsWith("libggml-cpu.so", StringComparison.Ordinal));
        int vocab = context.Vocab.Count;
        var batch = new LLamaBatch();

        // prefill: BOS and prompt-1 fixed ids, the llmaot binary's --prompt-tokens sequence
        batch.Clear();
        batch.Add((LLamaToken)1, 0, LLamaSeqId.Zero, prompt == 1);
        for (int i = 1; i < prompt; i++) batch.Add((LLamaToken)(3 + (int)((i * 7919L) % Math.Max(1, vocab - 3))), i, LLamaSeqId.Zero, i == prompt - 1);
        var sw = Stopwatch.StartNew();
        context.Decode(batch);
        double prefill = prompt / sw.Elapsed.TotalSeconds;

        // decode: from BOS, n greedy tokens (the binary's decode_tok_s counts the passes after the first token the same way)
        context.NativeHandle.MemoryClear();
        batch.Clear();
        batch.Add((LLamaToken)1, 0, LLamaSeqId.Zero, true);
        context.Decode(batch);
        sw.Restart();
        for (int i = 0; i < n; i++)
        {
            var logits = context.NativeHandle.GetLogitsIth(batch.TokenCount - 1);
            int best = 0;
            for (int v = 1; v < vocab; v++) if (logits[v] > logits[best]) best = v;
            batch.Clear();
            batch.Add((LLamaToken)best, i + 1, LLamaSeqId.Zero, true);
            context.Decode(batch);
        }
        return (prefill, n / sw.Elapsed.TotalSeconds);
    }
}
