using System.Runtime.InteropServices;
using Llmaot.Emit;
using Llmaot.Examples.HelloSine;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Models;

/// <summary>
/// examples/hello-sine: the committed sine.onnx, compiled in process, fits sin(x) and matches ONNX Runtime; and the C# trainer
/// reproduces the committed file byte for byte (training is deterministic: seeded data and init, scalar float loops in a fixed order).
/// </summary>
public class HelloSineTests
{
    private static string ModelPath => Path.Combine(SharedData.RepoRoot, "examples", "hello-sine", "sine.onnx");

    [Fact]
    public void Committed_model_fits_sine_and_matches_onnx_runtime()
    {
        const int n = 256;
        var co = new CompileOptions();
        co.Dims["batch"] = n;
        var g = global::Llmaot.Compiler.Compile(ModelPath, co, new EmitOptions { ClassName = "Sine", Name = "sine" });
        using var loaded = InMemoryCompiler.Compile([g]);
        using var model = loaded.Create("Llmaot.Generated.Sine");
        var xs = SineTrainer.EvalPoints(n);
        var feed = new Dictionary<string, HostTensor> { ["x"] = new HostTensor(ElementType.Float, [n, 1], MemoryMarshal.AsBytes(xs.AsSpan()).ToArray()) };
        var ours = Verifier.Run(model, feed)["y"];
        var ys = MemoryMarshal.Cast<byte, float>(ours.Data);
        double maxErr = 0;
        for (int i = 0; i < n; i++) maxErr = Math.Max(maxErr, Math.Abs(ys[i] - Math.Sin(xs[i])));
        Assert.True(maxErr < 0.05, $"max |y - sin x| = {maxErr:G4} over {n} points (the committed model reaches 0.038)");
        Assert.True(maxErr > 0, "a 321-parameter ReLU net cannot be exact: the output is not the network's");

        using var ort = new OrtOracle(ModelPath);
        var c = Verifier.Compare("y", ours, ort.Run(feed)["y"], 1e-5, 0);
        Assert.True(c.Pass, $"max abs vs ONNX Runtime {c.MaxAbs:G4}");
    }

    [Fact]
    public void Retraining_reproduces_the_committed_model_byte_for_byte()
    {
        var m = SineTrainer.Train();
        byte[] fresh = SineTrainer.ToOnnx(m);
        byte[] committed = File.ReadAllBytes(ModelPath);
        Assert.Equal(committed.Length, fresh.Length);
        int firstDiff = -1;
        for (int i = 0; i < fresh.Length; i++)
            if (fresh[i] != committed[i]) { firstDiff = i; break; }
        Assert.True(firstDiff < 0, $"retrained sine.onnx differs from the committed one at byte {firstDiff}");
        // The trainer's own forward pass agrees with the file's weights run by ONNX Runtime.
        using var ort = new OrtOracle(ModelPath);
        var xs = SineTrainer.EvalPoints(8);
        var y = MemoryMarshal.Cast<byte, float>(ort.Run(new Dictionary<string, HostTensor> { ["x"] = new HostTensor(ElementType.Float, [8, 1], MemoryMarshal.AsBytes(xs.AsSpan()).ToArray()) })["y"].Data);
        for (int i = 0; i < 8; i++) Assert.True(Math.Abs(y[i] - m.Predict(xs[i])) < 1e-5, $"x={xs[i]}: ORT {y[i]} vs trainer {m.Predict(xs[i])}");
    }
}
