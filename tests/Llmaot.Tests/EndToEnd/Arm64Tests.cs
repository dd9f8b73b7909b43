using System.Diagnostics;
using System.Runtime.InteropServices;
using System.Text.Json;
using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Runtime.Llm;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.EndToEnd;

/// <summary>
/// linux-arm64 binaries built by `llmaot build --target linux-arm64 --isa ...` and run under qemu-aarch64 (user mode, the
/// "max" CPU unless a test names an older core): Silero VAD (--isa armv8-a) against ONNX Runtime on x64, stories260K
/// (--isa armv8.2-a+dotprod) against the expected greedy text, and the int8 dot products of a Q8_0 model on both kernel paths
/// (AdvSimd smull/sadalp, Dp sdot). Each binary reports in --info what its kernels test with IsSupported. Three arm64
/// publishes in all (about a minute each).
/// </summary>
[Collection("NativeAot")]
public class Arm64Tests
{
    private const string Qemu = "/usr/bin/qemu-aarch64";
    /// <summary>The code part (binary minus embedded weights) every example must fit in: 1.5 MB.</summary>
    public const long CodeBudget = 1_500_000;

    private static (int Code, string Out, string Err) Exec(string file, string workDir, params string[] args) =>
        Proc.Run(file, workDir, TimeSpan.FromMinutes(10), args);

    /// <summary>Runs <paramref name="exe"/> under qemu-aarch64 emulating <paramref name="cpu"/> ("max": every extension qemu has, dotprod included).</summary>
    private static (int Code, string Out, string Err) RunArm64(string exe, string cpu, params string[] args)
    {
        Assert.True(File.Exists(Qemu), "qemu-aarch64 is missing: apt-get install qemu-user (.ci/run installs it)");
        return Exec(Qemu, Path.GetDirectoryName(exe)!, ["-cpu", cpu, "-L", "/usr/aarch64-linux-gnu", exe, .. args]);
    }

