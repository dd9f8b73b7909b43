using System.Diagnostics;
using System.Runtime.InteropServices;
using Llmaot.Build;
using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.EndToEnd;

/// <summary>
/// Every real model of ../shared/models/onnx built to a NativeAOT binary (symbolic dims bound, sr fixed for Silero), run on
/// seeded inputs through .npy files, and compared with ONNX Runtime: 1e-4 absolute (1e-3 for PP-OCR det).
/// </summary>
[Collection("NativeAot")]
public class RealModelBinaryTests
{
    public static IEnumerable<object[]> Models() =>
    [
        ["wakeword_head_hello_deepa", new string[0], 1e-4],
        ["ppocr_mobile_v2_cls", new[] { "shape x=1,3,48,192" }, 1e-4],
        ["ppocr_v4_det", new[] { "shape x=1,3,640,640" }, 1e-3],
        ["bert_toy_optimized", new[] { "shape input_ids=1,16", "shape token_type_ids=1,16", "shape input_mask=1,16" }, 1e-4],
        ["gpt2_past_tiny_random", new[] { "dim batch_size=1", "dim seq_len=4" }, 1e-4],
        ["gpt2_contrib_ops_tiny_random", new[] { "dim batch_size=1", "dim seq_len=1", "dim past_seq_len=4", "dim total_seq_len=5" }, 1e-4],
    ];

    private static CompileOptions Options(string[] opts)
    {
        var co = new CompileOptions();
        foreach (var o in opts)
        {
            var kind = o.Split(' ', 2);
            var kv = kind[1].Split('=');
            if (kind[0] == "shape") co.Shapes[kv[0]] = kv[1].Split(',').Select(long.Parse).ToArray();
            else if (kind[0] == "dim") co.Dims[kv[0]] = long.Parse(kv[1]);
            else co.ConstScalars[kv[0]] = double.Parse(kv[1]);
        }
        return co;
    }

    private static string Build(string name, CompileOptions co, string outDir)
    {
        var g = global::Llmaot.Compiler.Compile(SharedData.File($"models/onnx/{name}.onnx"), co, new EmitOptions { ClassName = global::Llmaot.Compiler.ClassNameFor(name), Name = name });
        var b = new BuildOptions();
        string proj = BuildDriver.WriteProject(g, Path.Combine(outDir, ".llmaot", name), b);
        string exe = BuildDriver.Publish(proj, outDir, g, b, TextWriter.Null);
        Assert.True(File.Exists(exe));
        return exe;
    }

    private static void Run(string exe, params string[] args)
    {
        var (code, o, e) = Proc.Run(exe, null, TimeSpan.FromMinutes(10), args);
        Assert.True(code == 0, $"{exe} failed: {o} {e}");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Binary_matches_onnx_runtime(string name, string[] opts, double atol)
    {
        string dir = SharedData.TempDir("real-" + name);
        var co = Options(opts);
        string exe = Build(name, co, dir);
        // The generated model's own description gives the inputs; seeded values like `verify` and `--bench` use.
        var g = global::Llmaot.Compiler.Compile(SharedData.File($"models/onnx/{name}.onnx"), Options(opts), new EmitOptions { ClassName = "M", Name = "m" });
        using var loaded = InMemoryCompiler.Compile([g]);
        using var model = loaded.Create("Llmaot.Generated.M");
        var feed = Verifier.RandomInputs(model.Info, 3);
        if (name == "bert_toy_optimized")
        {
            // Token types are 0/1 and the attention mask is 0/1 in real use (values like 3 turn the additive mask into +20000).
            feed["token_type_ids"] = new HostTensor(ElementType.Int64, [1, 16], MemoryMarshal.AsBytes(Enumerable.Range(0, 16).Select(i => i < 8 ? 0L : 1L).ToArray().AsSpan()).ToArray());
            feed["input_mask"] = new HostTensor(ElementType.Int64, [1, 16], MemoryMarshal.AsBytes(Enumerable.Range(0, 16).Select(i => i < 13 ? 1L : 0L).ToArray().AsSpan()).ToArray());
        }
        var args = new List<string>();
        foreach (var (k, t) in feed)
        {
            string f = Path.Combine(dir, HostTensor.SafeFileName(k) + ".in.npy");
            t.WriteNpy(f);
            args.AddRange(["--input", $"{k}={f}"]);
        }
        args.AddRange(["--output-dir", Path.Combine(dir, "out")]);
        Run(exe, args.ToArray());
        using var ort = new OrtOracle(SharedData.File($"models/onnx/{name}.onnx"));
        foreach (var (oname, expected) in ort.Run(feed))
        {
            var ours = HostTensor.ReadFile(Path.Combine(dir, "out", HostTensor.SafeFileName(oname) + ".npy"));
            var c = Verifier.Compare(oname, ours, expected, atol, 0);
            Assert.True(c.Pass, $"{name} '{oname}': max abs {c.MaxAbs:G4}");
        }
    }

    [Fact]
    public void Silero_vad_binary_100_frames_with_state_fed_back()
    {
        const string name = "silero_vad_16k_op15";
        string dir = SharedData.TempDir("real-vad");
        string exe = Build(name, Options(["shape input=1,512", "dim batch=1", "const sr=16000"]), dir);
        using var ort = new OrtOracle(SharedData.File($"models/onnx/{name}.onnx"));
        var sr = new HostTensor(ElementType.Int64, [], BitConverter.GetBytes(16000L));
        var oursState = new HostTensor(ElementType.Float, [2, 1, 128], new byte[2 * 128 * 4]);
        var ortState = oursState;
        var rng = new SplitMix(5);
        for (int frame = 0; frame < 100; frame++)
        {
            var x = new float[512];
            float env = frame % 10 < 6 ? 0.3f : 0.002f;
            for (int i = 0; i < 512; i++)
            {
                float t = (frame * 512 + i) / 16000f;
                x[i] = env * MathF.Sin(2 * MathF.PI * (150 + 30 * MathF.Sin(6 * t)) * t) + 0.002f * (rng.NextFloat() - 0.5f);
            }
            var input = new HostTensor(ElementType.Float, [1, 512], MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
            input.WriteNpy(Path.Combine(dir, "input.npy"));
            oursState.WriteNpy(Path.Combine(dir, "state.npy"));
            Run(exe, "--input", $"input={Path.Combine(dir, "input.npy")}", "--input", $"state={Path.Combine(dir, "state.npy")}", "--output-dir", Path.Combine(dir, "out"));
            var ours = HostTensor.ReadFile(Path.Combine(dir, "out", "output.npy"));
            var newState = HostTensor.ReadFile(Path.Combine(dir, "out", "stateN.npy"));
            var theirs = ort.Run(new Dictionary<string, HostTensor> { ["input"] = input, ["state"] = ortState, ["sr"] = sr });
            var c = Verifier.Compare("output", ours, theirs["output"], 1e-4, 0);
            Assert.True(c.Pass, $"frame {frame}: output differs by {c.MaxAbs:G4}");
            // The cell state grows with every frame; it is compared relative to its magnitude (see RealModelTests).
            var cs = Verifier.Compare("stateN", newState, theirs["stateN"], 1e-4, 1e-4);
            Assert.True(cs.Pass, $"frame {frame}: state differs by {cs.MaxAbs:G4}");
            oursState = newState;
            ortState = theirs["stateN"];
        }
    }
}
