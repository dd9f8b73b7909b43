using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using Llmaot;
using Llmaot.Build;
using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Verify;

// The llmaot benchmark: for each model, build the NativeAOT binary, time it with its own --bench, and time
// ONNX Runtime (C# API, one intra-op thread) on the same seeded inputs in this process, side by side in one run.
// Language models (stories260K and synthetic GGUFs, tok/s and bandwidth roofline): see LlmBench.cs, `-- --llm`.
// Quantized kernels (int8 GEMM, 4-bit GEMV vs fp32 and ONNX Runtime): see QuantBench.cs, `-- --quant`.
// Usage: dotnet run -c Release --project tests/Llmaot.Benchmarks -- [--runs N] [--isa ISA] [--out FILE.md] [MODEL[:--shape ...]]...
// A model option "quantize int8|q8_0|q4_0" builds it with --quantize (its row is named MODEL (MODE); ONNX Runtime runs the float model).

if (args.Contains("--llm")) return LlmBench.Run(args);
if (args.Contains("--quant")) return QuantBench.Run(args);
var ci = CultureInfo.InvariantCulture;
int runs = 2000;
string? isa = null;
string? outFile = null;
var models = new List<(string Path, string[] Options)>();
bool all = false;
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], ci); break;
        case "--isa": isa = args[++i]; break;
        case "--out": outFile = args[++i]; break;
        case "--all": all = true; break;
        default:
            // MODEL or MODEL:OPTION;OPTION with options like shape x=1,3,48,192 / dim batch=1 / const sr=16000 / quantize int8
            var parts = args[i].Split(':', 2);
            models.Add((parts[0], parts.Length > 1 ? parts[1].Split(';', StringSplitOptions.RemoveEmptyEntries) : []));
            break;
    }
}
string shared = Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "../../../../../../shared"));
if (!Directory.Exists(shared)) shared = Path.GetFullPath("../shared");
if (!Directory.Exists(Path.Combine(shared, "models")))
{
    Console.Error.WriteLine($"error: ../shared/models not found (looked in {shared}); the benchmark needs the shared models beside the repo");
    return 1;
}
if (models.Count == 0 || all)
{
    string M(string f) => Path.Combine(shared, "models/onnx", f);
    models.Add((M("mnist.onnx"), []));
    models.Add((M("cnn_mnist_pytorch.onnx"), []));
    if (all)
    {
        models.Add((M("silero_vad_16k_op15.onnx"), ["shape input=1,512", "dim batch=1", "const sr=16000"]));
        models.Add((M("silero_vad_op18_ifless.onnx"), ["shape input=1,512", "dim batch=1", "const sr=16000"]));
        models.Add((M("silero_vad_v4_lstm.onnx"), ["shape input=1,512", "dim batch=1", "const sr=16000"]));
        models.Add((M("wakeword_head_hello_deepa.onnx"), []));
        models.Add((M("ppocr_mobile_v2_cls.onnx"), ["shape x=1,3,48,192"]));
        models.Add((M("ppocr_v4_det.onnx"), ["shape x=1,3,640,640"]));
        models.Add((M("ppocr_v4_det.onnx"), ["shape x=1,3,640,640", "quantize int8"]));
        models.Add((M("bert_toy_optimized.onnx"), ["shape input_ids=1,16", "shape token_type_ids=1,16", "shape input_mask=1,16"]));
        models.Add((M("gpt2_past_tiny_random.onnx"), ["dim batch_size=1", "dim seq_len=4"]));
        models.Add((M("gpt2_contrib_ops_tiny_random.onnx"), ["dim batch_size=1", "dim seq_len=1", "dim past_seq_len=4", "dim total_seq_len=5"]));
    }
}

