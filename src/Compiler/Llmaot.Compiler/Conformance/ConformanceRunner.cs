using System.Diagnostics;
using System.Text;
using System.Text.RegularExpressions;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Verify;

namespace Llmaot.Conformance;

/// <summary>The outcome of one case.</summary>
public sealed record CaseResult(string Name, string Status, string Reason, string Op);

/// <summary>The outcome of a run.</summary>
public sealed class ConformanceReport
{
    public List<CaseResult> Cases { get; } = [];
    public int Total => Cases.Count;
    public int Passed => Cases.Count(c => c.Status == "passed");
    public int Failed => Cases.Count(c => c.Status == "failed");
    public int Excluded => Cases.Count(c => c.Status == "excluded");
    /// <summary>Excluded cases that passed anyway: the manifest is out of date.</summary>
    public List<CaseResult> UnexpectedPasses { get; } = [];

    public string ToJson()
    {
        var sb = new StringBuilder();
        sb.Append($"{{\"total\":{Total},\"passed\":{Passed},\"failed\":{Failed},\"excluded\":{Excluded},\"unexpected_passes\":{UnexpectedPasses.Count},\"cases\":[");
        for (int i = 0; i < Cases.Count; i++)
        {
            var c = Cases[i];
            if (i > 0) sb.Append(',');
            sb.Append("\n{\"name\":").Append(Host.Json(c.Name)).Append(",\"op\":").Append(Host.Json(c.Op))
              .Append(",\"status\":").Append(Host.Json(c.Status)).Append(",\"reason\":").Append(Host.Json(c.Reason)).Append('}');
        }
        return sb.Append("\n]}\n").ToString();
    }

    /// <summary>A per-op table: op, passed, failed, excluded.</summary>
    public string OpTable()
    {
        var sb = new StringBuilder();
        sb.Append($"{"op",-36} {"passed",7} {"failed",7} {"excluded",9}\n");
        foreach (var g in Cases.GroupBy(c => c.Op).OrderBy(g => g.Key, StringComparer.Ordinal))
            sb.Append($"{g.Key,-36} {g.Count(c => c.Status == "passed"),7} {g.Count(c => c.Status == "failed"),7} {g.Count(c => c.Status == "excluded"),9}\n");
        return sb.ToString();
    }
}

/// <summary>
/// Runs ONNX backend node tests: every <c>*/model.onnx</c> with <c>test_data_set_*/input_*.pb</c> and
/// <c>output_*.pb</c>. Cases are compiled with input shapes taken from their data, emitted, compiled together in
/// batches with Roslyn in memory, run on the JIT and compared with the expected outputs: floats within
/// |a - e| &lt;= atol + rtol·|e| (ONNX's own defaults, rtol 1e-3 and atol 1e-7, unless <see cref="Tolerances"/> says
/// otherwise for an op), integers and bools exactly. Excluded cases are still run, so an exclusion that starts passing
/// is reported.
/// </summary>
public static class ConformanceRunner
{
    /// <summary>Per-op tolerance overrides (op → (atol, rtol)), each with the reason in a comment.</summary>
    public static readonly Dictionary<string, (double Atol, double Rtol)> Tolerances = new(StringComparer.Ordinal)
    {
    };

    public const double DefaultAtol = 1e-7, DefaultRtol = 1e-3;

    private sealed class Case
    {
        public required string Name;
        public required string Dir;
        public string Op = "?";
        public List<(List<HostTensor> Inputs, List<HostTensor> Outputs)> DataSets = [];
        public GeneratedModel? Generated;
        public CaseResult? Result;
        public Manifest.Entry? Exclusion;
        /// <summary>Indices of inputs compiled in as constants.</summary>
        public List<int> Frozen = [];
    }

    public static ConformanceReport Run(string dir, Manifest manifest, Regex? filter, TextWriter log, int batchSize = 64)
    {
        if (!Directory.Exists(dir)) throw new LlmaotException(Codes.FileNotFound, $"conformance folder '{dir}' not found");
        var cases = Directory.GetDirectories(dir).Where(d => File.Exists(Path.Combine(d, "model.onnx")))
            .Select(d => new Case { Name = Path.GetFileName(d), Dir = d })
            .Where(c => filter == null || filter.IsMatch(c.Name))
            .OrderBy(c => c.Name, StringComparer.Ordinal).ToList();
        var sw = Stopwatch.StartNew();
        int index = 0;
        foreach (var c in cases)
        {
            c.Exclusion = manifest.Match(c.Name);
            Prepare(c, index++);
        }
        log.WriteLine($"compiled {cases.Count} cases to C# in {sw.Elapsed.TotalSeconds:F1} s");
        var ready = cases.Where(c => c.Generated != null).ToList();
        for (int i = 0; i < ready.Count; i += batchSize)
            RunBatch(ready.GetRange(i, Math.Min(batchSize, ready.Count - i)));
        log.WriteLine($"ran {ready.Count} cases in {sw.Elapsed.TotalSeconds:F1} s");

        var report = new ConformanceReport();
        foreach (var c in cases)
        {
            var r = c.Result ?? new CaseResult(c.Name, "failed", "not run", c.Op);
            if (c.Exclusion != null)
            {
                if (r.Status == "passed") report.UnexpectedPasses.Add(r);
                r = r with { Status = "excluded", Reason = c.Exclusion.Reason + (r.Status == "passed" ? " (but it PASSES now: remove the exclusion)" : "") };
            }
            report.Cases.Add(r);
        }
        return report;
    }

