using System.Reflection;
using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Runtime;

/// <summary>
/// The arena figure that `llmaot build --report` and `--info` print (the planner's ArenaBytes) against the memory a run
/// really touches: the arena is poison-filled after construction, the model runs once on seeded inputs, and the highest
/// byte that no longer holds the poison marks the peak. The plan must bound it (peak ≤ arena) and tightly (the unused tail is
/// under one 64-byte alignment unit). The outputs must still match ONNX Runtime: nothing may rely on a zeroed arena.
/// </summary>
public unsafe class ArenaPeakTests
{
    public static IEnumerable<object[]> Models() =>
    [
        ["models/onnx/mnist.onnx", new string[0]],
        ["models/onnx/cnn_mnist_pytorch.onnx", new string[0]],
        ["models/onnx/silero_vad_16k_op15.onnx", new[] { "shape input=1,512", "dim batch=1", "const sr=16000" }],
        ["models/onnx/ppocr_mobile_v2_cls.onnx", new[] { "shape x=1,3,48,192" }],
        ["hello-sine", new[] { "dim batch=1" }],
    ];

    /// <summary>Peak bytes written into the arena by one Run after poison-filling it with <paramref name="poison"/>.</summary>
    internal static long PeakWritten(IGeneratedModel model, IReadOnlyDictionary<string, HostTensor> feed, byte poison, out Dictionary<string, HostTensor> outputs)
    {
        var field = model.GetType().GetField("_arena", BindingFlags.NonPublic | BindingFlags.Instance)
            ?? throw new InvalidOperationException("generated model has no _arena field");
        var arena = (Arena)field.GetValue(model)!;
        var span = new Span<byte>(arena.Base, checked((int)arena.Bytes));
        span.Fill(poison);
        outputs = Verifier.Run(model, feed);
        int last = span.LastIndexOfAnyExcept(poison);
        return last + 1;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void Planned_arena_bounds_the_bytes_a_run_touches_tightly(string model, string[] opts)
    {
        string path = model == "hello-sine" ? Path.Combine(SharedData.RepoRoot, "examples", "hello-sine", "sine.onnx") : SharedData.File(model);
        var co = new CompileOptions();
        foreach (var o in opts)
        {
            var kind = o.Split(' ', 2);
            var kv = kind[1].Split('=');
            if (kind[0] == "shape") co.Shapes[kv[0]] = kv[1].Split(',').Select(long.Parse).ToArray();
            else if (kind[0] == "dim") co.Dims[kv[0]] = long.Parse(kv[1]);
            else co.ConstScalars[kv[0]] = double.Parse(kv[1]);
        }
        var g = global::Llmaot.Compiler.Compile(path, co, new EmitOptions { ClassName = "M", Name = "m" });
        using var loaded = InMemoryCompiler.Compile([g]);
        using var m = loaded.Create("Llmaot.Generated.M");
        Assert.Equal(g.ArenaBytes, m.Info.ArenaBytes);
        var feed = Verifier.RandomInputs(m.Info, 5);
        // Two poisons, so a tensor whose last byte happens to equal one of them cannot hide the peak.
        long peakA = PeakWritten(m, feed, 0xCD, out var outA);
        long peakB = PeakWritten(m, feed, 0x5A, out _);
        long peak = Math.Max(peakA, peakB);
        Assert.True(peak <= g.ArenaBytes, $"a run wrote byte {peak - 1} of a {g.ArenaBytes}-byte arena");
        Assert.True(g.ArenaBytes - peak < Arena.Alignment, $"the plan reserves {g.ArenaBytes} bytes but a run touches only {peak}");

        // Inputs fixed at compile time (Silero's sr) still go to ONNX Runtime, as int64 scalars.
        var ortFeed = new Dictionary<string, HostTensor>(feed);
        foreach (var (name, value) in co.ConstScalars) ortFeed[name] = new HostTensor(ElementType.Int64, [], BitConverter.GetBytes((long)value));
        using var ort = new OrtOracle(path);
        foreach (var (name, expected) in ort.Run(ortFeed))
        {
            var c = Verifier.Compare(name, outA[name], expected, 1e-4, 1e-4);
            Assert.True(c.Pass, $"{name} differs from ONNX Runtime by {c.MaxAbs:G4} after poisoning the arena");
        }
    }
}
