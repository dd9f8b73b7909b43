using System.Runtime.InteropServices;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Llm;
using Llmaot.Runtime;
using Llmaot.Runtime.Llm;
using Llmaot.Passes;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Compiler.Llm;

/// <summary>
/// The GGUF block formats llmaot widens at build time (<see cref="GgmlBlocks"/>), against ggml itself: llama.cpp's prebuilt
/// libggml-base (LLamaSharp.Backend.Cpu, a test-only package) quantizes seeded random rows with its reference quantizer, and
/// llmaot's widening of those bytes must equal ggml's own to_float (ggml_get_type_traits) and stay near the input.
/// </summary>
public unsafe class GgmlBlocksTests
{
    private static readonly nint Ggml = LoadGgml();

    private static nint LoadGgml()
    {
        // the baseline (no AVX) build: the reference quantizers and to_float do not depend on the CPU variant
        string lib = Path.Combine(AppContext.BaseDirectory, "runtimes", "linux-x64", "native", "noavx", "libggml-base.so");
        if (!File.Exists(lib)) throw new FileNotFoundException($"ggml test oracle missing: {lib} (the LLamaSharp.Backend.Cpu package copies it)");
        return NativeLibrary.Load(lib);
    }

    // ggml_type values
    [Theory]
    [InlineData(ElementType.Q4_1, 3, 0.15)]
    [InlineData(ElementType.Q5_0, 6, 0.08)]
    [InlineData(ElementType.Q5_1, 7, 0.08)]
    [InlineData(ElementType.Q4_K, 12, 0.15)]
    [InlineData(ElementType.Q5_K, 13, 0.08)]
    [InlineData(ElementType.Q6_K, 14, 0.04)]
    [InlineData(ElementType.BFloat16, 30, 0.01)]
    public void Widening_matches_ggml_to_float_on_ggml_quantized_rows(ElementType type, int ggmlType, double maxRelRms)
    {
        const int rows = 3, perRow = 512;
        var rnd = new Random(ggmlType);
        var x = new float[rows * perRow];
        for (int i = 0; i < x.Length; i++) x[i] = (float)((rnd.NextDouble() - 0.5) * (1 + (i / 64 % 4)) + (i % 97 == 0 ? 3 : 0));
        var bytes = new byte[ElementTypes.ByteCount(type, x.Length)];
        var expected = new float[x.Length];

        // the traits struct: type_name, blck_size, blck_size_interleave, type_size, is_quantized, to_float, from_float_ref;
        // its name and sizes are checked before to_float is used, so a layout change fails here instead of calling garbage
        var traits = ((delegate* unmanaged<int, byte*>)NativeLibrary.GetExport(Ggml, "ggml_get_type_traits"))(ggmlType);
        Assert.Equal(ElementTypes.BlockSize(type), *(long*)(traits + 8));
        Assert.Equal(ElementTypes.BlockBytes(type), *(long*)(traits + 24));
        var toFloat = *(delegate* unmanaged<void*, float*, long, void>*)(traits + 40);
        var quantize = (delegate* unmanaged<int, float*, void*, long, long, long, float*, nuint>)NativeLibrary.GetExport(Ggml, "ggml_quantize_chunk");
        fixed (float* px = x, pe = expected)
        fixed (byte* pb = bytes)
        {
            nuint written = quantize(ggmlType, px, pb, 0, rows, perRow, null);
            Assert.Equal((nuint)bytes.Length, written);
            toFloat(pb, pe, x.Length);
        }

        var got = GgmlBlocks.ToFloat(type, bytes, x.Length);
        double err = 0, norm = 0;
        for (int i = 0; i < x.Length; i++)
        {
            Assert.True(Math.Abs(got[i] - expected[i]) <= 1e-6 * Math.Abs(expected[i]) + 1e-7, $"{type} element {i}: {got[i]} vs ggml {expected[i]}");
            err += (got[i] - x[i]) * (double)(got[i] - x[i]);
            norm += x[i] * (double)x[i];
        }
        Assert.True(Math.Sqrt(err / norm) <= maxRelRms, $"{type}: relative RMS error {Math.Sqrt(err / norm):F4} against the input");
    }

    /// <summary>ggml quantization of a float tensor (rows of <paramref name="perRow"/>) into <paramref name="ggmlType"/>.</summary>
    private static byte[] GgmlQuantize(float[] x, long perRow, ElementType type, int ggmlType)
    {
        var bytes = new byte[ElementTypes.ByteCount(type, x.Length)];
        var quantize = (delegate* unmanaged<int, float*, void*, long, long, long, float*, nuint>)NativeLibrary.GetExport(Ggml, "ggml_quantize_chunk");
        fixed (float* px = x)
        fixed (byte* pb = bytes)
            Assert.Equal((nuint)bytes.Length, quantize(ggmlType, px, pb, 0, x.Length / perRow, perRow, null));
        return bytes;
    }