    private static void Prepare(Case c, int index)
    {
        try
        {
            c.DataSets = LoadData(c.Dir);
            try
            {
                Compile(c, index, freeze: false);
            }
            catch (LlmaotException e) when (e.Code is Codes.DataDependentShape or Codes.UnboundDim && c.DataSets.Count == 1)
            {
                // The model computes a shape from an input (a Reshape target, Slice bounds, ...). An AOT build specializes
                // on such values: compile again with the small integer inputs fixed to the test's values (like --const).
                Compile(c, index, freeze: true);
            }
        }
        catch (LlmaotException e)
        {
            c.Result = new CaseResult(c.Name, "failed", e.Message, c.Op);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            c.Result = new CaseResult(c.Name, "failed", $"{Codes.Internal}: {e.GetType().Name}: {e.Message.Split('\n')[0]}", c.Op);
        }
    }

    private static void Compile(Case c, int index, bool freeze)
    {
        var co = new CompileOptions();
        using var m = Frontends.Load(Path.Combine(c.Dir, "model.onnx"));
        c.Op = MainOp(m);
        var first = c.DataSets.FirstOrDefault();
        c.Frozen.Clear();
        if (first.Inputs != null)
            for (int i = 0; i < Math.Min(first.Inputs.Count, m.Graph.Inputs.Count); i++)
            {
                var t = first.Inputs[i];
                string name = m.Graph.Inputs[i].Name;
                // Small 1-D float inputs are parameters too (Resize's scales and roi).
                if (freeze && (t.Type is ElementType.Int64 or ElementType.Int32 or ElementType.Bool && t.Count <= 64 || t.Type is ElementType.Float or ElementType.Float16 or ElementType.BFloat16 && t.Shape.Length <= 1 && t.Count <= 16))
                {
                    co.ConstInputs[name] = t;
                    c.Frozen.Add(i);
                }
                else co.Shapes[name] = t.Shape;
            }
        Pipeline.Run(m, co);
        c.Generated = ModelEmitter.Emit(m, new EmitOptions { ClassName = $"Case{index}", Name = $"case{index}", Namespace = "Llmaot.Conformance.Generated" });
    }

    private static string MainOp(Model m)
    {
        var n = m.Graph.Nodes.FirstOrDefault(n => n.Op != "Constant") ?? m.Graph.Nodes.FirstOrDefault();
        return n == null ? "(none)" : (n.Domain.Length > 0 ? n.Domain + "." : "") + n.Op;
    }

    private static List<(List<HostTensor>, List<HostTensor>)> LoadData(string dir)
    {
        var sets = new List<(List<HostTensor>, List<HostTensor>)>();
        foreach (var ds in Directory.GetDirectories(dir, "test_data_set_*").OrderBy(d => d, StringComparer.Ordinal))
        {
            List<HostTensor> Read(string prefix)
            {
                var list = new List<HostTensor>();
                for (int i = 0; ; i++)
                {
                    string p = Path.Combine(ds, $"{prefix}_{i}.pb");
                    if (!File.Exists(p)) break;
                    try { list.Add(HostTensor.ReadFile(p)); }
                    catch (Exception e) when (e is ProtoFormatException or NotSupportedException or InvalidDataException)
                    {
                        throw new LlmaotException(Codes.BadTensorFile, $"{Path.GetFileName(ds)}/{prefix}_{i}.pb: {e.Message}");
                    }
                }
                return list;
            }
            sets.Add((Read("input"), Read("output")));
        }
        return sets;
    }

    private static void RunBatch(List<Case> batch)
    {
        InMemoryCompiler.Loaded? loaded = null;
        try
        {
            loaded = InMemoryCompiler.Compile(batch.Select(c => c.Generated!), "Llmaot.Conformance.Batch");
        }
        catch (LlmaotException e)
        {
            // One bad case must not sink the batch: compile each alone to find it.
            if (batch.Count > 1)
            {
                foreach (var c in batch) RunBatch([c]);
                return;
            }
            batch[0].Result = new CaseResult(batch[0].Name, "failed", e.Message, batch[0].Op);
            return;
        }
        using (loaded)
            foreach (var c in batch) RunCase(c, loaded);
    }

    private static void RunCase(Case c, InMemoryCompiler.Loaded loaded)
    {
        try
        {
            using var model = loaded.Create($"Llmaot.Conformance.Generated.{c.Generated!.ClassName}");
            var info = model.Info;
            var (atol, rtol) = Tolerances.GetValueOrDefault(c.Op, (DefaultAtol, DefaultRtol));
            foreach (var (inputs, outputs) in c.DataSets)
            {
                var feed = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
                var live = inputs.Where((t, i) => !c.Frozen.Contains(i)).ToList();
                for (int i = 0; i < Math.Min(live.Count, info.Inputs.Length); i++) feed[info.Inputs[i].Name] = live[i];
                var got = Verifier.Run(model, feed);
                if (outputs.Count != info.Outputs.Length)
                {
                    c.Result = new CaseResult(c.Name, "failed", $"{outputs.Count} expected outputs, the model has {info.Outputs.Length}", c.Op);
                    return;
                }
                for (int i = 0; i < outputs.Count; i++)
                {
                    var name = info.Outputs[i].Name;
                    var cmp = Verifier.Compare(name, got[name], outputs[i], atol, rtol);
                    if (!cmp.Pass)
                    {
                        c.Result = new CaseResult(c.Name, "failed", cmp.Problem ?? $"output '{name}': max abs {cmp.MaxAbs:G4}, max rel {cmp.MaxRel:G4}", c.Op);
                        return;
                    }
                }
            }
            c.Result = new CaseResult(c.Name, "passed", c.Frozen.Count == 0 ? "" : $"inputs {string.Join(", ", c.Frozen)} fixed at compile time (they determine shapes or control flow)", c.Op);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            c.Result = new CaseResult(c.Name, "failed", $"run: {e.GetType().Name}: {e.Message.Split('\n')[0]}", c.Op);
        }
    }
}
