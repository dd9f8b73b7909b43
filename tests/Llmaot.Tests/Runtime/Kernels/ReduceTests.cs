using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class ReduceTests
{
    private static float[] R(int n, int seed)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 4 - 2)).ToArray();
    }

    private static void AssertClose(float expected, float actual, float tol = 1e-4f) =>
        Assert.True(Math.Abs(expected - actual) <= tol * (1 + Math.Abs(expected)), $"expected {expected}, got {actual}");

    [Fact]
    public void Simd_rows_match_scalar_reference_for_all_lengths()
    {
        for (int n = 0; n <= 70; n++)
        {
            var x = R(3 * n, n);
            var y = new float[3];
            var s = new float[3];
            var ymax = new float[3];
            var smax = new float[3];
            fixed (float* px = x, py = y, ps = s, pm = ymax, pn = smax)
            {
                Reduce.Rows<ReduceL2<float>, float>(px, py, 3, n);
                Reduce.RowsScalar<ReduceL2<float>, float>(px, ps, 3, n);
                Reduce.Rows<ReduceMax<float>, float>(px, pm, 3, n);
                Reduce.RowsScalar<ReduceMax<float>, float>(px, pn, 3, n);
            }
            for (int i = 0; i < 3; i++)
            {
                AssertClose(s[i], y[i]);
                Assert.Equal(smax[i], ymax[i]);
                double l2 = Math.Sqrt(x.Skip(i * n).Take(n).Sum(v => (double)v * v));
                AssertClose((float)l2, y[i]);
            }
            if (n == 0) Assert.Equal(float.NegativeInfinity, ymax[0]);
        }
    }

    [Fact]
    public void Strided_matches_rows_of_the_transpose()
    {
        const int outer = 2, n = 5, inner = 11;
        var x = R(outer * n * inner, 1);
        var y = new float[outer * inner];
        var t = new float[x.Length];
        var r = new float[outer * inner];
        fixed (float* px = x, py = y, pt = t, pr = r)
        {
            Reduce.Strided<ReduceMean<float>, float>(px, py, outer, n, inner);
            DataMovement.Transpose(px, pt, [outer, n, inner], [0, 2, 1]);
            Reduce.RowsScalar<ReduceMean<float>, float>(pt, pr, outer * inner, n);
        }
        for (int i = 0; i < y.Length; i++) AssertClose(r[i], y[i]);
    }

    [Fact]
    public void Integer_and_empty_reductions()
    {
        int[] x = [5, -3, 7, 2, 9, -8];
        var sum = new int[2];
        var prod = new int[1];
        var mean = new int[2];
        fixed (int* px = x, ps = sum, pp = prod, pm = mean)
        {
            Reduce.Rows<ReduceSum<int>, int>(px, ps, 2, 3);
            Reduce.Rows<ReduceMean<int>, int>(px, pm, 2, 3);
            Reduce.Rows<ReduceProd<int>, int>(px, pp, 1, 0);
        }
        Assert.Equal([9, 3], sum);
        Assert.Equal([3, 1], mean);
        Assert.Equal(1, prod[0]);
    }

    [Fact]
    public void LogSumExp_is_stable_for_large_values()
    {
        double[] x = [1000, 1000, 999];
        var y = new double[1];
        fixed (double* px = x, py = y) Reduce.LogSumExp(px, py, 1, 3, 1);
        Assert.Equal(1000 + Math.Log(2 + Math.Exp(-1)), y[0], 9);
    }

    [Fact]
    public void LayerNorm_and_rmsnorm_match_definition()
    {
        const int outer = 3, n = 37;
        var x = R(outer * n, 5);
        var scale = R(n, 6);
        var bias = R(n, 7);
        var y = new float[x.Length];
        var yr = new float[x.Length];
        var mean = new float[outer];
        var inv = new float[outer];
        fixed (float* px = x, ps = scale, pb = bias, py = y, pm = mean, pi = inv, pr = yr)
        {
            Normalization.LayerNorm(px, ps, pb, py, pm, pi, outer, n, 1e-5f);
            Normalization.RmsNorm(px, ps, pr, outer, n, 1e-5f);
        }
        for (int r = 0; r < outer; r++)
        {
            var row = x.Skip(r * n).Take(n).Select(v => (double)v).ToArray();
            double m = row.Average(), v = row.Select(a => (a - m) * (a - m)).Average();
            double rms = Math.Sqrt(row.Select(a => a * a).Average() + 1e-5);
            AssertClose((float)m, mean[r]);
            AssertClose((float)(1 / Math.Sqrt(v + 1e-5)), inv[r]);
            for (int j = 0; j < n; j++)
            {
                AssertClose((float)((row[j] - m) / Math.Sqrt(v + 1e-5) * scale[j] + bias[j]), y[r * n + j]);
                AssertClose((float)(row[j] / rms * scale[j]), yr[r * n + j]);
            }
        }
    }

    [Fact]
    public void Nll_loss_mean_ignores_and_weights()
    {
        // batch 2, classes 3, inner 1
        float[] x = [-1, -2, -3, -0.5f, -1.5f, -2.5f];
        long[] t = [2, 1];
        float[] w = [1, 2, 4];
        var y = new float[1];
        fixed (float* px = x, pw = w, py = y)
        fixed (long* pt = t)
        {
            Loss.NegativeLogLikelihood(px, pt, pw, py, 2, 3, 1, hasIgnore: true, ignoreIndex: 1, reduction: Loss.Mean);
            Assert.Equal(3f, y[0]); // only target 2 counts: 3 * 4 / 4
            Loss.NegativeLogLikelihood(px, pt, pw, py, 2, 3, 1, hasIgnore: false, ignoreIndex: 0, reduction: Loss.Sum);
            Assert.Equal(12f + 3f, y[0]);
            t[0] = 3;
            try
            {
                Loss.NegativeLogLikelihood(px, pt, pw, py, 2, 3, 1, hasIgnore: false, ignoreIndex: 0, reduction: Loss.Sum);
                Assert.Fail("an out-of-range target must throw");
            }
            catch (IndexOutOfRangeException) { }
        }
    }
}