string ortLib = Directory.GetFiles(AppContext.BaseDirectory, "libonnxruntime.so", SearchOption.AllDirectories).FirstOrDefault() ?? "";
long ortBytes = ortLib.Length > 0 ? new FileInfo(ortLib).Length : 0;
var rows = new List<string>();
var notes = new List<string>();
var floatExes = new Dictionary<string, string>(StringComparer.Ordinal);
string work = Path.Combine(Path.GetTempPath(), "llmaot-bench");
Console.WriteLine($"runs per model: {runs}; ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version} with 1 intra-op thread; libonnxruntime.so {ortBytes:N0} bytes");
foreach (var (path, options) in models)
{
    string name = Path.GetFileNameWithoutExtension(path);
    var co = new CompileOptions();
    foreach (var o in options)
    {
        var kind = o.Split(' ', 2);
        var kv = kind[1].Split('=');
        switch (kind[0])
        {
            case "shape": co.Shapes[kv[0]] = kv[1].Split(',').Select(x => long.Parse(x, ci)).ToArray(); break;
            case "dim": co.Dims[kv[0]] = long.Parse(kv[1], ci); break;
            case "const": co.ConstScalars[kv[0]] = double.Parse(kv[1], ci); break;
            case "quantize": co.Quantize = kind[1]; break;
            default: throw new ArgumentException($"unknown model option '{o}'");
        }
    }
    var g = Compiler.Compile(path, co, new EmitOptions { ClassName = Compiler.ClassNameFor(name), Name = name });
    var b = new BuildOptions { Isa = isa };
    string dir = co.Quantize != null ? name + "-" + co.Quantize : name;
    string proj = BuildDriver.WriteProject(g, Path.Combine(work, dir, ".llmaot", name), b);
    string exe = BuildDriver.Publish(proj, Path.Combine(work, dir), g, b, Console.Error);
    if (g.Quantization != null) Console.Write(g.Quantization.Format());
    if (co.Quantize != null) name += $" ({co.Quantize})";
    long binBytes = new FileInfo(exe).Length;

    // Same seeded inputs for both: the binary's --bench uses seed 42 and so does RandomInputs.
    using var loaded = InMemoryCompiler.Compile([g]);
    using var model = loaded.Create($"{g.Options.Namespace}.{g.ClassName}");
    var feed = Verifier.RandomInputs(model.Info, 42);
    foreach (var (k, d) in co.ConstScalars) feed[k] = new Llmaot.Runtime.IO.HostTensor(Llmaot.Runtime.ElementType.Int64, [], BitConverter.GetBytes((long)d));

    var (ours, rssKb) = RunBinary(exe, runs);
    string floatKey = path + "|" + string.Join(";", options.Where(o => !o.StartsWith("quantize ", StringComparison.Ordinal)));
    if (co.Quantize == null) floatExes[floatKey] = exe;
    else if (floatExes.TryGetValue(floatKey, out var floatExe))
    {
        // Side by side: the float and quantized binaries alternate, three rounds, so machine load hits both alike.
        var tf = new List<double>();
        var tq = new List<double>();
        for (int round = 0; round < 3; round++)
        {
            tf.Add(RunBinary(floatExe, Math.Max(1, runs / 3)).MedianUs);
            tq.Add(RunBinary(exe, Math.Max(1, runs / 3)).MedianUs);
        }
        tf.Sort();
        tq.Sort();
        string side = string.Create(ci, $"{name}: float {tf[1]:F1} µs vs {co.Quantize} {tq[1]:F1} µs (median of 3 alternating rounds of {Math.Max(1, runs / 3)} runs): {tf[1] / tq[1]:F2}x");
        Console.WriteLine(side);
        notes.Add(side);
    }
    double theirs = TimeOrt(path, feed, runs);
    string row = string.Create(ci, $"| {name} | {ours:F1} | {theirs:F1} | {theirs / ours:F2}x | {binBytes:N0} | {g.WeightsBytes:N0} | {rssKb / 1024.0:F1} |");
    Console.WriteLine(row);
    rows.Add(row);
}
var table = new List<string>
{
    $"| model | llmaot median µs | ONNX Runtime median µs (1 thread) | ORT/llmaot | llmaot binary bytes | of which weights | llmaot peak RSS MB |",
    "|---|---|---|---|---|---|---|",
};
table.AddRange(rows);
table.Add("");
foreach (var note in notes) table.Add("Quantized vs float, " + note + ".");
if (notes.Count > 0) table.Add("");
table.Add(string.Create(ci, $"ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version}: libonnxruntime.so is {ortBytes:N0} bytes; llmaot binaries need no runtime library."));
Console.WriteLine();
foreach (var l in table) Console.WriteLine(l);
if (outFile != null) File.WriteAllLines(outFile, table);
return 0;

static (double MedianUs, long PeakRssKb) RunBinary(string exe, int runs)
{
    // /usr/bin/time -f %M reports the child's peak resident set size in KB.
    bool haveTime = File.Exists("/usr/bin/time");
    var psi = haveTime
        ? new ProcessStartInfo("/usr/bin/time", ["-f", "%M", exe, "--bench", runs.ToString(CultureInfo.InvariantCulture)])
        : new ProcessStartInfo(exe, ["--bench", runs.ToString(CultureInfo.InvariantCulture)]);
    psi.RedirectStandardOutput = true;
    psi.RedirectStandardError = true;
    using var p = Process.Start(psi)!;
    string line = p.StandardOutput.ReadToEnd();
    string err = p.StandardError.ReadToEnd();
    p.WaitForExit();
    using var doc = JsonDocument.Parse(line);
    long rss = haveTime && long.TryParse(err.Trim().Split('\n').Last(), out long kb) ? kb : 0;
    return (doc.RootElement.GetProperty("median_us").GetDouble(), rss);
}

static double TimeOrt(string path, Dictionary<string, Llmaot.Runtime.IO.HostTensor> feed, int runs)
{
    using var ort = new OrtOracle(path, threads: 1);
    var names = feed.Keys.ToList();
    var values = names.Select(n => OrtOracle.ToOrt(feed[n])).ToList();
    var outNames = ort.Session.OutputMetadata.Keys.ToList();
    using var ro = new Microsoft.ML.OnnxRuntime.RunOptions();
    for (int i = 0; i < Math.Min(runs, 50); i++) using (ort.Session.Run(ro, names, values, outNames)) { }
    var t = new double[runs];
    for (int i = 0; i < runs; i++)
    {
        long t0 = Stopwatch.GetTimestamp();
        using (ort.Session.Run(ro, names, values, outNames)) { }
        t[i] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
    }
    foreach (var v in values) v.Dispose();
    Array.Sort(t);
    return t[runs / 2];
}
