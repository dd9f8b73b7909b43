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
// Usage: dotnet run -c Release --project tests/Llmaot.Benchmarks -- [--runs N] [--isa ISA] [--out FILE.md] [MODEL[:--shape ...]]...

var ci = CultureInfo.InvariantCulture;
int runs = 2000;
string? isa = null;
string? outFile = null;
var models = new List<(string Path, string[] Shapes)>();
for (int i = 0; i < args.Length; i++)
{
    switch (args[i])
    {
        case "--runs": runs = int.Parse(args[++i], ci); break;
        case "--isa": isa = args[++i]; break;
        case "--out": outFile = args[++i]; break;
        default:
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
if (models.Count == 0)
{
    models.Add((Path.Combine(shared, "models/onnx/mnist.onnx"), []));
    models.Add((Path.Combine(shared, "models/onnx/cnn_mnist_pytorch.onnx"), []));
}

string ortLib = Directory.GetFiles(AppContext.BaseDirectory, "libonnxruntime.so", SearchOption.AllDirectories).FirstOrDefault() ?? "";
long ortBytes = ortLib.Length > 0 ? new FileInfo(ortLib).Length : 0;
var rows = new List<string>();
string work = Path.Combine(Path.GetTempPath(), "llmaot-bench");
Console.WriteLine($"runs per model: {runs}; ONNX Runtime {typeof(Microsoft.ML.OnnxRuntime.InferenceSession).Assembly.GetName().Version} with 1 intra-op thread; libonnxruntime.so {ortBytes:N0} bytes");
foreach (var (path, shapes) in models)
{
    string name = Path.GetFileNameWithoutExtension(path);
    var co = new CompileOptions();
    foreach (var s in shapes)
    {
        var kv = s.Split('=');
        co.Shapes[kv[0]] = kv[1].Split(',').Select(x => long.Parse(x, ci)).ToArray();
    }
    var g = Compiler.Compile(path, co, new EmitOptions { ClassName = Compiler.ClassNameFor(name), Name = name });
    var b = new BuildOptions { Isa = isa };
    string proj = BuildDriver.WriteProject(g, Path.Combine(work, name, ".llmaot", name), b);
    string exe = BuildDriver.Publish(proj, Path.Combine(work, name), g, b, Console.Error);
    long binBytes = new FileInfo(exe).Length;

    // Same seeded inputs for both: the binary's --bench uses seed 42 and so does RandomInputs.
    using var loaded = InMemoryCompiler.Compile([g]);
    using var model = loaded.Create($"{g.Options.Namespace}.{g.ClassName}");
    var feed = Verifier.RandomInputs(model.Info, 42);

    double ours = RunBinary(exe, runs);
    double theirs = TimeOrt(path, feed, runs);
    string row = string.Create(ci, $"| {name} | {ours:F1} | {theirs:F1} | {theirs / ours:F2}x | {binBytes:N0} | {g.WeightsBytes:N0} | {ortBytes:N0} |");
    Console.WriteLine(row);
    rows.Add(row);
}
var table = new List<string>
{
    $"| model | llmaot median µs | ONNX Runtime median µs (1 thread) | ORT/llmaot | llmaot binary bytes | of which weights | libonnxruntime.so bytes |",
    "|---|---|---|---|---|---|---|",
};
table.AddRange(rows);
Console.WriteLine();
foreach (var l in table) Console.WriteLine(l);
if (outFile != null) File.WriteAllLines(outFile, table);
return 0;

static double RunBinary(string exe, int runs)
{
    var psi = new ProcessStartInfo(exe, ["--bench", runs.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true };
    using var p = Process.Start(psi)!;
    string line = p.StandardOutput.ReadToEnd();
    p.WaitForExit();
    using var doc = JsonDocument.Parse(line);
    return doc.RootElement.GetProperty("median_us").GetDouble();
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
