using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json;
using Llmaot.Build;
using Llmaot.Emit;

namespace Llmaot.Cli;

/// <summary>
/// `llmaot build --report`: will the binary fit the device? Flash = code + weights; RAM = arena (planned intermediates; for a
/// language model its activations) + KV cache + stack + runtime overhead. Stack and runtime are measured by running the built
/// executable once with <c>--mem</c> (natively, or under qemu-aarch64 for linux-arm64 on x64, where the resident set is qemu's
/// and is therefore not reported).
/// </summary>
public static class FitReport
{
    /// <summary>The figures of one build; -1 marks a figure that could not be measured.</summary>
    public sealed record Figures(string Name, string Target, string Isa, long CodeBytes, long WeightsBytes, bool WeightsEmbedded,
        long ArenaBytes, long KvCacheBytes, long StackBytes, long RuntimeBytes, long RssPeakBytes, string Measured)
    {
        public long FlashBytes => CodeBytes + (WeightsEmbedded ? WeightsBytes : 0);
        public long RamBytes => ArenaBytes + KvCacheBytes + Math.Max(0, StackBytes) + Math.Max(0, RuntimeBytes);
    }

    /// <summary>Measures <paramref name="exe"/> (null for --emit source) and returns the report's figures.</summary>
    public static Figures Measure(GeneratedModel g, BuildOptions b, string? exe, long binaryBytes, bool embedded)
    {
        long code = exe == null ? -1 : binaryBytes - (embedded ? g.WeightsBytes : 0);
        long arena = g.ArenaBytes, kv = 0, stack = -1, runtime = -1, rss = -1;
        string measured = "no";
        var run = exe == null ? null : Runner(exe, b.Target);
        if (run != null)
        {
            var (file, args, how) = run.Value;
            var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
            foreach (var a in args) psi.ArgumentList.Add(a);
            using var p = Process.Start(psi)!;
            var err = p.StandardError.ReadToEndAsync();
            string output = p.StandardOutput.ReadToEnd();
            p.WaitForExit();
            if (p.ExitCode == 0 && output.TrimStart().StartsWith('{'))
            {
                using var doc = JsonDocument.Parse(output);
                var r = doc.RootElement;
                stack = r.GetProperty("stack_bytes").GetInt64();
                if (r.TryGetProperty("kv_cache_bytes", out var kvp))
                {
                    kv = kvp.GetInt64();
                    arena = r.GetProperty("state_bytes").GetInt64() - kv;
                }
                if (how == "native")
                {
                    rss = r.GetProperty("rss_peak_bytes").GetInt64();
                    // The probe's own stack window is resident too; it is not part of the model's footprint.
                    long probe = r.TryGetProperty("probe_bytes", out var pb) ? pb.GetInt64() : 0;
                    runtime = rss < 0 ? -1 : Math.Max(0, rss - probe - arena - kv - g.WeightsBytes);
                }
                measured = how;
            }
            else
            {
                Console.Error.WriteLine($"warning: `{Path.GetFileName(exe)} --mem` failed ({p.ExitCode}): {err.Result.Trim()}; stack and runtime are not measured");
            }
        }
        return new Figures(g.Options.Name, b.Target, b.EffectiveIsa, code, g.WeightsBytes, embedded, arena, kv, stack, runtime, rss, measured);
    }

    /// <summary>How to run a binary of <paramref name="target"/> here: directly, under qemu-aarch64, or not at all.</summary>
    private static (string File, string[] Args, string How)? Runner(string exe, string target)
    {
        var host = RuntimeInformation.OSArchitecture;
        if ((target == "linux-x64" && host == Architecture.X64) || (target == "linux-arm64" && host == Architecture.Arm64))
            return (exe, ["--mem"], "native");
        if (target == "linux-arm64" && File.Exists("/usr/bin/qemu-aarch64"))
            return ("/usr/bin/qemu-aarch64", ["-L", "/usr/aarch64-linux-gnu", exe, "--mem"], "qemu");
        return null;
    }

    /// <summary>The report as an aligned table.</summary>
    public static string Table(Figures f)
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new System.Text.StringBuilder();
        string N(long v) => v < 0 ? "n/a" : v.ToString("N0", ci);
        void Row(string what, long v, string note) => sb.Append(ci, $"    {what,-20}{N(v),14}  {note}\n");
        sb.Append(ci, $"fit report: {f.Name} ({f.Target}, {f.Isa})\n");
        sb.Append("  flash\n");
        Row("code", f.CodeBytes, "executable minus embedded weights: generated code, kernels, .NET runtime");
        Row("weights", f.WeightsBytes, f.WeightsEmbedded ? "embedded in the executable" : "NAME.weights beside it (not in the total; read into RAM at start, memory-mapped with --mmap)");
        Row("total", f.CodeBytes < 0 ? -1 : f.FlashBytes, "");
        sb.Append("  RAM\n");
        Row(f.KvCacheBytes > 0 ? "activations" : "arena", f.ArenaBytes, f.KvCacheBytes > 0 ? "state besides the KV cache (activations, RoPE tables)" : "planned intermediate tensors (one block)");
        if (f.KvCacheBytes > 0) Row("kv cache", f.KvCacheBytes, "keys and values, float32, all layers and positions");
        Row("stack", f.StackBytes, f.Measured == "no" ? "not measured (run NAME --mem on the device)" : $"measured: deepest stack use of one run ({f.Measured})");
        Row("runtime", f.RuntimeBytes, f.Measured == "native" ? "measured: peak RSS minus the above and the weights (code pages, GC heap, runtime)" : "not measured" + (f.Measured == "qemu" ? " (under qemu the resident set is the emulator's)" : ""));
        Row("total", f.RamBytes, f.RuntimeBytes < 0 ? "(without what is not measured)" : $"peak RSS measured: {N(f.RssPeakBytes)} (with the probe's stack window)");
        return sb.ToString();
    }

    /// <summary>The report as one JSON object.</summary>
    public static string Json(Figures f)
    {
        using var ms = new MemoryStream();
        using (var w = new Utf8JsonWriter(ms, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteString("name", f.Name);
            w.WriteString("target", f.Target);
            w.WriteString("isa", f.Isa);
            w.WriteStartObject("flash");
            w.WriteNumber("code_bytes", f.CodeBytes);
            w.WriteNumber("weights_bytes", f.WeightsBytes);
            w.WriteBoolean("weights_embedded", f.WeightsEmbedded);
            w.WriteNumber("total_bytes", f.CodeBytes < 0 ? -1 : f.FlashBytes);
            w.WriteEndObject();
            w.WriteStartObject("ram");
            w.WriteNumber("arena_bytes", f.ArenaBytes);
            w.WriteNumber("kv_cache_bytes", f.KvCacheBytes);
            w.WriteNumber("stack_bytes", f.StackBytes);
            w.WriteNumber("runtime_bytes", f.RuntimeBytes);
            w.WriteNumber("rss_peak_bytes", f.RssPeakBytes);
            w.WriteNumber("total_bytes", f.RamBytes);
            w.WriteString("measured", f.Measured);
            w.WriteEndObject();
            w.WriteEndObject();
        }
        return System.Text.Encoding.UTF8.GetString(ms.ToArray());
    }
}
