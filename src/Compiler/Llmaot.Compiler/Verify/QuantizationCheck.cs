using Llmaot.Emit;
using Llmaot.Passes;
using Llmaot.Runtime;

namespace Llmaot.Verify;

/// <summary>
/// Builds a tensor model twice, float and with <c>--quantize</c>, runs both in process (Roslyn, <see cref="InMemoryCompiler"/>)
/// on the same seeded inputs and completes the <see cref="QuantizationReport"/>: per output max abs error, cosine similarity
/// and top-1 agreement, and the weights bytes of both builds.
/// </summary>
public static class QuantizationCheck
{
    /// <summary>The seed of the comparison inputs (the generated host's --bench inputs use seeds the same way).</summary>
    public const ulong Seed = 1;

    /// <summary>Compiles the quantized model and measures it against the float one; the report is on the result's <see cref="GeneratedModel.Quantization"/>.</summary>
    public static GeneratedModel CompileQuantized(string path, CompileOptions options, EmitOptions emit)
    {
        var floatOptions = WithoutQuantize(options);
        GeneratedModel fg;
        using (var fm = Pipeline.Compile(path, floatOptions)) fg = ModelEmitter.Emit(fm, emit);
        GeneratedModel qg;
        using (var qm = Pipeline.Compile(path, options)) qg = ModelEmitter.Emit(qm, emit);
        var report = options.QuantizationReport ?? throw new InvalidOperationException("the quantization pass did not run");
        report.FloatWeightsBytes = fg.WeightsBytes;
        report.QuantizedWeightsBytes = qg.WeightsBytes;
        Compare(fg, qg, report, Seed);
        qg.Quantization = report;
        return qg;
    }

    private static CompileOptions WithoutQuantize(CompileOptions o)
    {
        var c = new CompileOptions { Tokenizer = o.Tokenizer, Context = o.Context, StopAfter = o.StopAfter };
        foreach (var (k, v) in o.Dims) c.Dims[k] = v;
        foreach (var (k, v) in o.Shapes) c.Shapes[k] = v;
        foreach (var (k, v) in o.ConstInputs) c.ConstInputs[k] = v;
        foreach (var (k, v) in o.ConstScalars) c.ConstScalars[k] = v;
        return c;
    }

    /// <summary>Runs both models on seeded inputs and adds one <see cref="QuantizedOutput"/> per floating output.</summary>
    public static void Compare(GeneratedModel floatModel, GeneratedModel quantModel, QuantizationReport report, ulong seed)
    {
        report.Seed = seed;
        using var lf = InMemoryCompiler.Compile([floatModel], "Llmaot.Quant.Float");
        using var lq = InMemoryCompiler.Compile([quantModel], "Llmaot.Quant.Quantized");
        using var mf = Create(lf, floatModel);
        using var mq = Create(lq, quantModel);
        var inputs = Verifier.RandomInputs(mf.Info, seed);
        var of = Verifier.Run(mf, inputs);
        var oq = Verifier.Run(mq, inputs);
        foreach (var (name, f) in of)
        {
            if (f.Type is not (ElementType.Float or ElementType.Double or ElementType.Float16) || !oq.TryGetValue(name, out var q)) continue;
            var a = Verifier.ToDoubles(f);
            var b = Verifier.ToDoubles(q);
            report.Outputs.Add(Measure(name, a, b, f.Shape.Length > 0 ? f.Shape[^1] : 1));
        }
    }

    /// <summary>Max abs error, cosine similarity and (for a last axis longer than 1) the top-1 agreement of b against a.</summary>
    public static QuantizedOutput Measure(string name, double[] a, double[] b, long lastAxis)
    {
        double maxAbs = 0, dot = 0, na = 0, nb = 0;
        for (int i = 0; i < a.Length; i++)
        {
            maxAbs = Math.Max(maxAbs, Math.Abs(a[i] - b[i]));
            dot += a[i] * b[i];
            na += a[i] * a[i];
            nb += b[i] * b[i];
        }
        double cos = na == 0 && nb == 0 ? 1 : na == 0 || nb == 0 ? 0 : dot / Math.Sqrt(na * nb);
        double? top1 = null;
        if (lastAxis > 1 && a.Length % lastAxis == 0)
        {
            long rows = a.Length / lastAxis, agree = 0;
            for (long r = 0; r < rows; r++)
            {
                long ia = 0, ib = 0;
                for (long j = 1; j < lastAxis; j++)
                {
                    if (a[r * lastAxis + j] > a[r * lastAxis + ia]) ia = j;
                    if (b[r * lastAxis + j] > b[r * lastAxis + ib]) ib = j;
                }
                if (ia == ib) agree++;
            }
            top1 = (double)agree / rows;
        }
        return new QuantizedOutput(name, a.Length, maxAbs, cos, top1);
    }

    /// <summary>An instance of the generated class; weights kept in a file (--weights file) are read from a temporary copy.</summary>
    private static IGeneratedModel Create(InMemoryCompiler.Loaded loaded, GeneratedModel g)
    {
        string type = g.Options.Namespace + "." + g.ClassName;
        if (g.Options.Weights == WeightsMode.Embedded || g.Weights.Length == 0) return loaded.Create(type);
        string tmp = Path.Combine(Path.GetTempPath(), $"llmaot-quant-{Environment.ProcessId}-{Guid.NewGuid():N}.weights");
        File.WriteAllBytes(tmp, g.Weights);
        try
        {
            var blob = WeightBlob.MapFile(tmp, g.Weights.LongLength);
            var t = loaded.Assembly.GetType(type) ?? throw new InvalidOperationException($"type {type} not found");
            return (IGeneratedModel)Activator.CreateInstance(t, blob)!;
        }
        finally
        {
            try { File.Delete(tmp); } catch (IOException) { }
        }
    }
}
