using System.Diagnostics;
using System.Text.Json;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.EndToEnd;

/// <summary>
/// The real thing: `./llmaot build` publishes MNIST with NativeAOT, the binary reads an .npy input and writes its output,
/// which must match ONNX Runtime. Slow (one publish), so there is only a handful of these.
/// </summary>
[Collection("NativeAot")]
public class NativeAotTests
{
    private static (int Code, string Out, string Err) Exec(string file, string workDir, params string[] args) =>
        Proc.Run(file, workDir, TimeSpan.FromMinutes(8), args);

    [Theory]
    [InlineData("models/onnx/mnist.onnx", "mnist", "Input3", "Plus214_Output_0")]
    [InlineData("models/onnx/cnn_mnist_pytorch.onnx", "cnn_mnist_pytorch", "0", "21")]
    public void Llmaot_build_makes_a_small_native_binary_that_matches_onnx_runtime(string model, string name, string input, string output)
    {
        string modelPath = SharedData.File(model);
        string outDir = SharedData.TempDir("e2e-" + name);
        string reportJson = Path.Combine(outDir, "report.json");
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, "build", modelPath, "-o", outDir, "--report", "--report-json", reportJson);
        Assert.True(code == 0, $"llmaot build failed ({code}):\n{o}\n{e}");
        Assert.Contains("weights_bytes:", o);
        Assert.Contains($"fit report: {name} (linux-x64, x86-64-v3)", o);
        Assert.Contains("arena_bytes:", o);
        Assert.Contains("binary_bytes:", o);
        string exe = Path.Combine(outDir, name);
        Assert.True(File.Exists(exe), $"{exe} missing");
        long size = new FileInfo(exe).Length;
        Assert.True(size < 2_000_000, $"{name} binary is {size} bytes, over 2,000,000");

