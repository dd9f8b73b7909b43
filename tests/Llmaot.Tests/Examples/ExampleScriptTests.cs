using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Examples;

/// <summary>
/// The command-line examples run as a newcomer runs them: `bash examples/NAME/run.sh OUT`, through the `./llmaot`
/// launcher, each checked on what it prints. (examples/consumer and examples/vad: <see cref="MsBuildIntegrationTests"/>.)
/// In the NativeAot collection: every script publishes with NativeAOT.
/// </summary>
[Collection("NativeAot")]
public class ExampleScriptTests
{
    private static string Run(string script, string? outDir, params (string Key, string Value)[] env)
    {
        var args = new List<string> { Path.Combine(SharedData.RepoRoot, script) };
        if (outDir != null) args.Add(outDir);
        var (code, o, e) = Proc.Run("bash", SharedData.RepoRoot, TimeSpan.FromMinutes(15), args, null, [.. Proc.QuietDotnet, .. env]);
        string log = o + "\n--- stderr ---\n" + e;
        Assert.True(code == 0, $"{script} failed (exit {code}):\n{log}");
        return log;
    }

    [Fact]
    public void Mnist_example_builds_runs_and_verifies_against_onnx_runtime()
    {
        SharedData.File("models/onnx/mnist.onnx");
        string log = Run("examples/mnist/run.sh", SharedData.TempDir("example-mnist"));
        Assert.Contains("verify: all outputs within atol", log);
        Assert.Matches(new Regex("\"median_us\":[0-9.]+"), log);
    }

    [Fact]
    public void Tiny_story_example_prints_the_exact_greedy_text()
    {
        SharedData.File("models/llama2c/stories260K.greedy256.expected.txt");
        string log = Run("examples/tiny-story/run.sh", SharedData.TempDir("example-tiny-story"));
        Assert.Contains("greedy text matches llama2.c byte for byte", log);
    }

    [Fact]
    public void Hello_sine_example_runs_on_x64_and_arm64_close_to_sine()
    {
        string log = Run("examples/hello-sine/run.sh", null, ("OUT", SharedData.TempDir("example-hello-sine")));
        var errors = Regex.Matches(log, @"max abs error: ([0-9.]+)").Select(m => double.Parse(m.Groups[1].Value, CultureInfo.InvariantCulture)).ToList();
        Assert.Contains("== linux-x64 ==", log);
        Assert.Contains("== linux-arm64 ==", log); // qemu-user is installed by .ci/run; without it the script skips arm64 and this fails
        Assert.Equal(2, errors.Count);
        Assert.All(errors, err => Assert.True(err < 0.05, $"max abs error {err} vs sin(x)\n{log}"));
    }
}