    [Fact]
    public void A_model_in_k_quant_and_legacy_formats_decodes_like_its_float_original()
    {
        // A seeded synthetic llama (rows of 256 and 512, whole K-quant super-blocks) in F32, and the same weights quantized by
        // ggml in a Q4_K_M-like mix (Q6_K classifier, V and down projections; Q4_K elsewhere) plus Q5_0, Q5_1, Q4_1 and BF16
        // matrices in layer 1: llmaot widens them at build time and runs them as Q8_0. Teacher-forced over the float model's
        // greedy tokens, the logits must stay close to the float model's (a misread layout gives unrelated logits).
        string dir = Path.Combine(Path.GetTempPath(), $"llmaot-kquant-{Guid.NewGuid():N}");
        Directory.CreateDirectory(dir);
        try
        {
            string f32 = Path.Combine(dir, "kq-f32.gguf");
            GgufSynth.Write(f32, new SynthShape("kq", 256, 2, 4, 2, 512, 512), ElementType.Float, seed: 5, context: 128);
            var co = new CompileOptions { Context = 64 };
            using var floatModel = LlmFrontend.Load(f32, co);
            var mix = new Dictionary<string, (ElementType Type, int Ggml)>
            {
                ["output"] = (ElementType.Q6_K, 14), ["token_embd"] = (ElementType.Q4_K, 12),
                ["blk.0.attn_v"] = (ElementType.Q6_K, 14), ["blk.0.ffn_down"] = (ElementType.Q6_K, 14), ["blk.0.ffn_up"] = (ElementType.Q5_K, 13),
                ["blk.1.attn_q"] = (ElementType.Q4_1, 3), ["blk.1.attn_k"] = (ElementType.Q5_0, 6), ["blk.1.attn_v"] = (ElementType.Q5_1, 7),
                ["blk.1.ffn_down"] = (ElementType.BFloat16, 30),
            };
            var tensors = new Dictionary<string, LlmTensor>(StringComparer.Ordinal);
            foreach (var (name, t) in floatModel.Tensors)
            {
                if (t.Shape.Length != 2) { tensors[name] = t; continue; }
                var (type, ggml) = mix.TryGetValue(name, out var m) ? m : (ElementType.Q4_K, 12);
                var f = t.Data.As<float>().ToArray();
                tensors[name] = t with { Type = type, Data = TensorData.Of(GgmlQuantize(f, t.Shape[1], type, ggml)) };
            }
            using var quantModel = new LlmModel { Config = floatModel.Config, Tensors = tensors, Vocab = floatModel.Vocab, SourceName = "kq-mix", Sha256 = floatModel.Sha256 };

            var gF = LlmEmitter.Emit(floatModel, new EmitOptions { ClassName = "Kf", Name = "kf" }, 64);
            var gQ = LlmEmitter.Emit(quantModel, new EmitOptions { ClassName = "Kq", Name = "kq" }, 64);
            Assert.Contains("converted at build time", gQ.Source);
            Assert.Contains("blk.0.attn_q Q4_K -> Q8_0", gQ.Source);
            Assert.Contains("blk.1.ffn_down bfloat16 -> F32", gQ.Source);
            Assert.Single(gQ.Notes);
            Assert.Contains("converted at build time", gQ.Notes[0]);
            Assert.Contains("1 bfloat16 -> F32", gQ.Notes[0]);
            Assert.Empty(gF.Notes);
            using var loaded = InMemoryCompiler.Compile([gF, gQ]);
            Assert.Empty(loaded.Warnings);
            using var a = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Kf")!)!;
            using var b = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Kq")!)!;
            int vocab = floatModel.Config.Vocab, token = 1, agree = 0, steps = 48;
            double minCos = 1;
            for (int pos = 0; pos < steps; pos++)
            {
                float* la = a.Forward(token, pos), lb = b.Forward(token, pos);
                double dot = 0, na = 0, nb = 0;
                int ta = 0, tb = 0;
                for (int v = 0; v < vocab; v++)
                {
                    dot += la[v] * (double)lb[v]; na += la[v] * (double)la[v]; nb += lb[v] * (double)lb[v];
                    if (la[v] > la[ta]) ta = v;
                    if (lb[v] > lb[tb]) tb = v;
                }
                minCos = Math.Min(minCos, dot / Math.Sqrt(na * nb));
                if (ta == tb) agree++;
                token = ta;
            }
            Console.WriteLine($"k-quant mix vs float: min logit cosine {minCos:F4}, top-1 agreement {agree}/{steps}");
            Assert.True(minCos >= 0.98, $"logit cosine {minCos:F4} against the float model");
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void A_truncated_tensor_is_an_error_not_a_read_past_the_end()
    {
        var e = Assert.Throws<InvalidDataException>(() => GgmlBlocks.ToFloat(ElementType.Q4_K, new byte[143], 256));
        Assert.Contains("Q4_K", e.Message);
    }
}
