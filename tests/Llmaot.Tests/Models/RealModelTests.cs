using System.Runtime.InteropServices;
using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Models;

/// <summary>
/// Real edge models from ../shared/models/onnx, compiled by llmaot (in memory) and run against ONNX Runtime on seeded,
/// realistic inputs. Silero VAD runs 100 consecutive 512-sample frames at 16 kHz with its state fed back, every frame compared.
/// </summary>
public class RealModelTests
{
    private static HostTensor F32(long[] shape, Func<long, float> f)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new float[n];
        for (long i = 0; i < n; i++) v[i] = f(i);
        return new HostTensor(ElementType.Float, shape, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
    }

    private static HostTensor I64(long[] shape, Func<long, long> f)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new long[n];
        for (long i = 0; i < n; i++) v[i] = f(i);
        return new HostTensor(ElementType.Int64, shape, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
    }

    private static HostTensor I32(long[] shape, Func<long, int> f)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var v = new int[n];
        for (long i = 0; i < n; i++) v[i] = f(i);
        return new HostTensor(ElementType.Int32, shape, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());
    }

    private static float Noise(ulong seed, long i)
    {
        ulong z = seed * 0x9E3779B97F4A7C15UL + (ulong)i * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 31)) * 0x94D049BB133111EBUL;
        return ((z >> 40) * (1.0f / (1 << 24))) * 2 - 1;
    }

    /// <summary>Compiles with the given options, runs ours and ONNX Runtime on the same feed, asserts every output.</summary>
    private static void Check(string model, CompileOptions co, Dictionary<string, HostTensor> feed, double atol, Dictionary<string, HostTensor>? ortOnly = null)
    {
        string path = SharedData.File(model);
        var g = global::Llmaot.Compiler.Compile(path, co, new EmitOptions { ClassName = "RealModel", Name = "real" });
        using var loaded = InMemoryCompiler.Compile([g]);
        Assert.Empty(loaded.Warnings);
        using var m = loaded.Create("Llmaot.Generated.RealModel");
        var ours = Verifier.Run(m, feed);
        using var ort = new OrtOracle(path);
        var all = new Dictionary<string, HostTensor>(feed);
        foreach (var (k, v) in ortOnly ?? []) all[k] = v;
        var theirs = ort.Run(all);
        foreach (var (name, expected) in theirs)
        {
            var c = Verifier.Compare(name, ours[name], expected, atol, 0);
            Assert.True(c.Pass, $"{model} '{name}': max abs {c.MaxAbs:G4} (atol {atol})");
        }
    }

    [Theory]
    [InlineData("models/onnx/silero_vad_16k_op15.onnx", false)]
    [InlineData("models/onnx/silero_vad_op18_ifless.onnx", false)]
    [InlineData("models/onnx/silero_vad_v4_lstm.onnx", true)]
    public void Silero_vad_100_frames_with_state_fed_back(string model, bool v4)
    {
        string path = SharedData.File(model);
        var co = new CompileOptions();
        co.Shapes["input"] = [1, 512];
        co.Dims["batch"] = 1;
        co.ConstScalars["sr"] = 16000;
        var g = global::Llmaot.Compiler.Compile(path, co, new EmitOptions { ClassName = "Vad", Name = "vad" });
        using var loaded = InMemoryCompiler.Compile([g]);
        Assert.Empty(loaded.Warnings);
        using var ours = loaded.Create("Llmaot.Generated.Vad");
        using var ort = new OrtOracle(path);
        var sr = I64([], _ => 16000);
        // A synthetic 16 kHz "speech" signal: syllable-like voiced bursts (a gliding fundamental with harmonics under a
        // smooth envelope) separated by pauses with faint noise, so the detector switches on and off.
        Func<long, float> audio = t =>
        {
            float sec = t / 16000f;
            float phase = sec % 0.35f;                       // 0.35 s cycle: 0.2 s voiced, 0.15 s pause
            float env = phase < 0.2f ? MathF.Sin(MathF.PI * phase / 0.2f) : 0f;
            float f0 = 140 + 40 * MathF.Sin(2 * MathF.PI * 3 * sec);
            float voice = 0.25f * MathF.Sin(2 * MathF.PI * f0 * sec) + 0.12f * MathF.Sin(4 * MathF.PI * f0 * sec) + 0.06f * MathF.Sin(6 * MathF.PI * f0 * sec);
            return env * voice + 0.003f * Noise(1, t);
        };
        var stateShape = v4 ? new long[] { 2, 1, 64 } : [2, 1, 128];
        var oursState = v4 ? new[] { F32(stateShape, _ => 0), F32(stateShape, _ => 0) } : [F32(stateShape, _ => 0)];
        var ortState = oursState.ToArray();
        string[] inNames = v4 ? ["h", "c"] : ["state"];
        string[] outNames = v4 ? ["hn", "cn"] : ["stateN"];
        double maxDiff = 0;
        float lastProb = 0;
        for (int frame = 0; frame < 100; frame++)
        {
            var x = F32([1, 512], i => audio(frame * 512L + i));
            var feedOurs = new Dictionary<string, HostTensor> { ["input"] = x };
            var feedOrt = new Dictionary<string, HostTensor> { ["input"] = x, ["sr"] = sr };
            for (int s = 0; s < inNames.Length; s++) { feedOurs[inNames[s]] = oursState[s]; feedOrt[inNames[s]] = ortState[s]; }
            var a = Verifier.Run(ours, feedOurs);
            var b = ort.Run(feedOrt);
            var c = Verifier.Compare("output", a["output"], b["output"], 1e-4, 0);
            Assert.True(c.Pass, $"{model} frame {frame}: output differs by {c.MaxAbs:G4}");
            maxDiff = Math.Max(maxDiff, c.MaxAbs);
            for (int s = 0; s < outNames.Length; s++)
            {
                // The LSTM cell state of these models grows by about 1 per frame (|c| reaches ~100 after 100 frames), so after
                // n recurrent steps each engine's own float32 rounding (an ulp at 64 is 7.6e-6) adds up: the state is compared
                // relative to its magnitude, |ours - ort| <= 1e-4 * max(1, |ort|). The probability output is compared absolutely.
                var cs = Verifier.Compare(outNames[s], a[outNames[s]], b[outNames[s]], 1e-4, 1e-4);
                Assert.True(cs.Pass, $"{model} frame {frame}: state '{outNames[s]}' differs by {cs.MaxAbs:G4}");
                oursState[s] = a[outNames[s]];
                ortState[s] = b[outNames[s]];
            }
            lastProb = MemoryMarshal.Cast<byte, float>(a["output"].Data)[0];
        }
        Assert.InRange(lastProb, 0f, 1f);
    }

    [Fact]
    public void Wakeword_head() =>
        Check("models/onnx/wakeword_head_hello_deepa.onnx", new CompileOptions(), new() { ["onnx::Flatten_0"] = F32([1, 25, 96], i => Noise(4, i)) }, 1e-4);

    [Fact]
    public void Ppocr_cls_1x3x48x192()
    {
        var co = new CompileOptions();
        co.Shapes["x"] = [1, 3, 48, 192];
        Check("models/onnx/ppocr_mobile_v2_cls.onnx", co, new() { ["x"] = F32([1, 3, 48, 192], i => Noise(5, i)) }, 1e-4);
    }

    [Fact]
    public void Ppocr_det_1x3x640x640()
    {
        var co = new CompileOptions();
        co.Shapes["x"] = [1, 3, 640, 640];
        Check("models/onnx/ppocr_v4_det.onnx", co, new() { ["x"] = F32([1, 3, 640, 640], i => Noise(6, i)) }, 1e-3);
    }

    [Fact]
    public void Bert_toy_1x16()
    {
        var co = new CompileOptions();
        foreach (var n in new[] { "input_ids", "token_type_ids", "input_mask" }) co.Shapes[n] = [1, 16];
        Check("models/onnx/bert_toy_optimized.onnx", co, new()
        {
            ["input_ids"] = I64([1, 16], i => (long)((Noise(7, i) + 1) * 49) % 99),
            ["token_type_ids"] = I64([1, 16], i => i < 8 ? 0 : 1),
            ["input_mask"] = I64([1, 16], i => i < 13 ? 1 : 0),
        }, 1e-4);
    }

    [Fact]
    public void Gpt2_past_tiny_random_with_past_length_4()
    {
        var co = new CompileOptions();
        co.Dims["batch_size"] = 1;
        co.Dims["seq_len"] = 4;
        var feed = new Dictionary<string, HostTensor> { ["input_ids"] = I64([1, 1], _ => 7) };
        for (int l = 0; l < 12; l++) feed[$"past_{l}"] = F32([2, 1, 2, 4, 2], i => Noise(8 + (ulong)l, i));
        Check("models/onnx/gpt2_past_tiny_random.onnx", co, feed, 1e-4);
    }

    [Fact]
    public void Gpt2_contrib_ops_with_past_length_4()
    {
        // com.microsoft Attention, EmbedLayerNormalization, SkipLayerNormalization and FastGelu; two new tokens after a past of 4.
        var co = new CompileOptions();
        co.Dims["batch_size"] = 1;
        co.Dims["seq_len"] = 2;
        co.Dims["past_seq_len"] = 4;
        co.Dims["total_seq_len"] = 6;
        var feed = new Dictionary<string, HostTensor>
        {
            ["input_ids"] = I32([1, 2], i => 11 + (int)i * 300),
            ["position_ids"] = I32([1, 2], i => 4 + (int)i),
            ["attention_mask"] = I32([1, 6], i => i == 0 ? 0 : 1),
        };
        for (int l = 0; l < 5; l++) feed[$"past_{l}"] = F32([2, 1, 4, 4, 8], i => Noise(20 + (ulong)l, i));
        Check("models/onnx/gpt2_contrib_ops_tiny_random.onnx", co, feed, 1e-4);
    }
}
