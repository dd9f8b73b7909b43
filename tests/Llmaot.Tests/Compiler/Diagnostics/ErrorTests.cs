using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Onnx;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Diagnostics;

/// <summary>Every class of user error gives an LlmaotException with a stable code and the node, never a crash or a hang.</summary>
public class ErrorTests
{
    private static LlmaotException CompileFails(string path, CompileOptions? co = null)
    {
        var e = Assert.Throws<LlmaotException>(() => global::Llmaot.Compiler.Compile(path, co ?? new CompileOptions(), new EmitOptions { ClassName = "M", Name = "m" }));
        Assert.Matches("^LLMAOT[0-9]{4}: ", e.Message);
        Assert.DoesNotContain("\n", e.Message);
        return e;
    }

    private static string Write(byte[] bytes)
    {
        string p = Path.Combine(SharedData.TempDir("bad"), "bad.onnx");
        File.WriteAllBytes(p, bytes);
        return p;
    }

    [Fact]
    public void Missing_file() => Assert.Equal(Codes.FileNotFound, CompileFails("/nonexistent/model.onnx").Code);

    [Fact]
    public void Empty_file() => Assert.Equal(Codes.MalformedModel, CompileFails(Write([])).Code);

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    [InlineData(4)]
    [InlineData(5)]
    public void Random_bytes(int seed)
    {
        var b = new byte[4096];
        new Random(seed).NextBytes(b);
        Assert.Equal(Codes.MalformedModel, CompileFails(Write(b)).Code);
    }

    [Fact]
    public void Truncated_models_fail_cleanly_at_every_cut()
    {
        var full = File.ReadAllBytes(SharedData.File("models/onnx/mnist.onnx"));
        for (int cut = 1; cut < full.Length; cut += full.Length / 97 + 1)
        {
            var e = CompileFails(Write(full[..cut]));
            Assert.StartsWith("LLMAOT0", e.Code);
        }
    }

    [Fact]
    public void Corrupted_models_never_crash()
    {
        var full = File.ReadAllBytes(SharedData.File("models/onnx/mnist.onnx"));
        var rng = new Random(11);
        for (int i = 0; i < 60; i++)
        {
            var b = (byte[])full.Clone();
            for (int k = 0; k < 4; k++) b[rng.Next(b.Length)] = (byte)rng.Next(256);
            try
            {
                global::Llmaot.Compiler.Compile(Write(b), new CompileOptions(), new EmitOptions { ClassName = "M", Name = "m" });
            }
            catch (LlmaotException e)
            {
                Assert.Matches("^LLMAOT[0-9]{4}: ", e.Message);
            }
        }
    }

    [Fact]
    public void Unsupported_ops_are_all_listed_with_names()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 2L).Output("y", ElementType.Float, null)
            .Node("FancyOp", ["x"], ["a"]).Node("OtherOp", ["a"], ["y"]);
        var e = CompileFails(Oracle.Save(w, "unsupported"));
        Assert.Equal(Codes.UnsupportedOp, e.Code);
        Assert.Contains("'FancyOp_0' (FancyOp, opset 17)", e.Message);
        Assert.Contains("'OtherOp_1' (OtherOp, opset 17)", e.Message);
    }

    [Fact]
    public void Bad_attribute_names_node_op_and_opset()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 1L, 2L, 5L, 5L).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [2, 2, 3, 3], new float[36])
            .Node("Conv", ["x", "w"], ["y"], ("auto_pad", "SIDEWAYS"));
        var e = CompileFails(Oracle.Save(w, "badattr"));
        Assert.Equal(Codes.BadAttribute, e.Code);
        Assert.Contains("node 'Conv_0' (Conv, opset 17)", e.Message);
    }

    [Fact]
    public void Shape_mismatch()
    {
        var w = new OnnxWriter().Input("a", ElementType.Float, 2L, 3L).Input("b", ElementType.Float, 4L).Output("y", ElementType.Float, null)
            .Node("Add", ["a", "b"], ["y"]);
        var e = CompileFails(Oracle.Save(w, "mismatch"));
        Assert.Equal(Codes.ShapeMismatch, e.Code);
        Assert.Contains("Add_0", e.Message);
    }

    [Fact]
    public void Bad_shape_binding()
    {
        var co = new CompileOptions();
        co.Shapes["Input3"] = [1, 28, 28];
        Assert.Equal(Codes.BadBinding, CompileFails(SharedData.File("models/onnx/mnist.onnx"), co).Code);
        var co2 = new CompileOptions();
        co2.Shapes["nope"] = [1];
        Assert.Contains("Input3", CompileFails(SharedData.File("models/onnx/mnist.onnx"), co2).Message);
    }

    [Fact]
    public void Dangling_input_reference()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 2L).Output("y", ElementType.Float, null).Node("Add", ["x", "ghost"], ["y"]);
        Assert.Equal(Codes.BadGraph, CompileFails(Oracle.Save(w, "dangling")).Code);
    }

    [Fact]
    public void Cycle_is_detected()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 2L).Output("y", ElementType.Float, null)
            .Node("Add", ["x", "b"], ["a"]).Node("Relu", ["a"], ["b"]).Node("Relu", ["a"], ["y"]);
        Assert.Equal(Codes.BadGraph, CompileFails(Oracle.Save(w, "cycle")).Code);
    }

    [Fact]
    public void Missing_external_data()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, 4L).Output("y", ElementType.Float, null)
            .ExternalInitializer("w", ElementType.Float, [4], "weights.bin", 0, 16).Node("Add", ["x", "w"], ["y"]);
        Assert.Equal(Codes.ExternalData, CompileFails(Oracle.Save(w, "ext")).Code);
    }
}