    /// <summary>`llmaot build MODEL --target linux-arm64 --isa ISA ARGS`; returns the executable path.</summary>
    private static string BuildArm64(string model, string name, string isa, string outDir, params string[] args)
    {
        var (code, o, e) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot,
            ["build", model, "-o", outDir, "--name", name, "--target", "linux-arm64", "--isa", isa, .. args]);
        Assert.True(code == 0, $"llmaot build --target linux-arm64 --isa {isa} failed ({code}):\n{o}\n{e}");
        Assert.Contains($"(linux-arm64, {isa})", o);
        string exe = Path.Combine(outDir, name);
        Assert.True(File.Exists(exe), $"{exe} missing");
        return exe;
    }

    private static JsonElement Info(string exe, string cpu = "max")
    {
        var (c, o, e) = RunArm64(exe, cpu, "--info");
        Assert.True(c == 0, o + e);
        using var doc = JsonDocument.Parse(o);
        var root = doc.RootElement.Clone();
        Assert.Equal("arm64", root.GetProperty("arch").GetString());
        Assert.True(root.GetProperty("isa").GetProperty("AdvSimd").GetBoolean(), "AdvSimd must be on for every arm64 target");
        return root;
    }

    [Fact]
    public void Silero_vad_armv8a_binary_matches_onnx_runtime_under_qemu_and_its_code_fits_1_5_MB()
    {
        const string name = "silero_vad_16k_op15";
        string model = SharedData.File($"models/onnx/{name}.onnx");
        string dir = SharedData.TempDir("arm64-vad");
        string exe = BuildArm64(model, "vad", "armv8-a", dir, "--shape", "input=1,512", "--dim", "batch=1", "--const", "sr=16000");

        var info = Info(exe);
        long binary = new FileInfo(exe).Length, weights = info.GetProperty("weights_bytes").GetInt64(), codeBytes = info.GetProperty("code_bytes").GetInt64();
        Assert.Equal(binary, info.GetProperty("binary_bytes").GetInt64());
        Assert.Equal(binary - weights, codeBytes);
        Assert.True(codeBytes <= CodeBudget, $"Silero VAD linux-arm64 code part is {codeBytes:N0} bytes, over {CodeBudget:N0}");

        // Ten frames of a tone-and-silence signal with the LSTM state fed back, each compared with ONNX Runtime on x64.
        using var ort = new OrtOracle(model);
        var sr = new HostTensor(ElementType.Int64, [], BitConverter.GetBytes(16000L));
        var oursState = new HostTensor(ElementType.Float, [2, 1, 128], new byte[2 * 128 * 4]);
        var ortState = oursState;
        var rng = new SplitMix(11);
        for (int frame = 0; frame < 10; frame++)
        {
            var x = new float[512];
            float env = frame % 4 < 2 ? 0.3f : 0.002f;
            for (int i = 0; i < 512; i++)
            {
                float t = (frame * 512 + i) / 16000f;
                x[i] = env * MathF.Sin(2 * MathF.PI * (180 + 40 * MathF.Sin(5 * t)) * t) + 0.002f * (rng.NextFloat() - 0.5f);
            }
            var input = new HostTensor(ElementType.Float, [1, 512], MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            input.WriteNpy(Path.Combine(dir, "input.npy"));
            oursState.WriteNpy(Path.Combine(dir, "state.npy"));
            var (rc, ro, re) = RunArm64(exe, "max", "--input", $"input={Path.Combine(dir, "input.npy")}", "--input", $"state={Path.Combine(dir, "state.npy")}", "--output-dir", Path.Combine(dir, "out"));
            Assert.True(rc == 0, ro + re);
            var ours = HostTensor.ReadFile(Path.Combine(dir, "out", "output.npy"));
            var newState = HostTensor.ReadFile(Path.Combine(dir, "out", "stateN.npy"));
            var theirs = ort.Run(new Dictionary<string, HostTensor> { ["input"] = input, ["state"] = ortState, ["sr"] = sr });
            var c = Verifier.Compare("output", ours, theirs["output"], 1e-4, 0);
            Assert.True(c.Pass, $"frame {frame}: output differs by {c.MaxAbs:G4}");
            var cs = Verifier.Compare("stateN", newState, theirs["stateN"], 1e-4, 1e-4);
            Assert.True(cs.Pass, $"frame {frame}: state differs by {cs.MaxAbs:G4}");
            oursState = newState;
            ortState = theirs["stateN"];
        }
    }

    [Fact]
    public void Stories260K_armv8_2a_dotprod_binary_prints_the_expected_greedy_text_under_qemu()
    {
        string dir = SharedData.TempDir("arm64-llm");
        string exe = BuildArm64(SharedData.File("models/llama2c/stories260K.bin"), "stories260K", "armv8.2-a+dotprod", dir,
            "--tokenizer", SharedData.File("models/llama2c/tok512.bin"));
        var info = Info(exe);
        Assert.True(info.GetProperty("isa").GetProperty("Dp").GetBoolean(), "armv8.2-a+dotprod: Dp.IsSupported must be true");
        Assert.True(info.GetProperty("code_bytes").GetInt64() <= CodeBudget, $"stories260K linux-arm64 code part is {info.GetProperty("code_bytes").GetInt64():N0} bytes");
        var (rc, text, stats) = RunArm64(exe, "max", "--temp", "0", "-n", "255", "--threads", "1");
        Assert.True(rc == 0, stats);
        Assert.Equal(File.ReadAllText(SharedData.File("models/llama2c/stories260K.greedy256.expected.txt")), text);
        using var doc = JsonDocument.Parse(stats.Trim().Split('\n').Last());
        Assert.Equal(256, doc.RootElement.GetProperty("generated_tokens").GetInt32());
    }

    /// <summary>
    /// Q8_0 weights run the int8 matrix-vector kernel (BlockQuant.MatVecQ8_0Q8), which picks its path with IsSupported. An
    /// armv8-a binary does not assume the dot-product extension but NativeAOT detects it at startup: on an armv8.0 core
    /// (qemu -cpu cortex-a53) Dp.IsSupported is false and the AdvSimd smull/sadalp path runs; on qemu's "max" CPU it is true and
    /// the sdot path runs (the armv8.2-a+dotprod build, where Dp is part of the baseline, is the f32 test above). Both paths
    /// compute exact int32 block sums into four lanes, so the two runs must print the same text. Against the same Q8_0 model
    /// on x64 (in process) the text must agree on its first 200 bytes: later, a near-tie between two tokens can go either way
    /// because x64 sums the scaled blocks in 8 float lanes and arm64 in 4 (the texts part at byte 343).
    /// </summary>
    [Fact]
    public void Stories260K_q8_0_armv8a_binary_runs_the_AdvSimd_path_on_cortex_a53_and_the_Dp_path_on_max()
    {
        string bin = SharedData.File("models/llama2c/stories260K.bin"), tok = SharedData.File("models/llama2c/tok512.bin");
        string dir = SharedData.TempDir("arm64-q8");
        string exe = BuildArm64(bin, "stories260K_q8", "armv8-a", dir, "--tokenizer", tok, "--quantize", "q8_0");

        var g = global::Llmaot.Compiler.Compile(bin, new CompileOptions { Tokenizer = tok, Quantize = "q8_0" }, new EmitOptions { ClassName = "Lm", Name = "lm" });
        using var loaded = InMemoryCompiler.Compile([g]);
        using var reference = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
        reference.Threads = 1;
        using var ms = new MemoryStream();
        int pos = 0, last = reference.Tokenizer.Bos;
        LlmHost.Generate(reference, "", 255, new SamplerOptions(Temperature: 0), ms, ref pos, ref last, Stopwatch.GetTimestamp());
        string x64 = System.Text.Encoding.UTF8.GetString(ms.ToArray());
        Assert.True(x64.Length > 200, "the x64 reference text is too short to compare");

        var texts = new List<string>();
        foreach (var (cpu, dp) in new[] { ("cortex-a53", false), ("max", true) })
        {
            var info = Info(exe, cpu);
            Assert.Contains("Q8_0", info.GetProperty("weight_format").GetString());
            Assert.True(dp == info.GetProperty("isa").GetProperty("Dp").GetBoolean(), $"qemu -cpu {cpu}: Dp.IsSupported should be {dp}");
            var (rc, text, stats) = RunArm64(exe, cpu, "--temp", "0", "-n", "255", "--threads", "1");
            Assert.True(rc == 0, stats);
            Assert.True(text.Length > 200 && text[..200] == x64[..200],
                $"qemu -cpu {cpu} ({(dp ? "Dp sdot" : "AdvSimd smull/sadalp")} path) departs from x64 in the first 200 bytes:\n{text}\nx64:\n{x64}");
            texts.Add(text);
        }
        Assert.True(texts[0] == texts[1], $"AdvSimd path:\n{texts[0]}\nDp path:\n{texts[1]}");
    }

    /// <summary>
    /// The ONNX int8 kernels on both arm64 paths: DynamicQuantizeMatMul (Int8Gemm, weights packed per call), a u8 QDQ Conv
    /// (Int8Conv through the fused QLinearConv) and cnn_mnist built with `--quantize int8` (ConvInt8). Each is built once for
    /// armv8-a and run under qemu on cortex-a53 (Dp false: the AdvSimd widening path) and on "max" (Dp true: sdot); every output
    /// must match ONNX Runtime on x64 (the quantized graphs) or the same quantized model compiled in process on x64 (cnn_mnist),
    /// within 1e-4. Integer sums are exact on every path, so only float rounding of the epilogues differs.
    /// </summary>
    [Theory]
    [InlineData("models/onnx-quant/dynamic_quantize_matmul_int8_bias.onnx", null)]
    [InlineData("models/onnx-quant/conv_qdq_u8u8.onnx", null)]
    [InlineData("models/onnx/cnn_mnist_pytorch.onnx", "int8")]
    public void Int8_kernels_match_on_the_AdvSimd_and_Dp_paths_under_qemu(string relative, string? quantize)
    {
        string model = SharedData.File(relative);
        string dir = SharedData.TempDir("arm64-int8");
        var co = new CompileOptions { Quantize = quantize };
        co.Dims["M"] = 5;
        co.Dims["batch_size"] = 1;
        string[] extra = quantize != null ? ["--quantize", quantize] : ["--dim", "M=5", "--dim", "batch_size=1"];
        string exe = BuildArm64(model, "q", "armv8-a", dir, extra);

        // Reference on x64: ONNX Runtime for the quantized graphs; for --quantize the same quantized model in process.
        var g = global::Llmaot.Compiler.Compile(model, co, new EmitOptions { ClassName = "Q", Name = "q" });
        using var loaded = InMemoryCompiler.Compile([g]);
        using var x64 = loaded.Create("Llmaot.Generated.Q");
        var feed = Verifier.RandomInputs(x64.Info, 42);
        Dictionary<string, HostTensor> expected;
        if (quantize == null)
        {
            using var ort = new OrtOracle(model);
            expected = ort.Run(feed);
        }
        else expected = Verifier.Run(x64, feed);

        var args = new List<string>();
        foreach (var (name, t) in feed)
        {
            string f = Path.Combine(dir, "in-" + name + ".npy");
            t.WriteNpy(f);
            args.AddRange(["--input", $"{name}={f}"]);
        }
        foreach (var (cpu, dp) in new[] { ("cortex-a53", false), ("max", true) })
        {
            Assert.True(dp == Info(exe, cpu).GetProperty("isa").GetProperty("Dp").GetBoolean(), $"qemu -cpu {cpu}: Dp.IsSupported should be {dp}");
            string outDir = Path.Combine(dir, "out-" + cpu);
            var (rc, ro, re) = RunArm64(exe, cpu, [.. args, "--output-dir", outDir]);
            Assert.True(rc == 0, ro + re);
            Assert.NotEmpty(expected);
            foreach (var (name, want) in expected)
            {
                var got = HostTensor.ReadFile(Path.Combine(outDir, HostTensor.SafeFileName(name) + ".npy"));
                var c = Verifier.Compare(name, got, want, 1e-4, 1e-4);
                Assert.True(c.Pass, $"{Path.GetFileName(model)} on qemu -cpu {cpu} ({(dp ? "Dp sdot" : "AdvSimd")} path): output '{name}' differs by {c.MaxAbs:G4} {c.Problem}");
            }
        }
    }
}
