using System.CommandLine;
using System.Text.RegularExpressions;
using Llmaot.Conformance;

namespace Llmaot.Cli;

/// <summary>
/// `llmaot conformance DIR [--json FILE] [--filter REGEX] [--manifest FILE]`: runs ONNX backend node tests and prints a per-op table
/// and the total line `N passed, N failed, N excluded`. Exit 0 when nothing failed and no excluded case passed.
/// </summary>
public static class ConformanceCommand
{
    public static Command Create()
    {
        var dir = new Argument<string>("DIR") { Description = "Folder of cases (*/model.onnx + test_data_set_*/)" };
        var json = new Option<string?>("--json") { Description = "Write {total, passed, failed, excluded, cases[]} here" };
        var filter = new Option<string?>("--filter") { Description = "Only cases whose name matches this regular expression" };
        var manifest = new Option<string?>("--manifest") { Description = "Exclusion manifest (default: tests/conformance/manifest.txt of this repository, if present)" };
        var cmd = new Command("conformance", "Run ONNX backend node tests through llmaot") { dir, json, filter, manifest };
        cmd.SetAction(r =>
        {
            try
            {
                string? mpath = r.GetValue(manifest) ?? DefaultManifest();
                var m = mpath != null ? Manifest.Load(mpath) : Manifest.Empty;
                var f = r.GetValue(filter) is { } fs ? new Regex(fs, RegexOptions.CultureInvariant) : null;
                var report = ConformanceRunner.Run(r.GetValue(dir)!, m, f, Console.Error);
                Console.Write(report.OpTable());
                foreach (var c in report.Cases.Where(c => c.Status == "failed")) Console.WriteLine($"FAILED {c.Name}: {c.Reason}");
                foreach (var c in report.UnexpectedPasses) Console.WriteLine($"UNEXPECTED PASS {c.Name}: remove its exclusion from the manifest");
                if (r.GetValue(json) is { } jp) File.WriteAllText(jp, report.ToJson());
                Console.WriteLine($"{report.Passed} passed, {report.Failed} failed, {report.Excluded} excluded");
                return report.Failed == 0 && report.UnexpectedPasses.Count == 0 ? 0 : 1;
            }
            catch (Exception e) { return Program.Report(e); }
        });
        return cmd;
    }

    private static string? DefaultManifest()
    {
        var d = new DirectoryInfo(AppContext.BaseDirectory);
        while (d != null && !File.Exists(Path.Combine(d.FullName, "Aot.sln"))) d = d.Parent;
        string? p = d == null ? null : Path.Combine(d.FullName, "tests", "conformance", "manifest.txt");
        return p != null && File.Exists(p) ? p : null;
    }
}
