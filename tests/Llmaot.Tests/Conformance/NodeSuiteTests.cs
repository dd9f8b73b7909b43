using Llmaot.Conformance;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Conformance;

/// <summary>
/// The whole ONNX backend node suite (../shared/onnx-node-tests/node) through llmaot, against the manifest in
/// tests/conformance/manifest.txt: every case not excluded must pass, and every excluded case must still fail
/// (an exclusion that passes is stale and must be deleted).
/// </summary>
public class NodeSuiteTests
{
    [Fact]
    public void Every_case_passes_or_is_excluded_with_a_reason()
    {
        string dir = Path.Combine(SharedData.Root, "onnx-node-tests", "node");
        Assert.True(Directory.Exists(dir), $"{dir} is missing");
        var manifest = Manifest.Load(Path.Combine(SharedData.RepoRoot, "tests", "conformance", "manifest.txt"));
        var log = new StringWriter();
        var report = ConformanceRunner.Run(dir, manifest, null, log);
        Assert.True(report.Total >= 1800, $"only {report.Total} cases found");
        var failed = report.Cases.Where(c => c.Status == "failed").Select(c => $"{c.Name}: {c.Reason}").ToList();
        var stale = report.UnexpectedPasses.Select(c => c.Name).ToList();
        Assert.True(failed.Count == 0, $"{failed.Count} cases fail and are not excluded:\n" + string.Join("\n", failed.Take(50)));
        Assert.True(stale.Count == 0, $"{stale.Count} excluded cases pass now; delete their exclusions:\n" + string.Join("\n", stale.Take(50)));
    }

    [Fact]
    public void Every_exclusion_matches_some_case()
    {
        string dir = Path.Combine(SharedData.Root, "onnx-node-tests", "node");
        var names = Directory.GetDirectories(dir).Select(Path.GetFileName).ToList();
        var manifest = Manifest.Load(Path.Combine(SharedData.RepoRoot, "tests", "conformance", "manifest.txt"));
        foreach (var e in manifest.Entries)
            Assert.True(names.Any(n => e.Regex.IsMatch(n!)), $"manifest line {e.Line} ('{e.Pattern}') matches no case");
    }
}
