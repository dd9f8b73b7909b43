using System.Runtime.InteropServices;
using Llmaot.Diagnostics;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Compiler.Ops;

/// <summary>Family F (sampling, signal, detection and data-dependent ops; generic MatMul/Gemm/Conv paths) against ONNX Runtime.</summary>
public class NnSignalOracleTests
{
    private static float[] Rand(long n, int seed, double scale = 1)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (long i = 0; i < n; i++) a[i] = (float)((r.NextDouble() * 2 - 1) * scale);
        return a;
    }

    private static object[] D(params long[] dims) => dims.Cast<object>().ToArray();

    private static HostTensor T<T>(ElementType t, long[] shape, T[] v) where T : unmanaged => new(t, shape, MemoryMarshal.AsBytes(v.AsSpan()).ToArray());

    [Theory]
    [InlineData("linear", "zeros", 0L)]
    [InlineData("nearest", "border", 1L)]
    [InlineData("cubic", "reflection", 0L)]
    [InlineData("linear", "reflection", 1L)]
    public void GridSample_2d_matches(string mode, string padding, long alignCorners)
    {
        var w = new OnnxWriter().Opset(22).Input("x", ElementType.Float, D(2, 3, 5, 6)).Output("y", ElementType.Float, null)
            .Initializer("grid", ElementType.Float, [2, 4, 7, 2], Rand(2 * 4 * 7 * 2, 3, 1.3))
            .Node("GridSample", ["x", "grid"], ["y"], ("mode", mode), ("padding_mode", padding), ("align_corners", alignCorners));
        Oracle.Check(Oracle.Save(w, "gridsample_" + mode));
    }

    [Fact]
    public void GridSample_3d_and_AffineGrid_match()
    {
        var w = new OnnxWriter().Opset(22).Input("x", ElementType.Float, D(1, 2, 3, 4, 5)).Input("theta", ElementType.Float, D(1, 3, 4))
            .Output("y", ElementType.Float, null).Output("grid", ElementType.Float, null)
            .Initializer("size", ElementType.Int64, [5], new long[] { 1, 2, 2, 3, 4 })
            .Node("AffineGrid", ["theta", "size"], ["grid"], ("align_corners", 0L))
            .Node("GridSample", ["x", "grid"], ["y"], ("mode", "linear"), ("padding_mode", "border"));
        Oracle.Check(Oracle.Save(w, "gridsample3d"));
    }

    [Theory]
    [InlineData(0L, 0L, 1L)]
    [InlineData(1L, 0L, 2L)]
    [InlineData(0L, 1L, 1L)]
    public void Dft_matches(long onesided, long inverse, long axis)
    {
        long last = inverse != 0 ? 2 : 1;
        var w = new OnnxWriter().Opset(20).Input("x", ElementType.Float, D(2, 6, 5, last)).Output("y", ElementType.Float, null)
            .Initializer("axis", ElementType.Int64, [], new[] { axis })
            .Node("DFT", ["x", "", "axis"], ["y"], ("onesided", onesided), ("inverse", inverse));
        Oracle.Check(Oracle.Save(w, "dft"), atol: 1e-4, rtol: 1e-3);
    }

    [Fact]
    public void Stft_with_hann_window_matches()
    {
        var w = new OnnxWriter().Opset(17).Input("x", ElementType.Float, D(2, 40, 1)).Output("y", ElementType.Float, null)
            .Initializer("step", ElementType.Int64, [], new long[] { 6 })
            .Initializer("size", ElementType.Int64, [], new long[] { 8 })
            .Node("HannWindow", ["size"], ["win"])
            .Node("STFT", ["x", "step", "win"], ["y"]);
        Oracle.Check(Oracle.Save(w, "stft"), atol: 1e-4, rtol: 1e-3);
    }

    [Theory]
    [InlineData("avg", "half_pixel")]
    [InlineData("max", "output_half_pixel")]
    public void RoiAlign_matches(string mode, string ctm)
    {
        var w = new OnnxWriter().Opset(16).Input("x", ElementType.Float, D(2, 3, 8, 9)).Output("y", ElementType.Float, null)
            .Initializer("rois", ElementType.Float, [3, 4], new float[] { 0, 0, 5, 6, 1.5f, 2, 7, 7.5f, 3, 1, 4, 2 })
            .Initializer("bi", ElementType.Int64, [3], new long[] { 0, 1, 1 })
            .Node("RoiAlign", ["x", "rois", "bi"], ["y"], ("mode", mode), ("coordinate_transformation_mode", ctm),
                ("output_height", 3L), ("output_width", 2L), ("sampling_ratio", 2L), ("spatial_scale", 0.75f));
        Oracle.Check(Oracle.Save(w, "roialign_" + mode));
    }

    [Fact]
    public void MatMul_and_Gemm_double_match()
    {
        var w = new OnnxWriter().Input("a", ElementType.Double, D(2, 3, 4)).Input("b", ElementType.Double, D(2, 4, 5)).Input("c", ElementType.Double, D(3, 4))
            .Input("d", ElementType.Double, D(5, 4))
            .Output("y", ElementType.Double, null).Output("z", ElementType.Double, null)
            .Node("MatMul", ["a", "b"], ["y"])
            .Node("Gemm", ["c", "d"], ["z"], ("transB", 1L), ("alpha", 0.5f));
        Oracle.Check(Oracle.Save(w, "matmul_double"));
    }

    [Fact]
    public void MatMul_int64_matches()
    {
        var w = new OnnxWriter().Input("a", ElementType.Int64, D(3, 4)).Input("b", ElementType.Int64, D(4, 2)).Output("y", ElementType.Int64, null)
            .Node("MatMul", ["a", "b"], ["y"]);
        Oracle.Check(Oracle.Save(w, "matmul_int64"));
    }

    [Fact]
    public void Conv_3d_matches()
    {
        var w = new OnnxWriter().Input("x", ElementType.Float, D(1, 4, 5, 6, 7)).Output("y", ElementType.Float, null)
            .Initializer("w", ElementType.Float, [6, 2, 3, 2, 3], Rand(6 * 2 * 3 * 2 * 3, 7))
            .Initializer("b", ElementType.Float, [6], Rand(6, 8))
            .Node("Conv", ["x", "w", "b"], ["y"], ("group", 2L), ("strides", new long[] { 1, 2, 1 }), ("pads", new long[] { 1, 0, 1, 1, 1, 0 }),
                ("dilations", new long[] { 1, 1, 2 }));
        Oracle.Check(Oracle.Save(w, "conv3d"));
    }

    [Fact]
    public void NonMaxSuppression_matches_declared_count_and_throws_on_another()
    {
        var boxes = new float[] { 0, 0, 1, 1, 0, 0.1f, 1, 1.1f, 0, -0.1f, 1, 0.9f, 0, 10, 1, 11, 0, 10.1f, 1, 11.1f, 0, 100, 1, 101 };
        var scores = new float[] { 0.9f, 0.75f, 0.6f, 0.95f, 0.5f, 0.3f };
        string Model(long count) => Oracle.Save(new OnnxWriter().Opset(11).Input("scores", ElementType.Float, D(1, 1, 6)).Output("sel", ElementType.Int64, D(count, 3))
            .Initializer("boxes", ElementType.Float, [1, 6, 4], boxes)
            .Initializer("max", ElementType.Int64, [1], new long[] { 3 })
            .Initializer("iou", ElementType.Float, [1], new[] { 0.5f })
            .Initializer("st", ElementType.Float, [1], new[] { 0f })
            .Node("NonMaxSuppression", ["boxes", "scores", "max", "iou", "st"], ["sel"]), "nms" + count);
        var feed = new Dictionary<string, HostTensor> { ["scores"] = T(ElementType.Float, [1, 1, 6], scores) };
        Oracle.Check(Model(3), inputs: feed);
        var ex = Assert.ThrowsAny<Exception>(() => Oracle.Check(Model(2), inputs: feed));
        Assert.Contains("LLMAOT9021", ex.ToString());
    }

    [Theory]
    [InlineData(1L)]
    [InlineData(0L)]
    public void Unique_matches(long sorted)
    {
        var w = new OnnxWriter().Opset(11).Input("x", ElementType.Int64, D(8))
            .Output("y", ElementType.Int64, D(5)).Output("i", ElementType.Int64, D(5)).Output("inv", ElementType.Int64, D(8)).Output("c", ElementType.Int64, D(5))
            .Node("Unique", ["x"], ["y", "i", "inv", "c"], ("sorted", sorted));
        var feed = new Dictionary<string, HostTensor> { ["x"] = T(ElementType.Int64, [8], new long[] { 4, 2, 4, -1, 7, 2, 9, 4 }) };
        Oracle.Check(Oracle.Save(w, "unique" + sorted), inputs: feed);
    }

    [Fact]
    public void Unique_without_a_declared_shape_is_a_clear_compile_error()
    {
        var w = new OnnxWriter().Opset(11).Input("x", ElementType.Int64, D(8)).Output("y", ElementType.Int64, null).Node("Unique", ["x"], ["y"]);
        var ex = Assert.Throws<LlmaotException>(() => Oracle.Generate(Oracle.Save(w, "unique_nodecl")));
        Assert.Equal(Codes.DataDependentShape, ex.Code);
    }

    [Fact]
    public void TfIdfVectorizer_matches()
    {
        var w = new OnnxWriter().Opset(9).Input("x", ElementType.Int64, D(2, 6)).Output("y", ElementType.Float, null)
            .Node("TfIdfVectorizer", ["x"], ["y"], ("mode", "TFIDF"), ("min_gram_length", 1L), ("max_gram_length", 2L), ("max_skip_count", 1L),
                ("ngram_counts", new long[] { 0, 3 }), ("ngram_indexes", new long[] { 0, 1, 2, 3, 4 }), ("pool_int64s", new long[] { 2, 3, 5, 2, 3, 5, 2 }),
                ("weights", new[] { 0.5f, 1f, 2f, 1.5f, 3f }));
        var feed = new Dictionary<string, HostTensor> { ["x"] = T(ElementType.Int64, [2, 6], new long[] { 2, 3, 5, 2, 2, 3, 5, 1, 2, 7, 5, 2 }) };
        Oracle.Check(Oracle.Save(w, "tfidf"), inputs: feed);
    }
}
