using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>Strided copies, pads and index kernels against plain scalar references.</summary>
public unsafe class IndexingTests
{
    [Theory]
    [InlineData(new[] { 3, 4 }, new long[] { 1, 3 }, 0L)]
    [InlineData(new[] { 2, 3, 5 }, new long[] { 0, -5, 1 }, 10L)]
    [InlineData(new[] { 4, 2, 3 }, new long[] { 6, 0, -2 }, 4L)]
    public void Strided_copy_matches_reference(int[] shape, long[] strides, long offset)
    {
        var x = Enumerable.Range(0, 64).Select(i => (float)i).ToArray();
        int total = shape.Aggregate(1, (a, b) => a * b);
        var y = new float[total];
        fixed (float* px = x, py = y) Strided.Copy(px, py, shape, strides, offset);
        for (int o = 0; o < total; o++)
        {
            long rem = o, off = offset;
            for (int d = shape.Length - 1; d >= 0; d--) { off += rem % shape[d] * strides[d]; rem /= shape[d]; }
            Assert.Equal(x[off], y[o]);
        }
    }

    [Theory]
    [InlineData(PadMode.Constant, new[] { 7, 7, 1, 2, 3, 4, 7, 7 })]
    [InlineData(PadMode.Reflect, new[] { 3, 2, 1, 2, 3, 4, 3, 2 })]
    [InlineData(PadMode.Edge, new[] { 1, 1, 1, 2, 3, 4, 4, 4 })]
    [InlineData(PadMode.Wrap, new[] { 3, 4, 1, 2, 3, 4, 1, 2 })]
    public void Pad_modes_on_one_row(PadMode mode, int[] expected)
    {
        int[] x = [1, 2, 3, 4];
        var y = new int[8];
        fixed (int* px = x, py = y) Strided.Pad(px, py, [4], [8], [2], mode, 7);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void Pad_with_negative_end_wraps_the_cropped_window()
    {
        int[] x = [1, 2, 3, 4, 5];
        var y = new int[6];
        // Crop the last element (end = -1), then wrap-pad 2 in front: the window is [1 2 3 4].
        fixed (int* px = x, py = y) Strided.Pad(px, py, [5], [6], [2], PadMode.Wrap, 0);
        Assert.Equal([3, 4, 1, 2, 3, 4], y);
    }

    [Fact]
    public void TopK_sorts_and_breaks_ties_by_lower_index()
    {
        long[] x = [5, 1, 5, 3, 5, 0];
        var v = new long[3];
        var i = new long[3];
        var scratch = new long[3];
        fixed (long* px = x, pv = v, pi = i, ps = scratch) Indexing.TopK(px, pv, pi, 1, 6, 1, 3, true, ps);
        Assert.Equal([5L, 5, 5], v);
        Assert.Equal([0L, 2, 4], i);
        fixed (long* px = x, pv = v, pi = i, ps = scratch) Indexing.TopK(px, pv, pi, 1, 6, 1, 3, false, ps);
        Assert.Equal([0L, 1, 3], v);
        Assert.Equal([5L, 1, 3], i);
    }

    [Fact]
    public void ScatterElements_add_accumulates_duplicates_and_rejects_out_of_range()
    {
        float[] data = [1, 2, 3, 4, 5];
        long[] idx = [1, 1, -1];
        float[] upd = [10, 20, 30];
        var y = new float[5];
        fixed (float* pd = data, pu = upd, py = y)
        fixed (long* pi = idx)
        {
            Assert.True(Indexing.ScatterElements<float, long, AddReduction<float>>(pd, pi, pu, py, [5], [3], 0));
            Assert.Equal([1f, 32, 3, 4, 35], y);
            idx[2] = 5;
            Assert.False(Indexing.ScatterElements<float, long, ReplaceReduction<float>>(pd, pi, pu, py, [5], [3], 0));
        }
    }

    [Fact]
    public void CumSum_exclusive_reverse_on_a_runtime_axis()
    {
        double[] x = [1, 2, 3, 4, 5, 6];
        var y = new double[6];
        fixed (double* px = x, py = y) Assert.True(Indexing.CumSum(px, py, [2, 3], -1, exclusive: true, reverse: true));
        Assert.Equal([5d, 3, 0, 11, 6, 0], y);
        fixed (double* px = x, py = y) Assert.False(Indexing.CumSum(px, py, [2, 3], 2, false, false));
    }
}
