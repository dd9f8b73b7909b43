using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class SoftmaxTests
{
    private static float[] Naive(float[] x, int outer, int n, bool log)
    {
        var y = new float[x.Length];
        for (int r = 0; r < outer; r++)
        {
            double max = double.NegativeInfinity;
            for (int j = 0; j < n; j++) max = Math.Max(max, x[r * n + j]);
            double sum = 0;
            for (int j = 0; j < n; j++) sum += Math.Exp(x[r * n + j] - max);
            for (int j = 0; j < n; j++)
            {
                double d = x[r * n + j] - max;
                y[r * n + j] = (float)(log ? d - Math.Log(sum) : Math.Exp(d) / sum);
            }
        }
        return y;
    }

    private static float[] Exec(float[] x, int outer, int n, bool log, int width /* -1 public, 0 scalar */, bool inPlace = false)
    {
        var y = inPlace ? (float[])x.Clone() : new float[x.Length];
        var src = inPlace ? y : x;
        fixed (float* px = src, py = y)
        {
            if (width < 0)
            {
                if (log) Softmax.RunLog(px, py, outer, n); else Softmax.Run(px, py, outer, n);
            }
            else if (width == 0)
            {
                if (log) Softmax.RunLogScalar(px, py, outer, n); else Softmax.RunScalar(px, py, outer, n);
            }
            else
            {
                Softmax.RunWidth(width, log, px, py, outer, n);
            }
        }
        return y;
    }

    private static void Check(float[] x, int outer, int n, string ctx)
    {
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        var expSm = Naive(x, outer, n, false);
        var expLog = Naive(x, outer, n, true);
        foreach (int width in widths)
        {
            KernelTestUtil.AssertClose(expSm, Exec(x, outer, n, false, width), 1e-6, 1e-5, $"softmax w{width} {ctx}");
            KernelTestUtil.AssertClose(expLog, Exec(x, outer, n, true, width), 1e-5, 1e-5, $"logsoftmax w{width} {ctx}");
        }
    }

    [Fact]
    public void RowsOfEveryLength()
    {
        var r = new Random(1);
        for (int n = 1; n <= 300; n++)
        {
            int outer = r.Next(1, 4);
            Check(KernelTestUtil.Rand(r, outer * n, -5f, 5f), outer, n, $"n={n}");
        }
    }

    [Fact]
    public void LargeMagnitudes()
    {
        var r = new Random(2);
        foreach (int n in new[] { 1, 3, 10, 17, 33, 100, 257 })
        {
            Check(KernelTestUtil.Rand(r, 2 * n, -1000f, 1000f), 2, n, $"±1000 n={n}");
            Check(KernelTestUtil.Rand(r, 2 * n, 5000f, 5010f), 2, n, $"offset 5000 n={n}");
            Check(KernelTestUtil.Rand(r, 2 * n, -90f, 90f), 2, n, $"±90 n={n}");
        }
    }

    [Fact]
    public void KnownValuesAndInPlace()
    {
        float[] x = [1f, 2f, 3f, 1000f, 1000f, 1000f];
        var y = Exec(x, 2, 3, false, -1);
        double e = Math.Exp(1) + Math.Exp(2) + Math.Exp(3);
        Assert.Equal(Math.Exp(1) / e, y[0], 6);
        Assert.Equal(Math.Exp(3) / e, y[2], 6);
        Assert.Equal(1f / 3f, y[4], 6);
        var yi = Exec(x, 2, 3, false, -1, inPlace: true);
        Assert.Equal(y, yi);
        var yl = Exec(x, 2, 3, true, -1, inPlace: true);
        Assert.Equal(-Math.Log(3), yl[3], 5);
        // Rows sum to one.
        var r = new Random(3);
        var big = KernelTestUtil.Rand(r, 300, -20f, 20f);
        var sm = Exec(big, 1, 300, false, -1);
        Assert.Equal(1.0, sm.Sum(v => (double)v), 5);
    }
}
