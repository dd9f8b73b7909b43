using System.Globalization;
using System.Text;
using Llmaot.Diagnostics;
using Llmaot.Ir;
using Llmaot.Ops;
using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Passes;

/// <summary>One weight tensor the quantization pass replaced.</summary>
/// <param name="Name">The float constant's name.</param>
/// <param name="Node">The node that reads it.</param>
/// <param name="Op">Conv, MatMul or Gemm (and the kind of kernel).</param>
/// <param name="Format">int8 (per output channel), q8_0 or q4_0 (blocks of 32 along the reduction).</param>
/// <param name="Shape">The float weight's shape.</param>
/// <param name="RelativeError">‖W - dequant(Wq)‖ / ‖W‖ over the real (unpadded) weights.</param>
/// <param name="FloatBytes">Bytes of the float weight.</param>
/// <param name="QuantizedBytes">Bytes of the quantized weight with its scales (and offset sums).</param>
public sealed record QuantizedTensor(string Name, string Node, string Op, string Format, string Shape, double RelativeError, long FloatBytes, long QuantizedBytes);

/// <summary>One model output, quantized build vs float build on the same seeded inputs.</summary>
/// <param name="Name">Output name.</param>
/// <param name="Inputs">"images" (seeded synthetic pictures, for models with image inputs) or "noise" (seeded uniform [-1, 1]).</param>
/// <param name="Count">Elements compared.</param>
/// <param name="MaxAbs">max |quantized - float|.</param>
/// <param name="Cosine">Cosine similarity of the two outputs as flat vectors.</param>
/// <param name="Top1">Fraction of rows (last axis) whose argmax agrees; null for outputs with a last axis of 1.</param>
public sealed record QuantizedOutput(string Name, string Inputs, long Count, double MaxAbs, double Cosine, double? Top1);

/// <summary>What <c>--quantize</c> did to an ONNX model and what it cost in accuracy.</summary>
public sealed class QuantizationReport
{
    /// <summary>int8, q8_0 or q4_0.</summary>
    public required string Mode { get; init; }
    /// <summary>Every weight quantized.</summary>
    public List<QuantizedTensor> Tensors { get; } = [];
    /// <summary>Conv/MatMul/Gemm nodes left in float, with the reason.</summary>
    public List<string> Kept { get; } = [];
    /// <summary>Per output, quantized vs float (filled by <see cref="Verify.QuantizationCheck"/>).</summary>
    public List<QuantizedOutput> Outputs { get; } = [];
    /// <summary>The seed of the inputs the outputs were compared on.</summary>
    public ulong Seed { get; set; }
    /// <summary>Weights blob bytes of the float build.</summary>
    public long FloatWeightsBytes { get; set; }
    /// <summary>Weights blob bytes of the quantized build.</summary>
    public long QuantizedWeightsBytes { get; set; }

    /// <summary>The report as printed by <c>llmaot build</c>.</summary>
    public string Format()
    {
        var ci = CultureInfo.InvariantCulture;
        var sb = new StringBuilder();
        sb.Append(ci, $"quantization ({Mode}): {Tensors.Count} weight tensors quantized, {Kept.Count} kept in float\n");
        foreach (var t in Tensors)
            sb.Append(ci, $"  {t.Name,-36} {t.Op,-32} {t.Format,-5} {t.Shape,-18} rel_err {t.RelativeError:0.0000}  {t.FloatBytes,10:N0} -> {t.QuantizedBytes,9:N0} B\n");
        foreach (var k in Kept) sb.Append(ci, $"  kept float: {k}\n");
        foreach (var o in Outputs)
            sb.Append(ci, $"  output {o.Name} on {o.Inputs} (seed {Seed}): max_abs_err {o.MaxAbs:G4}  cosine {o.Cosine:0.000000}{(o.Top1 is double t1 ? string.Create(ci, $"  top1_agreement {t1:P1}") : "")}\n");
        double ratio = FloatWeightsBytes > 0 ? (double)QuantizedWeightsBytes / FloatWeightsBytes : 0;
        sb.Append(ci, $"  weights_bytes: {FloatWeightsBytes:N0} (float) -> {QuantizedWeightsBytes:N0} ({ratio:P1})\n");
        return sb.ToString();
    }
}

