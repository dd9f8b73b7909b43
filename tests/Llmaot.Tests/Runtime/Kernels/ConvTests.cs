using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class ConvTests
{
    private sealed record Geo(int N, int C, int H, int W, int M, int Kh, int Kw, int Oh, int Ow,
        int Sh, int Sw, int Pt, int Pl, int Dh, int Dw, int Group, bool HasBias, Epilogue Epi);

    private static int OutSize(int size, int padBegin, int padEnd, int k, int stride, int dil)
        => (size + padBegin + padEnd - dil * (k - 1) - 1) / stride + 1;

    private static Geo? RandomGeo(Random r)
    {
        int group = r.Next(4) switch { 0 => 1, 1 => 2, 2 => 3, _ => 1 };
        int cg = r.Next(1, 5), mg = r.Next(1, 5);
        if (r.Next(5) == 0) { cg = 1; mg = 1; group = r.Next(2, 7); } // depthwise
        int h = r.Next(1, 13), w = r.Next(1, 20);
        int kh = r.Next(1, 5), kw = r.Next(1, 5);
        int sh = r.Next(1, 4), sw = r.Next(1, 4);
        int dh = r.Next(1, 3), dw = r.Next(1, 3);
        int pt = r.Next(0, 3), pl = r.Next(0, 3), pb = r.Next(0, 3), pr = r.Next(0, 3);
        int oh = OutSize(h, pt, pb, kh, sh, dh), ow = OutSize(w, pl, pr, kw, sw, dw);
        if (oh <= 0 || ow <= 0) return null;
        return new Geo(r.Next(1, 3), cg * group, h, w, mg * group, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, group,
            r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
    }

    private static (float[] x, float[] w, float[]? b) Data(Random r, Geo g)
    {
        var x = KernelTestUtil.Rand(r, g.N * g.C * g.H * g.W);
        var w = KernelTestUtil.Rand(r, g.M * (g.C / g.Group) * g.Kh * g.Kw);
        var b = g.HasBias ? KernelTestUtil.Rand(r, g.M) : null;
        return (x, w, b);
    }

    /// <summary>Straightforward double-precision reference.</summary>
    private static float[] Naive(Geo g, float[] x, float[] w, float[]? b)
    {
        int cg = g.C / g.Group, mg = g.M / g.Group;
        var y = new float[g.N * g.M * g.Oh * g.Ow];
        for (int n = 0; n < g.N; n++)
        for (int o = 0; o < g.M; o++)
        for (int oy = 0; oy < g.Oh; oy++)
        for (int ox = 0; ox < g.Ow; ox++)
        {
            double s = b?[o] ?? 0;
            int grp = o / mg;
            for (int ci = 0; ci < cg; ci++)
            for (int ky = 0; ky < g.Kh; ky++)
            for (int kx = 0; kx < g.Kw; kx++)
            {
                int iy = oy * g.Sh - g.Pt + ky * g.Dh, ix = ox * g.Sw - g.Pl + kx * g.Dw;
                if (iy < 0 || iy >= g.H || ix < 0 || ix >= g.W) continue;
                s += (double)w[((o * cg + ci) * g.Kh + ky) * g.Kw + kx] * x[((n * g.C + grp * cg + ci) * g.H + iy) * g.W + ix];
            }
            y[((n * g.M + o) * g.Oh + oy) * g.Ow + ox] = (float)KernelTestUtil.Act(s, g.Epi);
        }
        return y;
    }

    private const float Guard = -777.25f;

    /// <summary>Runs with exactly ScratchFloats2D floats of scratch, followed by guard values that must survive.</summary>
    private static float[] Exec(Geo g, float[] x, float[] w, float[]? b, int width /* -1 = Run2D, 0 = scalar */)
    {
        var y = new float[g.N * g.M * g.Oh * g.Ow];
        Array.Fill(y, float.NaN);
        long sf = Conv.ScratchFloats2D(g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw, g.Group);
        Assert.True(sf >= 0);
        var scratch = new float[sf + 8];
        Array.Fill(scratch, Guard);
        fixed (float* px = x, pw = w, pb = b, py = y, ps = scratch)
        {
            float* bias = b == null ? null : pb;
            float* s = sf == 0 ? null : ps;
            if (width < 0)
                Conv.Run2D(px, pw, bias, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw, g.Group, s, g.Epi);
            else if (width == 0)
                Conv.RunScalar2D(px, pw, bias, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw, g.Group, s, g.Epi);
            else
                Conv.Run2DWidth(width, px, pw, bias, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw, g.Group, s, g.Epi);
        }
        for (long i = sf; i < scratch.Length; i++) Assert.Equal(Guard, scratch[i]);
        return y;
    }

    private static double Tol(Geo g) => 1e-5 * Math.Sqrt(g.C / g.Group * g.Kh * g.Kw + 1);

    private static IEnumerable<Geo> SpecialGeos()
    {
        var relu = Epilogue.Relu;
        // MNIST conv1 / conv2.
        yield return new Geo(1, 1, 28, 28, 8, 5, 5, 28, 28, 1, 1, 2, 2, 1, 1, 1, true, relu);
        yield return new Geo(1, 8, 14, 14, 16, 5, 5, 14, 14, 1, 1, 2, 2, 1, 1, 1, true, relu);
        // 1x1 pointwise (direct GEMM), with groups and batch.
        yield return new Geo(2, 6, 5, 7, 9, 1, 1, 5, 7, 1, 1, 0, 0, 1, 1, 3, true, Epilogue.None);
        yield return new Geo(1, 17, 9, 9, 33, 1, 1, 9, 9, 1, 1, 0, 0, 1, 1, 1, false, new Epilogue(ActivationKind.Clip, 0f, 6f));
        // 1x1 with stride / padding (im2col path).
        yield return new Geo(1, 4, 7, 7, 5, 1, 1, 4, 4, 2, 2, 0, 0, 1, 1, 1, true, Epilogue.None);
        yield return new Geo(1, 4, 5, 5, 3, 1, 1, 7, 7, 1, 1, 1, 1, 1, 1, 1, true, Epilogue.None);
        // Depthwise 3x3 stride 1 and 2, dilation 2, wide rows (vector path with tails).
        yield return new Geo(2, 5, 11, 37, 5, 3, 3, 11, 37, 1, 1, 1, 1, 1, 1, 5, true, new Epilogue(ActivationKind.Clip, 0f, 6f));
        yield return new Geo(1, 4, 12, 40, 4, 3, 3, 6, 20, 2, 2, 1, 1, 1, 1, 4, true, Epilogue.Relu);
        yield return new Geo(1, 3, 9, 33, 3, 3, 3, 9, 33, 1, 1, 2, 2, 2, 2, 3, false, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        // Depthwise 5x5 (PP-OCR), stride 2 with odd sizes, stride 3 with dilation, outputs narrower than a vector.
        yield return new Geo(1, 3, 20, 20, 3, 5, 5, 20, 20, 1, 1, 2, 2, 1, 1, 3, true, new Epilogue(ActivationKind.Clip, -0.5f, 0.5f));
        yield return new Geo(2, 3, 33, 35, 3, 3, 3, 17, 18, 2, 2, 1, 1, 1, 1, 3, true, Epilogue.None);
        yield return new Geo(1, 2, 31, 50, 2, 3, 5, 10, 15, 3, 3, 1, 2, 2, 2, 2, true, Epilogue.Relu);
        yield return new Geo(1, 4, 6, 7, 4, 3, 3, 3, 3, 2, 2, 0, 0, 1, 1, 4, false, Epilogue.None);
        yield return new Geo(1, 4, 6, 6, 4, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 4, true, Epilogue.None);
        // Depthwise with channel multiplier (group == c, m = 2c): general path.
        yield return new Geo(1, 3, 6, 6, 6, 3, 3, 6, 6, 1, 1, 1, 1, 1, 1, 3, true, Epilogue.None);
        // Kernel larger than input with heavy padding, asymmetric strides/dilations.
        yield return new Geo(1, 2, 3, 4, 3, 5, 4, 4, 3, 1, 2, 3, 2, 1, 1, 1, true, Epilogue.None);
        yield return new Geo(1, 2, 10, 13, 4, 3, 2, 3, 6, 3, 2, 1, 0, 2, 3, 2, true, Epilogue.None);
        // Few output pixels (Silero-like STFT and encoder convs): weight-row dot products.
        yield return new Geo(1, 1, 1, 200, 20, 1, 64, 1, 5, 1, 32, 0, 0, 1, 1, 1, false, Epilogue.None);
        yield return new Geo(1, 9, 1, 3, 8, 1, 3, 1, 3, 1, 1, 0, 1, 1, 1, 1, true, Epilogue.Relu);
        yield return new Geo(2, 6, 3, 4, 9, 3, 3, 2, 2, 2, 2, 1, 1, 1, 2, 3, true, new Epilogue(ActivationKind.HardSwish, 0.5f, 0.25f));
        // Several im2col row bands in Run2DPacked (576 x 40 columns per ~5 rows), stride 2 with padding.
        yield return new Geo(1, 64, 21, 80, 5, 3, 3, 11, 40, 2, 2, 1, 1, 1, 1, 1, true, new Epilogue(ActivationKind.HardSwish, 1f, 0f));
        // Big enough for several GEMM k blocks (k = 32*9 = 288 > 256).
        yield return new Geo(1, 32, 8, 8, 20, 3, 3, 8, 8, 1, 1, 1, 1, 1, 1, 1, true, Epilogue.Relu);
    }

    private static IEnumerable<Geo> RandomGeos(int seed, int count)
    {
        var r = new Random(seed);
        int made = 0;
        while (made < count)
        {
            var g = RandomGeo(r);
            if (g == null) continue;
            made++;
            yield return g;
        }
    }

    [Fact]
    public void ScalarReferenceMatchesNaive()
    {
        var r = new Random(100);
        foreach (var g in RandomGeos(1, 150).Concat(SpecialGeos()))
        {
            var (x, w, b) = Data(r, g);
            KernelTestUtil.AssertClose(Naive(g, x, w, b), Exec(g, x, w, b, 0), Tol(g), 1e-5, "scalar " + g);
        }
    }

    [Fact]
    public void Run2DMatchesNaive_AllWidths()
    {
        var r = new Random(200);
        var widths = new List<int> { -1 };
        widths.AddRange(KernelTestUtil.Widths());
        foreach (var g in RandomGeos(2, 250).Concat(SpecialGeos()))
        {
            var (x, w, b) = Data(r, g);
            var expected = Naive(g, x, w, b);
            foreach (int width in widths)
                KernelTestUtil.AssertClose(expected, Exec(g, x, w, b, width), Tol(g), 1e-5, $"width {width} {g}");
        }
    }

    [Fact]
    public void Run2DPackedMatchesNaive()
    {
        var r = new Random(250);
        foreach (var g in RandomGeos(3, 200).Concat(SpecialGeos()).Where(g => g.Group == 1))
        {
            var (x, w, b) = Data(r, g);
            int kk = g.C * g.Kh * g.Kw;
            var wp = new float[ConvPointwise.PackedWeightFloats(g.M, kk)];
            ConvPointwise.PackWeights(w, wp, g.M, kk);
            var y = new float[g.N * g.M * g.Oh * g.Ow];
            long sf = Conv.ScratchFloatsPacked(g.C, g.Kh, g.Kw, g.Oh, g.Ow);
            Assert.True(sf <= Math.Max(1, (long)kk * g.Oh * g.Ow));
            var scratch = new float[sf + 8];
            Array.Fill(scratch, -777.25f);
            fixed (float* px = x, pw = wp, pb = b, py = y, ps = scratch)
                Conv.Run2DPacked(px, pw, b == null ? null : pb, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Sh, g.Sw, g.Pt, g.Pl, g.Dh, g.Dw, ps, g.Epi);
            KernelTestUtil.AssertClose(Naive(g, x, w, b), y, Tol(g), 1e-5, "packed " + g);
            for (long i = sf; i < scratch.Length; i++) Assert.Equal(-777.25f, scratch[i]);
        }
    }

    [Fact]
    public void ScratchSize()
    {
        // Pointwise needs no scratch; depthwise one channel's zero-bordered phase planes; general conv the im2col matrix of one group.
        Assert.Equal(0, Conv.ScratchFloats2D(1, 8, 10, 10, 16, 1, 1, 10, 10, 1, 1, 0, 0, 1, 1, 1));
        Assert.Equal(12 * 12, Conv.ScratchFloats2D(1, 8, 10, 10, 8, 3, 3, 10, 10, 1, 1, 1, 1, 1, 1, 8));
        Assert.Equal(2 * 11 * 6, Conv.ScratchFloats2D(1, 8, 10, 10, 8, 3, 3, 5, 5, 2, 2, 1, 1, 1, 1, 8));
        Assert.Equal(8 / 2 * 3 * 3 * 10 * 10, Conv.ScratchFloats2D(1, 8, 10, 10, 16, 3, 3, 10, 10, 1, 1, 1, 1, 1, 1, 2));
        Assert.Equal(25 * 28 * 28, Conv.ScratchFloats2D(1, 1, 28, 28, 8, 5, 5, 28, 28, 1, 1, 2, 2, 1, 1, 1));
        Assert.Equal(2 * 3 * 9, Conv.ScratchFloats1D(1, 4, 20, 4, 3, 9, 2, 0, 1, 2));
    }

    [Fact]
    public void Run1DMatchesNaive()
    {
        var r = new Random(300);
        for (int t = 0; t < 80; t++)
        {
            int group = r.Next(1, 4), cg = r.Next(1, 4), mg = r.Next(1, 4);
            int len = r.Next(1, 40), k = r.Next(1, 6), stride = r.Next(1, 4), dil = r.Next(1, 3);
            int pl = r.Next(0, 3), pr = r.Next(0, 3);
            int ol = OutSize(len, pl, pr, k, stride, dil);
            if (ol <= 0) continue;
            var g = new Geo(r.Next(1, 3), cg * group, 1, len, mg * group, 1, k, 1, ol, 1, stride, 0, pl, 1, dil, group,
                r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
            var (x, w, b) = Data(r, g);
            var expected = Naive(g, x, w, b);
            var y = new float[expected.Length];
            long sf = Conv.ScratchFloats1D(g.N, g.C, len, g.M, k, ol, stride, pl, dil, group);
            var scratch = new float[Math.Max(1, sf)];
            fixed (float* px = x, pw = w, pb = b, py = y, ps = scratch)
                Conv.Run1D(px, pw, b == null ? null : pb, py, g.N, g.C, len, g.M, k, ol, stride, pl, dil, group, ps, g.Epi);
            KernelTestUtil.AssertClose(expected, y, Tol(g), 1e-5, "1d " + g);
        }
    }

    [Fact]
    public void KnownValues()
    {
        // 1x1x3x3 input 1..9, 2x2 kernel of ones, pad 0, stride 1 -> sums of 2x2 blocks, plus bias 0.5.
        float[] x = [1, 2, 3, 4, 5, 6, 7, 8, 9];
        float[] w = [1, 1, 1, 1];
        float[] b = [0.5f];
        var y = new float[4];
        var scratch = new float[Conv.ScratchFloats2D(1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1)];
        fixed (float* px = x, pw = w, pb = b, py = y, ps = scratch)
            Conv.Run2D(px, pw, pb, py, 1, 1, 3, 3, 1, 2, 2, 2, 2, 1, 1, 0, 0, 1, 1, 1, ps, Epilogue.None);
        Assert.Equal([12.5f, 16.5f, 24.5f, 28.5f], y);
    }
}