        // A seeded input saved as .npy, run through the binary and through ONNX Runtime.
        var rng = new SplitMix(7);
        var x = new float[28 * 28];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var t = new HostTensor(ElementType.Float, [1, 1, 28, 28], System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        string npy = Path.Combine(outDir, "x.npy");
        t.WriteNpy(npy);
        string results = Path.Combine(outDir, "out");
        var (rc, ro, re) = Exec(exe, outDir, "--input", $"{input}={npy}", "--output-dir", results);
        Assert.True(rc == 0, $"binary failed ({rc}): {ro} {re}");
        var ours = HostTensor.ReadFile(Path.Combine(results, HostTensor.SafeFileName(output) + ".npy"));
        using var ort = new OrtOracle(modelPath);
        var theirs = ort.Run(new Dictionary<string, HostTensor> { [input] = t });
        var c = Verifier.Compare(output, ours, theirs[output], 1e-4, 0);
        Assert.True(c.Pass, $"max abs {c.MaxAbs}");

        // --info reports the ISA the binary detects, and the memory figures.
        var (ic, io, _) = Exec(exe, outDir, "--info");
        Assert.Equal(0, ic);
        using var info = JsonDocument.Parse(io);
        var isa = info.RootElement.GetProperty("isa");
        Assert.True(isa.GetProperty("Avx2").GetBoolean() || isa.GetProperty("AdvSimd").GetBoolean());
        Assert.True(isa.TryGetProperty("Vector512", out _));
        Assert.True(info.RootElement.GetProperty("weights_bytes").GetInt64() > 0);
        Assert.True(info.RootElement.GetProperty("arena_bytes").GetInt64() > 0);

        // Size: the binary knows its own size; the code part (binary minus embedded weights) fits the 1.5 MB budget.
        long weights = info.RootElement.GetProperty("weights_bytes").GetInt64(), codeBytes = info.RootElement.GetProperty("code_bytes").GetInt64();
        Assert.Equal(size, info.RootElement.GetProperty("binary_bytes").GetInt64());
        Assert.Equal(size - weights, codeBytes);
        Assert.True(codeBytes <= Arm64Tests.CodeBudget, $"{name} linux-x64 code part is {codeBytes:N0} bytes, over {Arm64Tests.CodeBudget:N0}");
        Assert.Contains(string.Create(System.Globalization.CultureInfo.InvariantCulture, $"code_bytes:   {codeBytes:N0}"), o);

        // The fit report agrees with the binary, and its stack figure was measured by running it.
        using var report = JsonDocument.Parse(File.ReadAllText(reportJson));
        var flash = report.RootElement.GetProperty("flash");
        var ram = report.RootElement.GetProperty("ram");
        Assert.Equal(codeBytes, flash.GetProperty("code_bytes").GetInt64());
        Assert.Equal(size, flash.GetProperty("total_bytes").GetInt64());
        Assert.Equal(info.RootElement.GetProperty("arena_bytes").GetInt64(), ram.GetProperty("arena_bytes").GetInt64());
        Assert.Equal("native", ram.GetProperty("measured").GetString());
        long stack = ram.GetProperty("stack_bytes").GetInt64();
        Assert.True(stack > 0 && stack < Llmaot.Runtime.MemoryProbe.StackWindow, $"measured stack {stack}");
        // The measured peak RSS holds at least the arena and the probe's poisoned stack window (a broken reading gives -1 or 0).
        long rss = ram.GetProperty("rss_peak_bytes").GetInt64();
        Assert.True(rss >= ram.GetProperty("arena_bytes").GetInt64() + Llmaot.Runtime.MemoryProbe.StackWindow, $"peak RSS {rss}");

        // --bench prints one JSON line.
        var (bc, bo, _) = Exec(exe, outDir, "--bench", "20");
        Assert.Equal(0, bc);
        using var bench = JsonDocument.Parse(bo);
        Assert.Equal(20, bench.RootElement.GetProperty("runs").GetInt32());
        Assert.True(bench.RootElement.GetProperty("median_us").GetDouble() > 0);

        // A wrong input shape is a one-line LLMAOT error with exit code 1.
        var bad = new HostTensor(ElementType.Float, [1, 28, 28], t.Data);
        string badNpy = Path.Combine(outDir, "bad.npy");
        bad.WriteNpy(badNpy);
        var (xc, _, xe) = Exec(exe, outDir, "--input", $"{input}={badNpy}", "--output-dir", results);
        Assert.Equal(1, xc);
        Assert.StartsWith("error LLMAOT9017", xe);
    }

    [Fact]
    public void Linux_arm64_binary_runs_under_qemu_and_matches_onnx_runtime()
    {
        const string qemu = "/usr/bin/qemu-aarch64";
        Assert.True(File.Exists(qemu), "qemu-aarch64 is missing: apt-get install qemu-user (.ci/run installs it)");
        string modelPath = SharedData.File("models/onnx/mnist.onnx");
        string outDir = SharedData.TempDir("e2e-arm64");
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, "build", modelPath, "-o", outDir, "--target", "linux-arm64");
        Assert.True(code == 0, $"llmaot build --target linux-arm64 failed ({code}):\n{o}\n{e}");
        Assert.Contains("linux-arm64, armv8.2-a", o);
        var rng = new SplitMix(9);
        var x = new float[28 * 28];
        for (int i = 0; i < x.Length; i++) x[i] = rng.NextFloat();
        var t = new HostTensor(ElementType.Float, [1, 1, 28, 28], System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        string npy = Path.Combine(outDir, "x.npy");
        t.WriteNpy(npy);
        var (rc, ro, re) = Exec(qemu, outDir, "-L", "/usr/aarch64-linux-gnu", Path.Combine(outDir, "mnist"), "--input", $"Input3={npy}", "--output-dir", Path.Combine(outDir, "out"));
        Assert.True(rc == 0, ro + re);
        var ours = HostTensor.ReadFile(Path.Combine(outDir, "out", "Plus214_Output_0.npy"));
        using var ort = new OrtOracle(modelPath);
        var c = Verifier.Compare("Plus214_Output_0", ours, ort.Run(new Dictionary<string, HostTensor> { ["Input3"] = t })["Plus214_Output_0"], 1e-4, 0);
        Assert.True(c.Pass, $"max abs {c.MaxAbs}");
        var (ic, io, _) = Exec(qemu, outDir, "-L", "/usr/aarch64-linux-gnu", Path.Combine(outDir, "mnist"), "--info");
        Assert.Equal(0, ic);
        Assert.Contains("\"AdvSimd\":true", io);
        Assert.Contains("\"arch\":\"arm64\"", io);
    }

