using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class ElementwiseTests
{
    private static float[] R(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 8 - 4)).ToArray();
    }

    [Fact]
    public void Binary_paths_match_scalar_reference_for_all_lengths_and_offsets()
    {
        for (int n = 0; n <= 140; n++)
            for (int off = 0; off < 3; off++)
            {
                var a = R(n + off, n);
                var b = R(n + off, n + 1000);
                var y = new float[n + off];
                var s = new float[n + off];
                fixed (float* pa = a, pb = b, py = y, ps = s)
                {
                    Elementwise.Binary<SubOp<float>, float>(pa + off, pb + off, py + off, n);
                    for (int i = 0; i < n; i++) ps[off + i] = pa[off + i] - pb[off + i];
                    Elementwise.BinaryScalarRight<MulOp<float>, float>(pa + off, 1.5f, pa + off, n); // in place
                }
                Assert.Equal(s, y);
            }
    }

    [Fact]
    public void Unary_ops_match_math()
    {
        var x = R(301, 3);
        x[0] = 0; x[1] = -0f; x[2] = 30; x[3] = -30; x[4] = 1e-6f;
        var relu = new float[x.Length];
        var sig = new float[x.Length];
        var tanh = new float[x.Length];
        fixed (float* px = x, pr = relu, ps = sig, pt = tanh)
        {
            Elementwise.Unary<ReluOp, float>(px, pr, x.Length);
            Elementwise.Unary<SigmoidOp, float>(px, ps, x.Length);
            Elementwise.Unary<TanhOp, float>(px, pt, x.Length);
        }
        for (int i = 0; i < x.Length; i++)
        {
            Assert.Equal(Math.Max(x[i], 0f), relu[i]);
            Assert.True(Math.Abs(sig[i] - 1 / (1 + Math.Exp(-x[i]))) <= 2e-7, $"sigmoid({x[i]}) = {sig[i]}");
            Assert.True(Math.Abs(tanh[i] - Math.Tanh(x[i])) <= 2e-7 + 1e-6 * Math.Abs(Math.Tanh(x[i])), $"tanh({x[i]}) = {tanh[i]}");
        }
    }

    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 12, 4, 1 }, new[] { 0, 1, 0 })]
    [InlineData(new[] { 5, 7 }, new[] { 0, 1 }, new[] { 1, 0 })]
    [InlineData(new[] { 3, 1 + 16 }, new[] { 17, 1 }, new[] { 17, 1 })]
    [InlineData(new[] { 2, 2, 2, 9 }, new[] { 0, 9, 0, 1 }, new[] { 18, 0, 9, 0 })]
    [InlineData(new int[0], new int[0], new int[0])]
    public void Broadcast_matches_scalar_reference(int[] shape, int[] sa, int[] sb)
    {
        long total = shape.Aggregate(1L, (x, y) => x * y);
        long na = 1 + shape.Select((d, i) => (long)(d - 1) * sa[i]).Sum();
        long nb = 1 + shape.Select((d, i) => (long)(d - 1) * sb[i]).Sum();
        var a = R((int)na, 1);
        var b = R((int)nb, 2);
        var y = new float[total];
        var s = new float[total];
        fixed (float* pa = a, pb = b, py = y, ps = s)
        {
            Elementwise.BinaryBroadcast<AddOp<float>, float>(pa, pb, py, shape, sa, sb);
            Elementwise.BinaryBroadcastScalar<AddOp<float>, float>(pa, pb, ps, shape, sa, sb);
        }
        Assert.Equal(s, y);
    }

    [Fact]
    public void Integer_division_truncates_like_onnx()
    {
        long[] a = [7, -7, 7, -7, 9, 100, -1, 0, 5];
        long[] b = [2, 2, -2, -2, 3, 7, 3, 4, 5];
        var y = new long[a.Length];
        fixed (long* pa = a, pb = b, py = y) Elementwise.Binary<DivOp<long>, long>(pa, pb, py, a.Length);
        Assert.Equal(new long[] { 3, -3, -3, 3, 3, 14, 0, 0, 1 }, y);
    }
}

public unsafe class DataMovementTests
{
    [Theory]
    [InlineData(new[] { 2, 3, 4 }, new[] { 2, 0, 1 })]
    [InlineData(new[] { 5, 7 }, new[] { 1, 0 })]
    [InlineData(new[] { 2, 3, 4, 5 }, new[] { 0, 2, 3, 1 })]
    [InlineData(new[] { 3, 4 }, new[] { 0, 1 })]
    public void Transpose_matches_index_arithmetic(int[] shape, int[] perm)
    {
        int total = shape.Aggregate(1, (a, b) => a * b);
        var x = Enumerable.Range(0, total).Select(i => (float)i).ToArray();
        var y = new float[total];
        fixed (float* px = x, py = y) DataMovement.Transpose(px, py, shape, perm);
        var inStrides = new int[shape.Length];
        for (int d = shape.Length - 1, s = 1; d >= 0; d--) { inStrides[d] = s; s *= shape[d]; }
        var outShape = perm.Select(p => shape[p]).ToArray();
        for (int o = 0; o < total; o++)
        {
            int rem = o, src = 0;
            for (int d = outShape.Length - 1; d >= 0; d--) { src += rem % outShape[d] * inStrides[perm[d]]; rem /= outShape[d]; }
            Assert.Equal(x[src], y[o]);
        }
    }

    [Fact]
    public void Gather_rejects_out_of_range_and_accepts_negative_indices()
    {
        var data = new float[] { 10, 11, 12, 20, 21, 22 }; // [2,3], gather axis 1
        var y = new float[4];
        long[] idx = [2, -3];
        fixed (float* pd = data, py = y)
        fixed (long* pi = idx)
        {
            Assert.True(DataMovement.Gather((byte*)pd, pi, (byte*)py, 2, 3, 4, 2));
            Assert.Equal(new float[] { 12, 10, 22, 20 }, y);
            pi[0] = 3;
            Assert.False(DataMovement.Gather((byte*)pd, pi, (byte*)py, 2, 3, 4, 2));
        }
    }
}