/// <summary>
/// Compile-time weight quantization (<c>--quantize int8|q8_0|q4_0</c>, main graph only). Rewrites float Conv (2-D), MatMul
/// (B a constant matrix) and Gemm (constant B, no transA, alpha 1, row or no bias) whose weights are constants:
/// <list type="bullet">
/// <item>int8: symmetric, one scale per output channel. One-group Convs become <see cref="QConvInt8Op"/> (1x1: the packed
/// int8 pointwise kernel; Winograd candidates (<see cref="ConvOp.WantsWinograd"/>): int8 weights widened and transformed per
/// call for the float Winograd kernel; others: im2col + the int8 kernel), depthwise Convs keep their taps in int8 (widened per
/// call), MatMul and Gemm become <see cref="QuantGemmOp"/> with int8 rows.</item>
/// <item>q8_0 / q4_0: ggml blocks of 32 along the reduction axis (C·kh·kw for Conv, K for MatMul/Gemm), one fp16 scale per
/// block. When the reduction is not a multiple of 32 the rows are padded with zeros to the next multiple (zeros do not change
/// the block scales or the sums). One-group Convs and MatMul/Gemm become <see cref="QuantGemmOp"/>; grouped and depthwise
/// Convs (reductions of 9 or 25) stay in float.</item>
/// </list>
/// Weights are stored quantized in the weights blob and stay so at run time. The error of every tensor goes into
/// <see cref="CompileOptions.QuantizationReport"/>. Runs only when <see cref="CompileOptions.Quantize"/> is set, before
/// <see cref="WeightPacking"/>, so float packing never sees the rewritten nodes.
/// </summary>
public static class WeightQuantization
{
    public static void Run(Model m, CompileOptions o)
    {
        if (o.Quantize == null) return;
        string mode = o.Quantize switch
        {
            "int8" or "q8_0" or "q4_0" => o.Quantize,
            _ => throw new LlmaotException(Codes.BadOption, $"--quantize {o.Quantize} is not one of int8, q8_0, q4_0"),
        };
        var report = new QuantizationReport { Mode = mode };
        o.QuantizationReport = report;
        var g = m.Graph;
        var outputs = new HashSet<Value>(g.Outputs);
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var n = g.Nodes[i];
            if (n.Domain != "" || n.Op is not ("Conv" or "MatMul" or "Gemm")) continue;
            Node? r = n.Op switch
            {
                "Conv" => Conv(m, n, mode, report),
                _ => Linear(m, n, mode, report),
            };
            if (r == null) continue;
            g.Nodes[i] = r;
        }
        // Float weights nobody reads any more.
        var read = new HashSet<Value>(ControlFlow.AllNodes(g).SelectMany(x => x.Inputs).Where(v => v != null)!);
        foreach (var b in ControlFlow.AllGraphs(g)) read.UnionWith(b.Outputs);
        g.Constants.RemoveAll(c => !read.Contains(c));
    }

    private static string Dims(Value v) => "[" + string.Join(",", v.Shape.ToLongs()) + "]";

    private static Node? Conv(Model m, Node n, string mode, QuantizationReport report)
    {
        var x = n.Inputs[0];
        var w = n.In(1);
        if (x == null || x.Elem != ElementType.Float || x.Type.Shape is not { Rank: 4, IsStatic: true } || w is not { IsConst: true, Elem: ElementType.Float }
            || w.Type.Shape is not { Rank: 4, IsStatic: true } || n.In(2) is { } b0 && (!b0.IsConst || b0.Elem != ElementType.Float))
        {
            report.Kept.Add($"{n.Op} '{n.Name}': not a 2-D float Conv with constant weights");
            return null;
        }
        var d = w.Shape.ToInts();
        int group = (int)n.Int("group", 1), C = x.Shape.ToInts()[1], M = d[0];
        int k = d[1] * d[2] * d[3];
        var wf = w.Const!.As<float>();
        if (group == 1)
        {
            if (mode == "int8" && ConvOp.WantsWinograd(n))
                return UnpackedInt8Conv(m, n, report, mode, w, wf, M, k, x, "winograd", "Conv (winograd, weight-only)");
            if (mode == "int8")
            {
                string kind = ConvOp.WantsPointwise(n) ? "pointwise" : "im2col";
                var q = new sbyte[(long)M * k];
                var scale = new float[ConvInt8.PaddedChannels(M)];
                ConvInt8.QuantizeWeights(wf, M, k, q, scale);
                var packed = new sbyte[ConvInt8.PackedWeightBytes(M, k)];
                ConvInt8.PackWeights(q, packed, M, k);
                var sums = new int[ConvInt8.PaddedChannels(M)];
                ConvInt8.WeightSums(q, M, k, sums);
                double err = RelError(wf, i => q[i] * scale[i / k]);
                var r = Replace(m, n, "QConvInt8", [x,
                    Const(m, w.Name + "/int8", ElementType.Int8, TensorData.Of<sbyte>(packed), packed.Length),
                    Const(m, w.Name + "/scale", ElementType.Float, TensorData.Of<float>(scale), scale.Length),
                    Const(m, w.Name + "/wsum", ElementType.Int32, TensorData.Of<int>(sums), sums.Length),
                    n.In(2)]);
                r.Facts[CompileTimeQuantOps.KindFact] = kind;
                report.Tensors.Add(new(w.Name, n.Name, $"Conv ({kind})", mode, Dims(w), err, w.Const!.Length, packed.Length + scale.Length * 4L + sums.Length * 4L));
                return r;
            }
            return Blocks(m, n, mode, report, w, wf, M, k, x, bias: n.In(2), conv: true);
        }
        if (mode == "int8" && group == C && group == M && d[1] == 1)
            return UnpackedInt8Conv(m, n, report, mode, w, wf, M, k, x, "depthwise", "Conv (depthwise)");
        report.Kept.Add($"Conv '{n.Name}': group {group} ({(mode == "int8" ? "only one group or depthwise" : "block formats take one-group convolutions")})");
        return null;
    }

    /// <summary>
    /// A QConvInt8 whose int8 weights [M, k] stay in row order with one scale per output channel (no packing, no weight sums):
    /// the Winograd and depthwise kernels widen them themselves.
    /// </summary>
    private static Node UnpackedInt8Conv(Model m, Node n, QuantizationReport report, string mode, Value w, ReadOnlySpan<float> wf, int M, int k,
        Value x, string kind, string description)
    {
        var q = new sbyte[(long)M * k];
        var scale = new float[M];
        ConvInt8.QuantizeWeights(wf, M, k, q, scale);
        double err = RelError(wf, i => q[i] * scale[i / k]);
        var r = Replace(m, n, "QConvInt8", [x,
            Const(m, w.Name + "/int8", ElementType.Int8, TensorData.Of<sbyte>(q), q.Length),
            Const(m, w.Name + "/scale", ElementType.Float, TensorData.Of<float>(scale), scale.Length),
            null, n.In(2)]);
        r.Facts[CompileTimeQuantOps.KindFact] = kind;
        report.Tensors.Add(new(w.Name, n.Name, description, mode, Dims(w), err, w.Const!.Length, q.Length + scale.Length * 4L));
        return r;
    }

    private static Node? Linear(Model m, Node n, string mode, QuantizationReport report)
    {
        var a = n.Inputs[0];
        var w = n.In(1);
        if (a == null || a.Elem != ElementType.Float || a.Type.Shape is not { IsStatic: true, Rank: >= 1 } || w is not { IsConst: true, Elem: ElementType.Float }
            || w.Type.Shape is not { Rank: 2, IsStatic: true } || n.Outputs[0].Type.Shape is not { IsStatic: true })
        {
            report.Kept.Add($"{n.Op} '{n.Name}': not a float product with a constant 2-D weight");
            return null;
        }
        var d = w.Shape.ToInts();
        var wf = w.Const!.As<float>();
        int k, nn;
        float[] rows;
        Value? bias = n.In(2);
        if (n.Op == "MatMul")
        {
            k = d[0];
            nn = d[1];
            if (bias is { } mb && (!mb.IsConst || mb.Elem != ElementType.Float)) { report.Kept.Add($"MatMul '{n.Name}': bias is not a float constant"); return null; }
            rows = Transpose(wf, k, nn);
        }
        else
        {
            if (n.Int("transA", 0) != 0 || n.Float("alpha", 1f) != 1f || a.Shape.Rank != 2 || bias != null && !(GemmOp.BiasIsRow(n) && bias.IsConst && bias.Elem == ElementType.Float))
            {
                report.Kept.Add($"Gemm '{n.Name}': transA, alpha != 1 or a C that is not a constant row");
                return null;
            }
            bool tb = n.Int("transB", 0) != 0;
            k = tb ? d[1] : d[0];
            nn = tb ? d[0] : d[1];
            rows = tb ? wf.ToArray() : Transpose(wf, k, nn);
        }
        return Blocks(m, n, mode, report, w, rows, nn, k, a, bias, conv: false);
    }

    private static float[] Transpose(ReadOnlySpan<float> w, int rows, int cols)
    {
        var t = new float[w.Length];
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) t[(long)j * rows + i] = w[i * cols + j];
        return t;
    }

    /// <summary>A <see cref="QuantGemmOp"/> over n weight rows of k (float, row-major) in the mode's row format.</summary>
    private static Node Blocks(Model m, Node n, string mode, QuantizationReport report, Value w, ReadOnlySpan<float> rows, int nRows, int k, Value x, Value? bias, bool conv)
    {
        var f = mode switch { "q8_0" => QuantFormat.Q8_0, "q4_0" => QuantFormat.Q4_0, _ => QuantFormat.Int8 };
        int kp = QuantGemm.PaddedK(k);
        long rb = QuantGemm.RowBytes(f, kp);
        var q = new byte[rb * nRows];
        var scale = new float[nRows];
        QuantGemm.QuantizeRows(f, rows, nRows, k, q, scale);
        var deq = new float[(long)nRows * k];
        unsafe
        {
            fixed (byte* qp = q)
            fixed (float* sp = scale)
            fixed (float* dp = deq)
                for (int i = 0; i < nRows; i++) QuantGemm.DequantizeRow(f, qp, sp, i, k, dp + (long)i * k);
        }
        double err = RelError(rows, i => deq[i]);
        var ins = new List<Value?> { x, Const(m, w.Name + "/" + mode, ElementType.UInt8, TensorData.Of(q), q.Length),
            f == QuantFormat.Int8 ? Const(m, w.Name + "/scale", ElementType.Float, TensorData.Of<float>(scale), scale.Length) : null, bias };
        var r = Replace(m, n, "QuantGemm", ins);
        r.Attrs["format"] = new Attr { Name = "format", Kind = Attr.Kinds.String, S = mode };
        r.Attrs["K"] = new Attr { Name = "K", Kind = Attr.Kinds.Int, I = k };
        r.Attrs["N"] = new Attr { Name = "N", Kind = Attr.Kinds.Int, I = nRows };
        if (conv) r.Facts[CompileTimeQuantOps.ConvFact] = "conv";
        string pad = kp != k ? $" (k {k} padded to {kp})" : "";
        report.Tensors.Add(new(w.Name, n.Name, (conv ? "Conv" : n.Op) + pad, mode, Dims(w), err, w.Const!.Length, q.Length + (f == QuantFormat.Int8 ? scale.Length * 4L : 0)));
        return r;
    }

    /// <summary>‖W - Wq‖ / ‖W‖ in double.</summary>
    private static double RelError(ReadOnlySpan<float> w, Func<int, float> dequant)
    {
        double num = 0, den = 0;
        for (int i = 0; i < w.Length; i++)
        {
            double e = w[i] - (double)dequant(i);
            num += e * e;
            den += (double)w[i] * w[i];
        }
        return den > 0 ? Math.Sqrt(num / den) : 0;
    }

    private static Value Const(Model m, string name, ElementType t, TensorData data, long count)
    {
        var v = m.NewValue(name, new TensorType(t, new Shape([count])));
        v.Const = data;
        m.Graph.Constants.Add(v);
        return v;
    }

    /// <summary>A node of llmaot's domain that takes over <paramref name="n"/>'s output, attributes, facts and fused list.</summary>
    private static Node Replace(Model m, Node n, string op, List<Value?> inputs)
    {
        var r = new Node(n.Id, n.Name, op, CompileTimeQuantOps.Domain, 1);
        foreach (var (key, a) in n.Attrs) r.Attrs[key] = a;
        foreach (var (key, v) in n.Facts) r.Facts[key] = v;
        r.Fused.AddRange(n.Fused);
        r.Inputs.AddRange(inputs);
        foreach (var o in n.Outputs)
        {
            r.Outputs.Add(o);
            o.Producer = r;
        }
        if (op == "QConvInt8" || r.Facts.ContainsKey(CompileTimeQuantOps.ConvFact) || n.Op == "Conv")
            r.Facts[ConvOp.WeightShapeFact] = string.Join(",", n.Inputs[1]!.Shape.ToLongs().Select(x => x.ToString(CultureInfo.InvariantCulture)));
        return r;
    }
}