    [Theory]
    [InlineData("models/llama2c/stories260K.bin", "stories260K", true)]
    [InlineData("models/gguf/stories260K-f32.gguf", "stories260K-f32", false)]
    [InlineData("models/onnx-llm/stories260K.onnx", "stories260K", true)]
    public void Stories260K_binary_prints_the_expected_greedy_text(string model, string name, bool llama2c)
    {
        string outDir = SharedData.TempDir("e2e-llm");
        var args = new List<string> { "build", SharedData.File(model), "-o", outDir };
        if (llama2c) args.AddRange(["--tokenizer", SharedData.File("models/llama2c/tok512.bin")]);
        else args.AddRange(["--ctx", "512"]);
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, args.ToArray());
        Assert.True(code == 0, o + e);
        string exe = Path.Combine(outDir, name);
        Assert.True(new FileInfo(exe).Length <= 3_000_000, $"{name} is {new FileInfo(exe).Length} bytes, over 3 MB");
        var (rc, text, stats) = Exec(exe, outDir, "--temp", "0", "-n", "255", "--threads", "1");
        Assert.Equal(0, rc);
        Assert.Equal(File.ReadAllText(SharedData.File("models/llama2c/stories260K.greedy256.expected.txt")), text);
        using var doc = System.Text.Json.JsonDocument.Parse(stats.Trim().Split('\n').Last());
        Assert.Equal(256, doc.RootElement.GetProperty("generated_tokens").GetInt32());
        Assert.True(doc.RootElement.GetProperty("decode_tok_s").GetDouble() > 0);
        // No heap allocation while decoding, on any thread: exact here, since a NativeAOT binary has no JIT allocating on the
        // side. The sampling run on two threads lets the worker park and wake between tokens (the path that once allocated).
        Assert.Equal(0, doc.RootElement.GetProperty("decode_alloc_bytes").GetInt64());
        var (src, _, sstats) = Exec(exe, outDir, "-p", "Once upon a time", "--temp", "0.8", "--top-p", "0.9", "--repeat-penalty", "1.1", "--seed", "7", "-n", "255", "--threads", "2");
        Assert.Equal(0, src);
        using var sdoc = System.Text.Json.JsonDocument.Parse(sstats.Trim().Split('\n').Last());
        Assert.True(sdoc.RootElement.GetProperty("generated_tokens").GetInt32() > 0);
        Assert.Equal(0, sdoc.RootElement.GetProperty("decode_alloc_bytes").GetInt64());
    }

    private static (int Code, string Out, string Err) ExecWithInput(string file, string workDir, string stdin, params string[] args) =>
        Proc.Run(file, workDir, TimeSpan.FromMinutes(2), args, stdin);

    [Fact]
    public void Int4_onnx_decoder_binary_prints_ort_greedy_text_and_chats_until_eof()
    {
        // MatMulNBits 4-bit weights through the text-generator path: the binary's greedy text is ONNX Runtime's.
        string outDir = SharedData.TempDir("e2e-llm-int4");
        string tok = SharedData.File("models/llama2c/tok512.bin");
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot,
            "build", SharedData.File("models/onnx-llm/stories260K.int4.onnx"), "-o", outDir, "--tokenizer", tok);
        Assert.True(code == 0, o + e);
        string exe = Path.Combine(outDir, "stories260K.int4");
        var (rc, text, stats) = Exec(exe, outDir, "--temp", "0", "-n", "255", "--threads", "1");
        Assert.True(rc == 0, stats);
        Assert.Equal(File.ReadAllText(SharedData.File("models/onnx-llm/stories260K.int4.ort-greedy256.txt")), text);

        // Interactive mode: the first turn is the -p prompt, then one turn per stdin line; the process exits at EOF.
        string[] common = ["--temp", "0", "-n", "20", "--threads", "1", "-p", "Once upon a time"];
        var (r1, first, _) = Exec(exe, outDir, common);
        Assert.Equal(0, r1);
        string[] lines = ["Lily went to the park", "The dog"];
        var (ri, chat, chatErr) = ExecWithInput(exe, outDir, string.Join("\n", lines) + "\n", [.. common, "-i"]);
        Assert.True(ri == 0, chatErr);
        Assert.StartsWith(first, chat);
        Assert.True(chat.Length > first.Length + 10, $"no replies after the first turn: '{chat}'");
        var turns = chatErr.Split('\n').Select(l => l.TrimStart('>', ' ')).Where(l => l.StartsWith('{')).Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.Equal(3, turns.Count);
        var tokenizer = global::Llmaot.Runtime.Llm.Tokenizer.FromLlama2c(File.ReadAllBytes(tok), 512);
        Assert.Equal(tokenizer.Encode("Once upon a time", bos: true, eos: false).Count, turns[0].GetProperty("prompt_tokens").GetInt32());
        for (int i = 0; i < lines.Length; i++)
            Assert.Equal(tokenizer.Encode(lines[i], bos: false, eos: false).Count, turns[i + 1].GetProperty("prompt_tokens").GetInt32());
        Assert.All(turns, t => Assert.InRange(t.GetProperty("generated_tokens").GetInt32(), 1, 21));
    }

    [Fact]
    public void Weights_file_mode_and_emit_source()
    {
        string modelPath = SharedData.File("models/onnx/mnist.onnx");
        string src = SharedData.TempDir("e2e-src");
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, "build", modelPath, "-o", src, "--emit", "source", "--weights", "file", "--name", "digits");
        Assert.True(code == 0, o + e);
        Assert.True(File.Exists(Path.Combine(src, "digits.csproj")));
        Assert.True(File.Exists(Path.Combine(src, "Digits.g.cs")));
        Assert.True(File.Exists(Path.Combine(src, "digits.weights")));
        string proj = File.ReadAllText(Path.Combine(src, "digits.csproj"));
        Assert.Contains("<PublishAot>true</PublishAot>", proj);
        Assert.Contains("<IlcInstructionSet>x86-64-v3</IlcInstructionSet>", proj);
        Assert.Contains("<InvariantGlobalization>true</InvariantGlobalization>", proj);
        Assert.Contains("<UseSystemResourceKeys>true</UseSystemResourceKeys>", proj);
        Assert.Contains("<StackTraceSupport>false</StackTraceSupport>", proj);

        // The same with a real binary: the weights file sits beside it and is memory-mapped; the binary holds no weights.
        string exeDir = SharedData.TempDir("e2e-wfile");
        var (bc, bo, be) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, "build", modelPath, "-o", exeDir, "--weights", "file");
        Assert.True(bc == 0, bo + be);
        Assert.True(File.Exists(Path.Combine(exeDir, "mnist.weights")));
        Assert.Equal(new FileInfo(Path.Combine(src, "digits.weights")).Length, new FileInfo(Path.Combine(exeDir, "mnist.weights")).Length);
        var (ic, io, ie) = Exec(Path.Combine(exeDir, "mnist"), exeDir, "--bench", "5");
        Assert.True(ic == 0, io + ie);
        File.Delete(Path.Combine(exeDir, "mnist.weights"));
        var (mc, _, me) = Exec(Path.Combine(exeDir, "mnist"), exeDir, "--bench", "5");
        Assert.Equal(1, mc);
        Assert.StartsWith("error LLMAOT9003", me);
    }
}
