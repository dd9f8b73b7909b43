using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Passes;

public class CanonicalizeTests
{
    [Fact]
    public void Relu_after_maxpool_moves_before_it_and_fuses_into_the_conv()
    {
        var rng = new Random(2);
        var w = new OnnxWriter().Input("x", ElementType.Float, 1L, 2L, 10L, 10L).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [3, 2, 3, 3], Enumerable.Range(0, 54).Select(_ => (float)(rng.NextDouble() - 0.5)).ToArray())
            .Node("Conv", ["x", "w"], ["c"])
            .Node("MaxPool", ["c"], ["p"], ("kernel_shape", new long[] { 2, 2 }), ("strides", new long[] { 2, 2 }))
            .Node("Relu", ["p"], ["y"]);
        string path = Oracle.Save(w, "conv_pool_relu");
        var src = Oracle.Generate(path).Source;
        Assert.DoesNotContain("ReluOp", src);
        Assert.Contains("Epilogue.Relu", src);
        Oracle.Check(path, atol: 1e-6, rtol: 0);
    }
}
