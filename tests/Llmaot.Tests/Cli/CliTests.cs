using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Cli;

/// <summary>The CLI in process: exit codes, one-line errors without stack traces, inspect's report.</summary>
[Collection("Console")]
public class CliTests
{
    private static (int Code, string Out, string Err) Run(params string[] args)
    {
        var oldOut = Console.Out;
        var oldErr = Console.Error;
        var o = new StringWriter();
        var e = new StringWriter();
        Console.SetOut(o);
        Console.SetError(e);
        try { return (global::Llmaot.Cli.Program.Main(args), o.ToString(), e.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldErr); }
    }

    [Fact]
    public void Malformed_model_gives_one_llmaot_line_and_exit_1()
    {
        string p = Path.Combine(SharedData.TempDir("cli"), "junk.onnx");
        File.WriteAllBytes(p, [0x08, 0xFF, 0xFF, 0x12, 0x99, 0x01, 0x02]);
        foreach (var verb in new[] { "inspect", "verify" })
        {
            var (code, _, err) = Run(verb, p);
            Assert.Equal(1, code);
            Assert.Matches("^error LLMAOT0002: ", err);
            Assert.Single(err.Trim().Split('\n'));
            Assert.DoesNotContain("   at ", err);
        }
        var (bc, _, berr) = Run("build", p, "-o", SharedData.TempDir("cli-out"));
        Assert.Equal(1, bc);
        Assert.Matches("^error LLMAOT0002: ", berr);
    }

    [Fact]
    public void Error_format_msbuild_prefixes_the_model_path_in_canonical_form_and_is_reset_after()
    {
        string p = Path.Combine(SharedData.TempDir("cli"), "junk.onnx");
        File.WriteAllBytes(p, [0x08, 0xFF, 0xFF, 0x12, 0x99, 0x01, 0x02]);
        var (code, _, err) = Run("build", p, "--emit", "class", "-o", SharedData.TempDir("cli-out"), "--error-format", "msbuild");
        Assert.Equal(1, code);
        Assert.StartsWith($"{Path.GetFullPath(p)}: error LLMAOT0002: ", err);
        Assert.Single(err.Trim().Split('\n'));
        var (code2, _, err2) = Run("inspect", p);
        Assert.Equal(1, code2);
        Assert.Matches("^error LLMAOT0002: ", err2);
    }

    [Theory]
    [InlineData("My App")]
    [InlineData("App..Models")]
    [InlineData("App.class")]
    public void Build_rejects_an_invalid_namespace(string ns)
    {
        var (code, _, err) = Run("build", SharedData.File("models/onnx/mnist.onnx"), "--emit", "class", "-o", SharedData.TempDir("cli-ns"), "--namespace", ns);
        Assert.Equal(1, code);
        Assert.StartsWith("error LLMAOT0302: --namespace", err);
    }

    [Fact]
    public void Inspect_prints_ir_table_and_every_unsupported_op()
    {
        var w = new global::Llmaot.Onnx.OnnxWriter().Input("x", global::Llmaot.Runtime.ElementType.Float, 2L).Output("y", global::Llmaot.Runtime.ElementType.Float, null)
            .Node("Relu", ["x"], ["a"]).Node("Mystery", ["a"], ["b"]).Node("Enigma", ["b"], ["y"]);
        var (code, o, _) = Run("inspect", Oracle.Save(w, "unsup"));
        Assert.Equal(1, code);
        Assert.Contains("unsupported: 2 node(s)", o);
        Assert.Contains("'Mystery_1' (Mystery, opset 17)", o);
        Assert.Contains("'Enigma_2' (Enigma, opset 17)", o);
        Assert.Contains("Relu (opset 17)", o);
    }

    [Fact]
    public void Inspect_stops_after_a_phase()
    {
        var (code, o, _) = Run("inspect", SharedData.File("models/onnx/mnist.onnx"), "--stop-after", "planned");
        Assert.Equal(0, code);
        Assert.Contains("@kernel=Conv", o);
        Assert.Contains("@arena=", o);
        var (code2, o2, _) = Run("inspect", SharedData.File("models/onnx/mnist.onnx"), "--stop-after", "imported");
        Assert.Equal(0, code2);
        Assert.DoesNotContain("@kernel", o2);
        Assert.Contains("Plus30", o2);
    }

    [Fact]
    public void Verify_passes_for_mnist()
    {
        var (code, o, err) = Run("verify", SharedData.File("models/onnx/mnist.onnx"));
        Assert.True(code == 0, o + err);
        Assert.Contains("Plus214_Output_0", o);
        Assert.Contains(" ok", o);
    }

    [Fact]
    public void Bad_dim_option_is_an_llmaot_error()
    {
        var (code, _, err) = Run("verify", SharedData.File("models/onnx/mnist.onnx"), "--dim", "batch");
        Assert.Equal(1, code);
        Assert.StartsWith("error LLMAOT0203", err);
    }
}

[CollectionDefinition("Console", DisableParallelization = true)]
public class ConsoleCollection;
