using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class PoolTests
{
    private sealed record Geo(int N, int C, int H, int W, int Oh, int Ow, int Kh, int Kw, int Sh, int Sw,
        int Pt, int Pl, int Pb, int Pr, int Dh, int Dw, bool CountIncludePad);

    /// <summary>
    /// Reference built on an explicit padded grid: each cell is input, explicit padding, or beyond the padded
    /// input (reachable with ceil_mode). Max ignores non-input cells; Average sums input cells and divides by the
    /// number of input cells, or of input + padding cells when countIncludePad.
    /// </summary>
    private static float[] Naive(Geo g, float[] x, bool isMax)
    {
        int gh = Math.Max(g.H + g.Pt + g.Pb, (g.Oh - 1) * g.Sh + (g.Kh - 1) * g.Dh + 1);
        int gw = Math.Max(g.W + g.Pl + g.Pr, (g.Ow - 1) * g.Sw + (g.Kw - 1) * g.Dw + 1);
        var kind = new int[gh, gw]; // 0 input, 1 pad, 2 beyond
        for (int yy = 0; yy < gh; yy++)
        for (int xx = 0; xx < gw; xx++)
        {
            bool inPadded = yy < g.H + g.Pt + g.Pb && xx < g.W + g.Pl + g.Pr;
            bool inInput = yy >= g.Pt && yy < g.Pt + g.H && xx >= g.Pl && xx < g.Pl + g.W;
            kind[yy, xx] = inInput ? 0 : inPadded ? 1 : 2;
        }
        var y = new float[g.N * g.C * g.Oh * g.Ow];
        for (int p = 0; p < g.N * g.C; p++)
        for (int oy = 0; oy < g.Oh; oy++)
        for (int ox = 0; ox < g.Ow; ox++)
        {
            double acc = isMax ? double.NegativeInfinity : 0;
            int count = 0, countPad = 0;
            for (int ky = 0; ky < g.Kh; ky++)
            for (int kx = 0; kx < g.Kw; kx++)
            {
                int yy = oy * g.Sh + ky * g.Dh, xx = ox * g.Sw + kx * g.Dw;
                int kd = kind[yy, xx];
                if (kd == 2) continue;
                countPad++;
                if (kd == 1) continue;
                count++;
                double v = x[(p * g.H + yy - g.Pt) * g.W + xx - g.Pl];
                acc = isMax ? Math.Max(acc, v) : acc + v;
            }
            float r;
            if (isMax) r = count == 0 ? float.MinValue : (float)acc;
            else
            {
                int d = g.CountIncludePad ? countPad : count;
                r = d == 0 ? 0f : (float)(acc / d);
            }
            y[(p * g.Oh + oy) * g.Ow + ox] = r;
        }
        return y;
    }

    private static Geo? RandomGeo(Random r, bool allowDil)
    {
        int h = r.Next(1, 12), w = r.Next(1, 70);
        int kh = r.Next(1, 5), kw = r.Next(1, 5);
        int sh = r.Next(1, 4), sw = r.Next(1, 4);
        if (r.Next(3) == 0) sw = 1; // exercise the vectorized interior
        int dh = allowDil ? r.Next(1, 3) : 1, dw = allowDil ? r.Next(1, 3) : 1;
        int pt = r.Next(0, Math.Min(kh, 3)), pl = r.Next(0, Math.Min(kw, 3)), pb = r.Next(0, Math.Min(kh, 3)), pr = r.Next(0, Math.Min(kw, 3));
        bool ceil = r.Next(2) == 0;
        int oh = Out(h, pt, pb, kh, sh, dh, ceil), ow = Out(w, pl, pr, kw, sw, dw, ceil);
        if (oh <= 0 || ow <= 0) return null;
        return new Geo(r.Next(1, 3), r.Next(1, 4), h, w, oh, ow, kh, kw, sh, sw, pt, pl, pb, pr, dh, dw, r.Next(2) == 0);
    }

    private static int Out(int size, int pb, int pe, int k, int s, int d, bool ceil)
    {
        int span = size + pb + pe - d * (k - 1) - 1;
        if (span < 0) return 0;
        int o = (ceil ? (span + s - 1) / s : span / s) + 1;
        // ONNX ceil_mode: the last window must start inside the input or left padding.
        if (ceil && (o - 1) * s >= size + pb) o--;
        return o;
    }

    private static float[] Exec(Geo g, float[] x, bool isMax, int width /* -1 public, 0 scalar */)
    {
        var y = new float[g.N * g.C * g.Oh * g.Ow];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, py = y)
        {
            if (width < 0)
            {
                if (isMax) Pool.Max2D(px, py, g.N, g.C, g.H, g.W, g.Oh, g.Ow, g.Kh, g.Kw, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw);
                else Pool.Average2D(px, py, g.N, g.C, g.H, g.W, g.Oh, g.Ow, g.Kh, g.Kw, g.Sh, g.Sw, g.Pt, g.Pl, g.Pb, g.Pr, g.Dh, g.Dw, g.CountIncludePad);
            }
            else if (width == 0)
            {
                if (isMax) Pool.Max2DScalar(px, py, g.N, g.C, g.H, g.W, g.Oh, g.Ow, g.Kh, g.Kw, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw);
                else Pool.Average2DScalar(px, py, g.N, g.C, g.H, g.W, g.Oh, g.Ow, g.Kh, g.Kw, g.Sh, g.Sw, g.Pt, g.Pl, g.Pb, g.Pr, g.Dh, g.Dw, g.CountIncludePad);
            }
            else
            {
                Pool.Pool2DWidth(width, isMax, px, py, g.N, g.C, g.H, g.W, g.Oh, g.Ow, g.Kh, g.Kw, g.Sh, g.Sw, g.Pt, g.Pl, g.Pb, g.Pr, g.Dh, g.Dw, g.CountIncludePad);
            }
        }
        return y;
    }

    [Fact]
    public void AllPathsMatchNaive()
    {
        var r = new Random(42);
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        int tested = 0;
        for (int t = 0; t < 600; t++)
        {
            bool isMax = t % 2 == 0;
            var g = RandomGeo(r, allowDil: true);
            if (g == null) continue;
            var x = KernelTestUtil.Rand(r, g.N * g.C * g.H * g.W, -3f, 3f);
            var expected = Naive(g, x, isMax);
            foreach (int width in widths)
                KernelTestUtil.AssertClose(expected, Exec(g, x, isMax, width), 1e-6, 1e-6, $"{(isMax ? "max" : "avg")} width {width} {g}");
            tested++;
        }
        Assert.True(tested > 300);
    }

    [Fact]
    public void TiledMaxPoolMatchesNaive()
    {
        // stride == kernel, no padding: the non-overlapping fast path (2x2 in registers, other sizes via a row buffer),
        // including inputs with leftover rows/columns no window covers and rows narrower than a vector.
        var r = new Random(77);
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        var geos = new List<Geo>
        {
            new(1, 8, 28, 28, 14, 14, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),
            new(1, 16, 14, 14, 4, 4, 3, 3, 3, 3, 0, 0, 0, 0, 1, 1, false),
            new(1, 10, 24, 24, 12, 12, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),
            new(1, 20, 8, 8, 4, 4, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false),
        };
        for (int t = 0; t < 200; t++)
        {
            int kh = r.Next(1, 5), kw = r.Next(1, 5);
            if (t % 2 == 0) kh = kw = 2;
            int oh = r.Next(1, 8), ow = r.Next(1, 30);
            int h = oh * kh + r.Next(0, kh), w = ow * kw + r.Next(0, kw);
            geos.Add(new Geo(r.Next(1, 3), r.Next(1, 4), h, w, oh, ow, kh, kw, kh, kw, 0, 0, 0, 0, 1, 1, false));
        }
        foreach (var g in geos)
        {
            var x = KernelTestUtil.Rand(r, g.N * g.C * g.H * g.W, -3f, 3f);
            var expected = Naive(g, x, true);
            foreach (int width in widths)
                KernelTestUtil.AssertClose(expected, Exec(g, x, true, width), 0, 0, $"tiled max width {width} {g}");
        }
    }

    [Fact]
    public void OnnxAveragePoolCeilExample()
    {
        // ONNX averagepool_2d_ceil: 4x4 input 1..16, kernel 3, stride 2, ceil_mode -> [[6, 7.5], [12, 13.5]].
        var x = new float[16];
        for (int i = 0; i < 16; i++) x[i] = i + 1;
        var g = new Geo(1, 1, 4, 4, 2, 2, 3, 3, 2, 2, 0, 0, 0, 0, 1, 1, false);
        foreach (int width in new[] { -1, 0 })
            Assert.Equal([6f, 7.5f, 12f, 13.5f], Exec(g, x, false, width));
        // With count_include_pad the positions beyond the (unpadded) input still do not count.
        g = g with { CountIncludePad = true };
        Assert.Equal([6f, 7.5f, 12f, 13.5f], Exec(g, x, false, -1));
    }

    [Fact]
    public void CountIncludePadUsesExplicitPadsOnly()
    {
        // 3x3 input of ones, kernel 3, stride 1, pads 1 all round: include-pad divides by 9 everywhere.
        var x = Enumerable.Repeat(1f, 9).ToArray();
        var g = new Geo(1, 1, 3, 3, 3, 3, 3, 3, 1, 1, 1, 1, 1, 1, 1, 1, true);
        var y = Exec(g, x, false, -1);
        Assert.Equal(4f / 9f, y[0], 6);
        Assert.Equal(6f / 9f, y[1], 6);
        Assert.Equal(1f, y[4], 6);
        var yx = Exec(g with { CountIncludePad = false }, x, false, -1);
        Assert.All(yx, v => Assert.Equal(1f, v, 6));
    }

    [Fact]
    public void MaxPoolKnown()
    {
        float[] x = [1, 5, 2, 0, -1, 3, 9, 4, 7, 8, -2, 6, 0, 1, 2, 3];
        var g = new Geo(1, 1, 4, 4, 2, 2, 2, 2, 2, 2, 0, 0, 0, 0, 1, 1, false);
        Assert.Equal([5f, 9f, 8f, 6f], Exec(g, x, true, -1));
        // All-negative input with padding: padding never wins.
        float[] neg = [-5, -4, -3, -2];
        var g2 = new Geo(1, 1, 2, 2, 2, 2, 2, 2, 1, 1, 1, 1, 0, 0, 1, 1, false);
        Assert.Equal([-5f, -4f, -3f, -2f], Exec(g2, neg, true, -1));
    }

    [Fact]
    public void GlobalPools()
    {
        var r = new Random(8);
        foreach (int spatial in new[] { 1, 2, 3, 4, 7, 8, 15, 16, 17, 31, 49, 64, 100, 196, 300 })
        {
            int nc = r.Next(1, 6);
            var x = KernelTestUtil.Rand(r, nc * spatial, -50f, 10f);
            var expAvg = new float[nc];
            var expMax = new float[nc];
            for (int i = 0; i < nc; i++)
            {
                double s = 0, m = double.NegativeInfinity;
                for (int j = 0; j < spatial; j++) { s += x[i * spatial + j]; m = Math.Max(m, x[i * spatial + j]); }
                expAvg[i] = (float)(s / spatial);
                expMax[i] = (float)m;
            }
            var avg = new float[nc];
            var max = new float[nc];
            fixed (float* px = x, pa = avg, pm = max)
            {
                Pool.GlobalAverage(px, pa, nc, spatial);
                Pool.GlobalMax(px, pm, nc, spatial);
                KernelTestUtil.AssertClose(expAvg, avg, 1e-5, 1e-5, $"gavg {spatial}");
                Assert.Equal(expMax, max);
                Pool.GlobalAverageScalar(px, pa, nc, spatial);
                Pool.GlobalMaxScalar(px, pm, nc, spatial);
                KernelTestUtil.AssertClose(expAvg, avg, 1e-5, 1e-5, $"gavg scalar {spatial}");
                Assert.Equal(expMax, max);
                foreach (int width in KernelTestUtil.Widths())
                {
                    Pool.GlobalWidth(width, false, px, pa, nc, spatial);
                    Pool.GlobalWidth(width, true, px, pm, nc, spatial);
                    KernelTestUtil.AssertClose(expAvg, avg, 1e-5, 1e-5, $"gavg V{width} {spatial}");
                    Assert.Equal(expMax, max);
                }
            }
        }
    }
}
