using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Passes;

/// <summary>The phases a model goes through, in order. <c>--stop-after</c> takes these names.</summary>
public enum Phase
{
    /// <summary>Read from the file into the IR, nothing else.</summary>
    Imported,
    /// <summary>Symbolic dims bound from --dim/--shape (unbound input dims default to 1, with a warning).</summary>
    Bound,
    /// <summary>Types and shapes inferred; constant subgraphs (shape arithmetic) folded along the way.</summary>
    Typed,
    /// <summary>Composite ops lowered to core ops (BatchNormalization to Mul+Add).</summary>
    Lowered,
    /// <summary>Elementwise chains fused into the producing Conv/Gemm/MatMul (bias, per-channel scale, activation).</summary>
    Fused,
    /// <summary>Dead nodes and unused constants removed; every shape checked static.</summary>
    Simplified,
    /// <summary>Weights quantized when --quantize is given; constant weights repacked at compile time into the layout their kernel reads (direct Conv).</summary>
    Packed,
    /// <summary>A kernel chosen for every node and recorded in the IR.</summary>
    Selected,
    /// <summary>Static arena planned: an offset for every intermediate tensor, by liveness.</summary>
    Planned,
}

/// <summary>Options that shape compilation (not emission or building).</summary>
public sealed class CompileOptions
{
    /// <summary>--dim SYM=N bindings.</summary>
    public Dictionary<string, long> Dims { get; } = new(StringComparer.Ordinal);

    /// <summary>--shape INPUT=d0,d1,... bindings.</summary>
    public Dictionary<string, long[]> Shapes { get; } = new(StringComparer.Ordinal);

    /// <summary>
    /// Inputs whose values are fixed at compile time (<c>--const INPUT=FILE</c>): they become constants, so the shapes they
    /// determine (a Reshape target, Slice bounds, ...) specialize. The compiled model no longer takes them.
    /// </summary>
    public Dictionary<string, Runtime.IO.HostTensor> ConstInputs { get; } = new(StringComparer.Ordinal);

    /// <summary>Inputs fixed to one scalar value (<c>--const sr=16000</c>), converted to the input's element type.</summary>
    public Dictionary<string, double> ConstScalars { get; } = new(StringComparer.Ordinal);

    /// <summary>A tokenizer file for language-model checkpoints that carry none (llama2.c's tokenizer.bin).</summary>
    public string? Tokenizer { get; set; }

    /// <summary>Compile-time weight quantization (<c>--quantize</c>): q8_0, q4_0 (language models and tensor models) or int8 (tensor models).</summary>
    public string? Quantize { get; set; }

    /// <summary>What <see cref="WeightQuantization"/> did (set when <see cref="Quantize"/> is, for a tensor model).</summary>
    public QuantizationReport? QuantizationReport { get; set; }

    /// <summary>KV-cache length of a language model (<c>--ctx</c>); null means the model's context length.</summary>
    public int? Context { get; set; }

    /// <summary>KV-cache element type of a language model (<c>--kv-cache</c>): f32 (null), f16 or int8.</summary>
    public string? KvCache { get; set; }

    /// <summary>Stop after this phase (for inspect).</summary>
    public Phase StopAfter { get; set; } = Phase.Planned;

    /// <summary>Warnings collected along the way (e.g. defaulted dims).</summary>
    public List<string> Warnings { get; } = [];
}

/// <summary>
/// The whole compiler in one list: every pass, in order. Each phase leaves the IR in a state that
/// <see cref="IrPrinter"/> can show, so any stage can be inspected.
/// </summary>
public static class Pipeline
{
    /// <summary>The ordered passes after import.</summary>
    public static readonly (Phase Phase, Action<Model, CompileOptions> Run)[] Passes =
    [
        (Phase.Bound, SymbolBinding.Run),
        (Phase.Typed, ShapeInference.Run),
        (Phase.Lowered, Lowering.Run),
        (Phase.Fused, QdqFusion.Run),
        (Phase.Fused, Canonicalize.Run),
        (Phase.Fused, Fusion.Run),
        (Phase.Simplified, Simplify.Run),
        (Phase.Packed, WeightQuantization.Run),
        (Phase.Packed, WeightPacking.Run),
        (Phase.Packed, IntWeightPacking.Run),
        (Phase.Selected, KernelSelection.Run),
        (Phase.Planned, MemoryPlanner.Run),
    ];

    /// <summary>Imports <paramref name="path"/> and runs the passes up to <see cref="CompileOptions.StopAfter"/>.</summary>
    public static Model Compile(string path, CompileOptions options)
    {
        var model = Frontends.Load(path);
        try
        {
            Run(model, options);
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>Runs the passes on an imported model.</summary>
    public static void Run(Model model, CompileOptions options)
    {
        options.Warnings.AddRange(model.Warnings);
        if (options.StopAfter == Phase.Imported) return;
        for (int i = 0; i < Passes.Length; i++)
        {
            var (phase, run) = Passes[i];
            run(model, options);
            // Stop after the last pass of the requested phase (a phase may take several passes).
            if (phase == options.StopAfter && (i + 1 == Passes.Length || Passes[i + 1].Phase != phase)) return;
        }
    }
}

/// <summary>Picks the frontend by file content.</summary>
public static class Frontends
{
    public static Model Load(string path) => Onnx.OnnxImporter.Import(path);
}
