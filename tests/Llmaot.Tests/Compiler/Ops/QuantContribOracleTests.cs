using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>
/// The com.microsoft integer ops (DynamicQuantizeMatMul, MatMulIntegerToFloat, QGemm, QLinearAdd, QLinearMul) and the int8
/// SIMD paths of MatMulInteger / ConvInteger against ONNX Runtime on odd shapes, with constant (compile-time packed) and
/// run-time weights.
/// </summary>
public class QuantContribOracleTests
{
    private const string Ms = "com.microsoft";

    private static byte[] Bytes(int count, int seed)
    {
        var b = new byte[count];
        new Random(seed).NextBytes(b);
        return b;
    }

    private static float[] Floats(int count, int seed, float lo, float hi)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, count).Select(_ => lo + (float)r.NextDouble() * (hi - lo)).ToArray();
    }

    [Theory]
    [InlineData(ElementType.Int8, true, true)]
    [InlineData(ElementType.UInt8, false, false)]
    [InlineData(ElementType.Int8, false, true)]
    public void DynamicQuantizeMatMul_matches(ElementType bType, bool perColumn, bool bias)
    {
        int k = 37, n = 21;
        var w = new OnnxWriter().Opset(17).Opset(1, Ms).Input("a", ElementType.Float, 3L, 5L, (long)k).Output("y", ElementType.Float, null)
            .Initializer("b", bType, [k, n], Bytes(k * n, 1))
            .Initializer("bs", ElementType.Float, perColumn ? [n] : [], Floats(perColumn ? n : 1, 2, 0.001f, 0.02f))
            .Initializer("bz", bType, perColumn ? [n] : [], Bytes(perColumn ? n : 1, 3))
            .Initializer("bias", ElementType.Float, [n], Floats(n, 4, -1, 1));
        w.NodeIn(Ms, "DynamicQuantizeMatMul", bias ? ["a", "b", "bs", "bz", "bias"] : ["a", "b", "bs", "bz"], ["y"]);
        Oracle.Check(Oracle.Save(w, $"dqmm_{bType}_{perColumn}_{bias}"), atol: 1e-4, rtol: 1e-4);
    }

    [Theory]
    [InlineData(ElementType.UInt8, ElementType.Int8, true, true)]
    [InlineData(ElementType.Int8, ElementType.Int8, false, true)]
    [InlineData(ElementType.UInt8, ElementType.UInt8, true, false)]
    public void MatMulIntegerToFloat_matches(ElementType aType, ElementType bType, bool constB, bool perColumn)
    {
        int k = 37, n = 19;
        var w = new OnnxWriter().Opset(17).Opset(1, Ms).Input("a", aType, 2L, 7L, (long)k).Output("y", ElementType.Float, null)
            .Initializer("as", ElementType.Float, [], new[] { 0.013f })
            .Initializer("az", aType, [], Bytes(1, 5))
            .Initializer("bs", ElementType.Float, perColumn ? [n] : [], Floats(perColumn ? n : 1, 6, 0.001f, 0.02f))
            .Initializer("bz", bType, perColumn ? [n] : [], Bytes(perColumn ? n : 1, 7))
            .Initializer("bias", ElementType.Float, [n], Floats(n, 8, -1, 1));
        if (constB) w.Initializer("b", bType, [k, n], Bytes(k * n, 9));
        else w.Input("b", bType, (long)k, (long)n);
        w.NodeIn(Ms, "MatMulIntegerToFloat", ["a", "b", "as", "bs", "az", "bz", "bias"], ["y"]);
        Oracle.Check(Oracle.Save(w, $"mmitf_{aType}_{bType}_{constB}_{perColumn}"), atol: 1e-4, rtol: 1e-4);
    }

    [Theory]
    [InlineData(false, false, true, true)]
    [InlineData(true, true, true, false)]
    [InlineData(false, true, false, true)]
    [InlineData(true, false, false, false)]
    public void QGemm_matches(bool transA, bool transB, bool quantizedOutput, bool withC)
    {
        int m = 5, k = 37, n = 21;
        var w = new OnnxWriter().Opset(17).Opset(1, Ms).Input("a", ElementType.UInt8, transA ? [(long)k, m] : [(long)m, k])
            .Output("y", quantizedOutput ? ElementType.UInt8 : ElementType.Float, null)
            .Initializer("as", ElementType.Float, [], new[] { 0.02f })
            .Initializer("az", ElementType.UInt8, [], new byte[] { 131 })
            .Initializer("b", ElementType.Int8, transB ? [n, k] : [k, n], Bytes(k * n, 11))
            .Initializer("bs", ElementType.Float, [n], Floats(n, 12, 0.001f, 0.02f))
            .Initializer("bz", ElementType.Int8, [n], new byte[n])
            .Initializer("c", ElementType.Int32, [n], Enumerable.Range(0, n).Select(i => i * 37 - 300).ToArray())
            .Initializer("ys", ElementType.Float, [], new[] { 0.05f })
            .Initializer("yz", ElementType.UInt8, [], new byte[] { 120 });
        var inputs = new List<string> { "a", "as", "az", "b", "bs", "bz", withC ? "c" : "" };
        if (quantizedOutput) inputs.AddRange(["ys", "yz"]);
        w.NodeIn(Ms, "QGemm", inputs.ToArray(), ["y"], ("alpha", 0.75f), ("transA", transA ? 1L : 0L), ("transB", transB ? 1L : 0L));
        Oracle.Check(Oracle.Save(w, $"qgemm_{transA}_{transB}_{quantizedOutput}_{withC}"), atol: 1e-4, rtol: 1e-4);
    }

    [Theory]
    [InlineData("QLinearAdd", ElementType.UInt8)]
    [InlineData("QLinearAdd", ElementType.Int8)]
    [InlineData("QLinearMul", ElementType.UInt8)]
    [InlineData("QLinearMul", ElementType.Int8)]
    public void QLinear_binary_matches(string op, ElementType t)
    {
        var w = new OnnxWriter().Opset(17).Opset(1, Ms).Input("a", t, 2L, 3L, 5L).Input("b", t, 3L, 1L).Output("y", t, null)
            .Initializer("as", ElementType.Float, [], new[] { 0.031f })
            .Initializer("az", t, [], new byte[] { 7 })
            .Initializer("bs", ElementType.Float, [], new[] { 0.047f })
            .Initializer("bz", t, [], new byte[] { 250 })
            .Initializer("cs", ElementType.Float, [], new[] { op == "QLinearMul" ? 0.6f : 0.07f })
            .Initializer("cz", t, [], new byte[] { 3 });
        w.NodeIn(Ms, op, ["a", "as", "az", "b", "bs", "bz", "cs", "cz"], ["y"]);
        Oracle.Check(Oracle.Save(w, $"{op}_{t}"), atol: 0, rtol: 0);
    }

    [Theory]
    [InlineData(ElementType.UInt8, ElementType.Int8, true)]
    [InlineData(ElementType.UInt8, ElementType.UInt8, false)]
    [InlineData(ElementType.Int8, ElementType.Int8, true)]
    public void MatMulInteger_int8_paths_match(ElementType aType, ElementType bType, bool constB)
    {
        int k = 37, n = 19;
        var w = new OnnxWriter().Opset(17).Input("a", aType, 3L, 7L, (long)k).Output("y", ElementType.Int32, null)
            .Initializer("az", aType, [], Bytes(1, 21))
            .Initializer("bz", bType, [n], Bytes(n, 22));
        if (constB) w.Initializer("b", bType, [k, n], Bytes(k * n, 23));
        else w.Input("b", bType, (long)k, (long)n);
        w.Node("MatMulInteger", ["a", "b", "az", "bz"], ["y"]);
        Oracle.Check(Oracle.Save(w, $"mmi_{aType}_{bType}_{constB}"), atol: 0, rtol: 0);
    }

    [Theory]
    [InlineData(1, 1, 0)]
    [InlineData(2, 1, 1)]
    [InlineData(1, 3, 1)]
    public void ConvInteger_int8_path_matches(int stride, int group, int pad)
    {
        int c = 3 * group, m = group == 1 ? 5 : 2 * group;
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.UInt8, 2L, (long)c, 9L, 11L).Output("y", ElementType.Int32, null)
            .Initializer("w", ElementType.UInt8, [m, c / group, 3, 3], Bytes(m * c / group * 9, 31))
            .Initializer("xz", ElementType.UInt8, [], new byte[] { 117 })
            .Initializer("wz", ElementType.UInt8, [], new byte[] { 129 });
        w.Node("ConvInteger", ["x", "w", "xz", "wz"], ["y"], ("strides", new long[] { stride, stride }), ("group", (long)group),
            ("pads", new long[] { pad, pad, pad, pad }));
        Oracle.Check(Oracle.Save(w, $"convint_{stride}_{group}_{pad}"), atol: 0, rtol: 0);
    }
}
