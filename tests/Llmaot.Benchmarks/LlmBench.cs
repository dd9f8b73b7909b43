using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text.Json;
using Llmaot;
using Llmaot.Build;
using Llmaot.Emit;
using Llmaot.Llm;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

/// <summary>
/// The language-model benchmark (issue 5, scale and speed):
/// <c>dotnet run -c Release --project tests/Llmaot.Benchmarks -- --llm [--shapes 15m,110m,1b] [--types f32,q8_0,q4_0] [--threads 1,2]
/// [-n 128] [--prompt 64] [--ctx 512] [--reps 2] [--isa ISA] [--work DIR] [--with-1b-f32] [--reuse] [--kernels] [--kv-cache f16|int8]
/// [--no-peer] [--out FILE.md]</c>. <c>--kv-cache</c> applies to the synthetic models only (labelled kv-TYPE); stories260K keeps the f32 cache.
/// --kernels measures the 110m model's matrix products in-process instead (<see cref="KernelBench"/>).
/// Builds stories260K and the synthetic GGUF models (<see cref="GgufSynth"/>), runs each binary once with a fixed prompt of --prompt
/// tokens (--prompt-tokens) for prefill tok/s and once from an empty prompt with -n greedy tokens for decode tok/s (both from the
/// binary's JSON line), keeps the best of --reps runs, measures the machine's read bandwidth with a probe (<see cref="Bandwidth"/>), and prints a markdown table with the bandwidth roofline:
/// weight bytes read per token × decode tok/s ÷ bandwidth at the same thread count. Unless --no-peer, llama.cpp
/// (<see cref="LlamaCppPeer"/>) runs the same GGUF after each llmaot run, and the table gives the ratio.
/// </summary>
internal static class LlmBench
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;

    public static int Run(string[] args)
    {
        var shapes = new List<string> { "15m", "110m", "1b" };
        var types = new List<string> { "f32", "q8_0", "q4_0" };
        var threads = new List<int> { 1, 2 };
        int n = 128, prompt = 64, ctx = 512, reps = 2;
        string? isa = null, outFile = null, kvCache = null;
        string work = Path.Combine(Path.GetTempPath(), "llmaot-llm-bench");
        bool big = false, reuse = false, kernels = false, peer = true;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--llm": break;
                case "--shapes": shapes = args[++i].Split(',').ToList(); break;
                case "--types": types = args[++i].Split(',').ToList(); break;
                case "--threads": threads = args[++i].Split(',').Select(t => int.Parse(t, Ci)).ToList(); break;
                case "-n": n = int.Parse(args[++i], Ci); break;
                case "--prompt": prompt = int.Parse(args[++i], Ci); break;
                case "--ctx": ctx = int.Parse(args[++i], Ci); break;
                case "--reps": reps = int.Parse(args[++i], Ci); break;
                case "--isa": isa = args[++i]; break;
                case "--work": work = args[++i]; break;
                case "--out": outFile = args[++i]; break;
                case "--with-1b-f32": big = true; break;
                case "--reuse": reuse = true; break;
                case "--kernels": kernels = true; break;
                case "--kv-cache": kvCache = args[++i]; break;
                case "--no-peer": peer = false; break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        if (kernels) return KernelBench(threads, reps, outFile);
        Directory.CreateDirectory(work);
        string shared = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared"));
        if (!Directory.Exists(shared)) shared = Path.GetFullPath("../shared");

        long l3 = L3Bytes();
        var bw = new Dictionary<int, double>();
        var bwMedianPass = new Dictionary<int, double>();
        foreach (int t in threads)
        {
            bw[t] = Bandwidth(t);
            bwMedianPass[t] = MedianBandwidth[t];
        }
        Console.WriteLine($"read bandwidth (probe: {ProbeBytes >> 20} MiB buffer, L3 {L3Bytes() >> 20} MiB, {(Vector512.IsHardwareAccelerated ? 512 : 256)}-bit loads, best of 48 passes over 128 MiB windows, every other one prefetching 4 KiB ahead): " + string.Join(", ", threads.Select(t => string.Create(Ci, $"{t} thread(s) {bw[t] / 1e9:F1} GB/s (median pass {bwMedianPass[t] / 1e9:F1})"))));
        Console.WriteLine($"cores: {Environment.ProcessorCount}; the machine may be shared, so each figure is the best of {reps} runs");

        var rows = new List<string>();
        var models = new List<(string Label, string Path, string? Tokenizer, long BytesPerToken, int Ctx)>();
        string s260 = Path.Combine(shared, "models/llama2c/stories260K.bin");
        if (File.Exists(s260)) models.Add(("stories260K f32", s260, Path.Combine(shared, "models/llama2c/tok512.bin"), 260_032L * 4, 512));
        // the GGUF llama.cpp loads for each row (stories260K: the same model as shared's GGUF)
        string PeerFile(string label, string path) => label.StartsWith("stories260K", StringComparison.Ordinal) ? Path.Combine(shared, "models/gguf/stories260K-f32.gguf") : path;
        foreach (var sh in shapes)
            foreach (var ty in types)
            {
                var shape = SynthShape.Find(sh);
                var et = GgufSynth.ParseType(ty);
                if (sh == "1b" && ty == "f32" && !big)
                {
                    Console.WriteLine("skipping 1b f32 (4.4 GB of weights; pass --with-1b-f32 to include it)");
                    continue;
                }
                string file = Path.Combine(work, $"{sh}-{ty}.gguf");
                if (!File.Exists(file))
                {
                    var sw = Stopwatch.StartNew();
                    GgufSynth.Write(file, shape, et, seed: 1, context: 2048);
                    Console.WriteLine(string.Create(Ci, $"wrote {file} ({new FileInfo(file).Length:N0} bytes) in {sw.Elapsed.TotalSeconds:F1} s"));
                }
                models.Add(($"{sh} {ty}{(kvCache is null ? "" : $" kv-{kvCache}")}", file, null, shape.BytesPerToken(et), ctx));
            }

        var header = new List<string>
        {
            "| model | weights bytes read / token | threads | prefill tok/s (" + prompt + " tokens) | decode tok/s (best run) | decode reads GB/s | probe GB/s before each run, median (range) | roofline tok/s at the median probe | % of roofline, median of the runs (range) |"
                + (peer ? " llama.cpp prefill tok/s | llama.cpp decode tok/s | decode llmaot / llama.cpp, median of the runs |" : ""),
            "|---|---|---|---|---|---|---|---|---|" + (peer ? "---|---|---|" : ""),
        };
        string extra = "";
        foreach (var (label, path, tok, bytes, mctx) in models)
        {
            string name = label.Replace(' ', '-').Replace("stories260K-f32", "stories260K");
            string exe;
            long binBytes;
            try
            {
                bool synthetic = !label.StartsWith("stories260K", StringComparison.Ordinal);
                (exe, binBytes) = Build(path, tok, name, mctx, work, isa, weightsFile: synthetic, reuse, synthetic ? kvCache : null);
            }
            catch (Exception e)
            {
                Console.Error.WriteLine($"{label}: build failed: {e.Message}");
                continue;
            }
            foreach (int t in threads)
            {
                double pre = 0, dec = 0, peerPre = 0, peerDec = 0;
                var bws = new List<double>();
                var pcts = new List<double>();
                var ratios = new List<double>();
                string peerFile = PeerFile(label, path);
                for (int r = 0; r < reps; r++)
                {
                    // Prefill: a prompt of exactly --prompt tokens. Decode: from an empty prompt (BOS), -n tokens
                    // (255 for stories260K, the issue's setting). Just before each decode run the probe measures the bandwidth
                    // of that moment (best of 16 passes): a shared machine's bandwidth drifts over minutes, so each run is held
                    // against its own probe and the table gives the median of these side-by-side ratios.
                    pre = Math.Max(pre, RunOnce(exe, 1, prompt, t).Prefill);
                    double b = Bandwidth(t, passes: 16);
                    var (_, d, _) = RunOnce(exe, label.StartsWith("stories260K", StringComparison.Ordinal) ? 255 : n, 0, t);
                    dec = Math.Max(dec, d);
                    bws.Add(b);
                    pcts.Add(100 * d * bytes / b);
                    if (peer && File.Exists(peerFile))
                    {
                        // llama.cpp right after, same thread count, prompt and decode length
                        var (pp, pd) = LlamaCppPeer.Run(peerFile, t, prompt, label.StartsWith("stories260K", StringComparison.Ordinal) ? 255 : n, mctx);
                        peerPre = Math.Max(peerPre, pp);
                        peerDec = Math.Max(peerDec, pd);
                        ratios.Add(d / pd);
                    }
                }
                double bwMedian = Median(bws);
                double roof = bwMedian / bytes;
                // Weights smaller than the last-level cache can stay cache-resident between tokens: no DRAM roofline applies.
                string pct = bytes > l3 ? string.Create(Ci, $"{Median(pcts):F0}% ({pcts.Min():F0}-{pcts.Max():F0}%)") : "n/a (fits in L3)";
                string row = string.Create(Ci, $"| {label} | {bytes:N0} | {t} | {pre:F0} | {dec:F1} | {bytes * dec / 1e9:F1} | {bwMedian / 1e9:F1} ({bws.Min() / 1e9:F1}-{bws.Max() / 1e9:F1}) | {roof:F0} | {pct} |");
                if (peer) row += ratios.Count > 0 ? string.Create(Ci, $" {peerPre:F0} | {peerDec:F1} | {Median(ratios):F2}x |") : " n/a | n/a | n/a |";
                Console.WriteLine(row);
                rows.Add(row);
            }
            if (label.StartsWith("stories260K", StringComparison.Ordinal))
            {
                // First token from an empty prompt, end to end (process start included, as the binary measures from its Main).
                var (_, _, f) = RunOnce(exe, 255, 0, 1);
                extra = string.Create(Ci, $"stories260K binary: {binBytes:N0} bytes with its weights embedded; first token {f:F2} ms after start (1 thread, empty prompt).");
                Console.WriteLine(extra);
            }
        }
        var table = new List<string>(header);
        table.AddRange(rows);
        table.Add("");
        table.Add("Each run's % = its decode tok/s × weight bytes per token ÷ the probe's best of 16 passes measured just before it. "
            + "Probe at the start of this benchmark, best of 48 passes: " + string.Join(", ", threads.Select(t => string.Create(Ci, $"{bw[t] / 1e9:F1} GB/s with {t} thread(s)")))
            + "; median pass " + string.Join(", ", threads.Select(t => string.Create(Ci, $"{bwMedianPass[t] / 1e9:F1} GB/s with {t} thread(s)"))) + ".");
        if (extra.Length > 0) table.Add(extra);
        if (peer && LlamaCppPeer.Library != null)
            table.Add($"llama.cpp: the LLamaSharp.Backend.Cpu 0.30.0 build ({Path.GetFileName(Path.GetDirectoryName(LlamaCppPeer.Library))}), run in this process right after each llmaot run on the same GGUF with the same threads, prompt and greedy decode length; its KV cache is float16 (llama.cpp's default), llmaot's float32.");
        Console.WriteLine();
        foreach (var l in table) Console.WriteLine(l);
        if (outFile != null) File.WriteAllLines(outFile, table);
        return 0;
    }

    private static (string Exe, long Bytes) Build(string path, string? tokenizer, string name, int ctx, string work, string? isa, bool weightsFile, bool reuse, string? kvCache)
    {
        // --reuse: run the binaries a previous run built in --work (same sources and options assumed), e.g. to re-measure later
        string built = Path.Combine(work, "bin", name, name);
        if (reuse && File.Exists(built)) return (built, new FileInfo(built).Length);
        var co = new CompileOptions { Tokenizer = tokenizer, Context = ctx, KvCache = kvCache };
        var eo = new EmitOptions
        {
            ClassName = Compiler.ClassNameFor(name.Replace('-', '_')),
            Name = name,
            Weights = weightsFile ? WeightsMode.File : WeightsMode.Embedded,
        };
        var g = Compiler.Compile(path, co, eo);
        var b = new BuildOptions { Isa = isa };
        string dir = Path.Combine(work, "bin", name);
        string proj = BuildDriver.WriteProject(g, Path.Combine(dir, ".llmaot", name), b);
        string exe = BuildDriver.Publish(proj, dir, g, b, TextWriter.Null);
        return (exe, new FileInfo(exe).Length);
    }

    private static (double Prefill, double Decode, double FirstMs) RunOnce(string exe, int n, int prompt, int threads)
    {
        var a = new List<string> { "-n", n.ToString(Ci), "--temp", "0", "--threads", threads.ToString(Ci) };
        if (prompt > 0) { a.Add("--prompt-tokens"); a.Add(prompt.ToString(Ci)); }
        var psi = new ProcessStartInfo(exe, a) { RedirectStandardOutput = true, RedirectStandardError = true };
        using var p = Process.Start(psi)!;
        p.StandardOutput.ReadToEnd();
        string err = p.StandardError.ReadToEnd();
        p.WaitForExit();
        string line = err.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault(l => l.StartsWith('{')) ?? throw new InvalidOperationException($"{exe}: no JSON line ({err.Trim()})");
        using var doc = JsonDocument.Parse(line);
        var r = doc.RootElement;
        return (r.GetProperty("prefill_tok_s").GetDouble(), r.GetProperty("decode_tok_s").GetDouble(), r.GetProperty("first_token_ms").GetDouble());
    }

    /// <summary>
    /// Sums a slice with the widest vector loads the machine has (512-bit, else 256-bit), eight independent accumulators so
    /// the loads, not the adds, are the limit (fully optimized, never tier-0 code). With <paramref name="prefetch"/> each step
    /// also prefetches 4 KiB ahead, as the decoder's products do (<see cref="BlockQuant.PrefetchDistance"/>): on some machines
    /// that reads faster, and the probe must not report less than the decoder can reach.
    /// </summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    private static unsafe float SumSlice(byte* start, long bytes, bool prefetch)
    {
        if (Vector512.IsHardwareAccelerated)
        {
            var p = (Vector512<float>*)start;
            long count = bytes / 64;
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (long i = 0; i + 8 <= count; i += 8)
            {
                if (prefetch) PrefetchAhead((byte*)(p + i), 512);
                a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
                a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
            }
            return Vector512.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
        }
        else
        {
            var p = (Vector256<float>*)start;
            long count = bytes / 32;
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
            for (long i = 0; i + 8 <= count; i += 8)
            {
                if (prefetch) PrefetchAhead((byte*)(p + i), 256);
                a0 += p[i]; a1 += p[i + 1]; a2 += p[i + 2]; a3 += p[i + 3];
                a4 += p[i + 4]; a5 += p[i + 5]; a6 += p[i + 6]; a7 += p[i + 7];
            }
            return Vector256.Sum(a0 + a1 + a2 + a3 + a4 + a5 + a6 + a7);
        }
    }

    private static unsafe void PrefetchAhead(byte* at, int bytes)
    {
        if (!System.Runtime.Intrinsics.X86.Sse.IsSupported) return;
        for (int o = 0; o < bytes; o += 64) System.Runtime.Intrinsics.X86.Sse.Prefetch0(at + BlockQuant.PrefetchDistance + o);
    }

    /// <summary>Bytes of the probe buffer: far larger than any last-level cache, so every pass streams from DRAM.</summary>
    private const long ProbeBytes = 1L << 30;

    /// <summary>The last-level cache size in bytes (sysfs on Linux; 32 MiB when unknown).</summary>
    internal static long L3Bytes()
    {
        try
        {
            string f = "/sys/devices/system/cpu/cpu0/cache/index3/size";
            if (File.Exists(f))
            {
                string v = File.ReadAllText(f).Trim();
                long mul = v.EndsWith('K') ? 1024 : v.EndsWith('M') ? 1 << 20 : 1;
                return long.Parse(v.TrimEnd('K', 'M'), Ci) * mul;
            }
        }
        catch (IOException) { }
        catch (FormatException) { }
        return 32L << 20;
    }

    /// <summary>
    /// Read bandwidth in bytes/s with <paramref name="threads"/> threads: a 1 GiB buffer (touched first, so its pages exist, and
    /// 32 times the size of this machine's L3), read a 128 MiB window per pass (windows in turn, so nothing is cache-resident)
    /// with vector loads in 8 MiB chunks that the threads claim from a shared counter, as the decoder's worker pool does, so a
    /// thread slowed by other load does not hold the pass back. The threads start once and a barrier releases them for each
    /// pass; a pass runs from the first thread's start to the last chunk's end. Every other pass also prefetches ahead as the
    /// decode products do (whichever reads faster on this machine counts). Best of <c>passes</c> passes (48 for the figure at
    /// the start, 16 for the probe before each decode run).
    /// </summary>
    private static readonly Dictionary<int, double> MedianBandwidth = [];

    private static unsafe byte* _probeBuffer;

    /// <summary>The probe's buffer, allocated and touched once per process (kept for the side-by-side probes of each run).</summary>
    private static unsafe byte* ProbeBuffer()
    {
        if (_probeBuffer != null) return _probeBuffer;
        _probeBuffer = (byte*)NativeMemory.AlignedAlloc((nuint)ProbeBytes, 4096);
        for (long o = 0; o < ProbeBytes; o += 1 << 30) new Span<byte>(_probeBuffer + o, (int)Math.Min(1 << 30, ProbeBytes - o)).Fill(1);
        return _probeBuffer;
    }

    private static double Median(List<double> v)
    {
        var s = v.OrderBy(x => x).ToList();
        return s.Count % 2 == 1 ? s[s.Count / 2] : (s[s.Count / 2 - 1] + s[s.Count / 2]) / 2;
    }

    private static unsafe double Bandwidth(int threads) => Bandwidth(threads, 48);

    private static unsafe double Bandwidth(int threads, int passes)
    {
        byte* buf = ProbeBuffer();
        {
            // Each pass reads one 128 MiB window (4x this machine's L3) of the buffer, the next pass the next window, so no pass
            // finds its data in a cache; short passes let the best of many catch the moments a shared machine leaves it alone.
            int Passes = passes;
            const long Window = 128L << 20;
            const long Chunk = 8L << 20;
            int chunks = (int)(Window / Chunk);
            int windows = (int)(ProbeBytes / Window);
            long windowStart = 0;
            var ends = new long[threads];
            var starts = new long[threads];
            var sink = new float[threads];
            int next = 0;
            double best = 0;
            var passRates = new List<double>();
            using var go = new Barrier(threads + 1);
            using var done = new Barrier(threads + 1);
            var ts = new Thread[threads];
            for (int t = 0; t < threads; t++)
            {
                int ti = t;
                ts[t] = new Thread(() =>
                {
                    for (int pass = 0; pass < Passes; pass++)
                    {
                        go.SignalAndWait();
                        starts[ti] = Stopwatch.GetTimestamp();
                        int c;
                        while ((c = Interlocked.Increment(ref next) - 1) < chunks) sink[ti] += SumSlice(buf + Volatile.Read(ref windowStart) + c * Chunk, Chunk, prefetch: pass % 2 == 1);
                        ends[ti] = Stopwatch.GetTimestamp();
                        done.SignalAndWait();
                    }
                });
                ts[t].Start();
            }
            for (int pass = 0; pass < Passes; pass++)
            {
                Volatile.Write(ref next, 0);
                Volatile.Write(ref windowStart, pass % windows * Window);
                go.SignalAndWait();
                done.SignalAndWait();
                // from the first thread's start after the release to the last one's end (the caller may be descheduled)
                double secs = (ends.Max() - starts.Min()) / (double)Stopwatch.Frequency;
                best = Math.Max(best, Window / secs);
                passRates.Add(Window / secs);
            }
            foreach (var th in ts) th.Join();
            passRates.Sort();
            MedianBandwidth[threads] = passRates[passRates.Count / 2];
            return best;
        }
    }

    /// <summary>
    /// Side-by-side kernel measurement on the 110m shapes (dim 768, hidden 2048, 12 layers; the classifier left out), weights random
    /// Q8_0/Q4_0 blocks: the prompt's matrix products for 64 tokens through <see cref="LlmParallel.MatMul"/> with rows widened to
    /// float (the previous path) and with int8 activations (the integer GEMM), and the decode matrix-vector products over all
    /// layers (weights far larger than L3), against the bandwidth probe measured in the same process. Each figure is the best of
    /// many short passes, so a shared machine's quiet moments count.
    /// </summary>
    private static unsafe int KernelBench(List<int> threadCounts, int reps, string? outFile)
    {
        const int Dim = 768, Hidden = 2048, Layers = 12, Tokens = 64;
        var shapes = new (int Rows, int N)[] { (Dim, Dim), (Dim, Dim), (Dim, Dim), (Dim, Dim), (Hidden, Dim), (Hidden, Dim), (Dim, Hidden) };
        var bw = threadCounts.ToDictionary(t => t, Bandwidth);
        var lines = new List<string>
        {
            $"Kernel benchmark, 110m shapes ({Layers} layers x [4 x {Dim}x{Dim}, 2 x {Hidden}x{Dim}, {Dim}x{Hidden}], classifier left out), int8 path {BlockQuantGemm.BestPath}, {(System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated ? "AVX-512" : "AVX2")} JIT:",
            "",
            $"| weights | threads | prompt products tok/s ({Tokens} tokens), rows widened to float | int8 GEMM | speed-up | decode products tok/s | weight bytes / token | decode reads GB/s | probe GB/s | % of roofline |",
            "|---|---|---|---|---|---|---|---|---|---|",
        };
        foreach (var fmt in new[] { WeightFormat.Q8_0, WeightFormat.Q4_0 })
        {
            int blockBytes = fmt == WeightFormat.Q8_0 ? 34 : 18;
            var offsets = new List<long>();
            long total = 0;
            for (int l = 0; l < Layers; l++)
                foreach (var (rows, n) in shapes) { offsets.Add(total); total += (long)rows * n / 32 * blockBytes; }
            byte* w = (byte*)NativeMemory.AlignedAlloc((nuint)total, 64);
            var rnd = new Random(1);
            rnd.NextBytes(new Span<byte>(w, (int)total));
            for (long b = 0; b < total / blockBytes; b++) *(Half*)(w + b * blockBytes) = (Half)0.01f;
            float* x = (float*)NativeMemory.AlignedAlloc((nuint)(Tokens * Hidden * 4), 64);
            float* y = (float*)NativeMemory.AlignedAlloc((nuint)(Tokens * Hidden * 4), 64);
            sbyte* xq = (sbyte*)NativeMemory.AlignedAlloc((nuint)(Tokens * Hidden * 2), 64);
            float* xd = (float*)NativeMemory.AlignedAlloc((nuint)(Tokens * Hidden / 32 * 4), 64);
            for (int i = 0; i < Tokens * Hidden; i++) x[i] = (float)(rnd.NextDouble() - 0.5);
            foreach (int t in threadCounts)
            {
                using var pool = new WorkerPool(t, LlmParallel.ScratchFloats * 4L);
                double Best(int passes, Action pass)
                {
                    pass();
                    double best = double.MaxValue;
                    for (int p = 0; p < passes; p++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        pass();
                        best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
                    }
                    return best;
                }
                // A prompt pass (0.1-1 s) rarely runs undisturbed on a shared machine: time each product of a layer on its own
                // (best of many, weights of layer 0 - the products are compute-bound: each weight block serves 64 tokens) and
                // count it Layers times.
                double Prompt(bool int8, int passes)
                {
                    double sum = 0;
                    for (int k = 0; k < shapes.Length; k++)
                    {
                        var (rows, n) = shapes[k];
                        long off = offsets[k];
                        sum += Best(passes, () => LlmParallel.MatMul(pool, fmt, Tokens, n, x, w + off, rows, y, rows, int8 ? xq : null, int8 ? xd : null));
                    }
                    return sum * Layers;
                }
                void Decode()
                {
                    int k = 0;
                    for (int l = 0; l < Layers; l++)
                        foreach (var (rows, n) in shapes)
                            LlmParallel.MatVec(pool, fmt, n, x, xq, xd, w + offsets[k++], y, rows);
                }
                double widened = Tokens / Prompt(false, Math.Max(3, reps) * 10);
                double gemm = Tokens / Prompt(true, Math.Max(3, reps) * 10);
                double decode = 1 / Best(Math.Max(3, reps) * 20, Decode);
                double reads = total * decode;
                lines.Add(string.Create(Ci, $"| {fmt} | {t} | {widened:F0} | {gemm:F0} | {gemm / widened:F2}x | {decode:F1} | {total:N0} | {reads / 1e9:F1} | {bw[t] / 1e9:F1} | {100 * reads / bw[t]:F0}% |"));
                Console.WriteLine(lines[^1]);
            }
            NativeMemory.AlignedFree(w); NativeMemory.AlignedFree(x); NativeMemory.AlignedFree(y); NativeMemory.AlignedFree(xq); NativeMemory.AlignedFree(xd);
        }
        lines.Add("");
        lines.Add("Read bandwidth (probe): " + string.Join(", ", threadCounts.Select(t => string.Create(Ci, $"{bw[t] / 1e9:F1} GB/s with {t} thread(s)"))) + " (best pass)"
            + "; median pass " + string.Join(", ", threadCounts.Select(t => string.Create(Ci, $"{MedianBandwidth[t] / 1e9:F1} GB/s with {t} thread(s)"))) + ".");
        Console.WriteLine();
        foreach (var l in lines) Console.WriteLine(l);
        if (outFile != null) File.WriteAllLines(outFile, lines);
        return 0;
    }
}
