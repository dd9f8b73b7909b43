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

    /// <summary>
    /// Runs both models on seeded inputs and adds one <see cref="QuantizedOutput"/> per floating output: on uniform noise in
    /// [-1, 1] ("noise", the inputs of --bench), and first, for models with image inputs, on <see cref="SyntheticImages"/> ("images").
    /// </summary>
    public static void Compare(GeneratedModel floatModel, GeneratedModel quantModel, QuantizationReport report, ulong seed)
    {
        report.Seed = seed;
        using var lf = InMemoryCompiler.Compile([floatModel], "Llmaot.Quant.Float");
        using var lq = InMemoryCompiler.Compile([quantModel], "Llmaot.Quant.Quantized");
        using var mf = Create(lf, floatModel);
        using var mq = Create(lq, quantModel);
        var noise = Verifier.RandomInputs(mf.Info, seed);
        var images = Verifier.RandomInputs(mf.Info, seed);
        bool vision = SyntheticImages(images, seed);
        if (vision) Add(report, "images", mf, mq, images);
        Add(report, "noise", mf, mq, noise);
    }

    private static void Add(QuantizationReport report, string inputsKind, IGeneratedModel mf, IGeneratedModel mq, Dictionary<string, Runtime.IO.HostTensor> inputs)
    {
        var of = Verifier.Run(mf, inputs);
        var oq = Verifier.Run(mq, inputs);
        foreach (var (name, f) in of)
        {
            if (f.Type is not (ElementType.Float or ElementType.Double or ElementType.Float16) || !oq.TryGetValue(name, out var q)) continue;
            var a = Verifier.ToDoubles(f);
            var b = Verifier.ToDoubles(q);
            report.Outputs.Add(Measure(name, inputsKind, a, b, f.Shape.Length > 0 ? f.Shape[^1] : 1));
        }
    }

    /// <summary>
    /// Replaces every float input shaped like an image batch [n, c, h, w] (c of 1 to 4, h and w of at least 32) with seeded
    /// synthetic pictures: a light background with dark strokes and blocks of random size, scaled to [-1, 1]. Vision models
    /// (detectors especially) see nothing in white noise and answer with saturated outputs, whose comparison is meaningless.
    /// </summary>
    public static bool SyntheticImages(Dictionary<string, Runtime.IO.HostTensor> inputs, ulong seed)
    {
        var rng = new SplitMix(seed ^ 0x5EED);
        bool any = false;
        foreach (var (name, t) in inputs.ToList())
        {
            if (t.Type != ElementType.Float || t.Shape.Length != 4 || t.Shape[1] is < 1 or > 4 || t.Shape[2] < 32 || t.Shape[3] < 32) continue;
            int n = (int)t.Shape[0], c = (int)t.Shape[1], h = (int)t.Shape[2], w = (int)t.Shape[3];
            var data = new float[t.Count];
            for (int b = 0; b < n; b++)
            {
                float bg = 0.6f + 0.4f * rng.NextFloat();
                for (int i = 0; i < c * h * w; i++) data[(long)b * c * h * w + i] = bg;
                int shapes = Math.Max(4, h * w / 1500);
                for (int s = 0; s < shapes; s++)
                {
                    bool stroke = rng.NextFloat() < 0.8f;
                    int rh = stroke ? 2 + (int)(rng.NextFloat() * h / 24) : 4 + (int)(rng.NextFloat() * h / 6);
                    int rw = stroke ? 2 + (int)(rng.NextFloat() * w / 8) : 4 + (int)(rng.NextFloat() * w / 6);
                    int y0 = (int)(rng.NextFloat() * (h - rh)), x0 = (int)(rng.NextFloat() * (w - rw));
                    float v = stroke ? 0.3f * rng.NextFloat() - 0.2f : rng.NextFloat() * 2 - 1;
                    for (int ch = 0; ch < c; ch++)
                        for (int y = y0; y < y0 + rh; y++)
                            for (int x = x0; x < x0 + rw; x++) data[(((long)b * c + ch) * h + y) * w + x] = v;
                }
            }
            var bytes = new byte[t.Data.Length];
            System.Runtime.InteropServices.MemoryMarshal.AsBytes(data.AsSpan()).CopyTo(bytes);
            inputs[name] = new Runtime.IO.HostTensor(t.Type, t.Shape, bytes);
            any = true;
        }
        return any;
    }

    /// <summary>Max abs error, cosine similarity and (for a last axis longer than 1) the top-1 agreement of b against a.</summary>
    public static QuantizedOutput Measure(string name, string inputsKind, double[] a, double[] b, long lastAxis)
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
        return new QuantizedOutput(name, inputsKind, a.Length, maxAbs, cos, top1);
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
            var blob = WeightBlob.OpenFile(tmp, g.Weights.LongLength);
            var t = loaded.Assembly.GetType(type) ?? throw new InvalidOperationException($"type {type} not found");
            return (IGeneratedModel)Activator.CreateInstance(t, blob)!;
        }
        finally
        {
            try { File.Delete(tmp); } catch (IOException) { }
        }
    }
}
