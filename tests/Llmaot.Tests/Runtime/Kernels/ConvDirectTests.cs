using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The direct convolution (packed weights, stride 1) against the scalar im2col-free reference, every SIMD width.</summary>
public unsafe class ConvDirectTests
{
    private sealed record Geo(int N, int C, int H, int W, int M, int Kh, int Kw, int Oh, int Ow, int Pt, int Pl, bool HasBias, Epilogue Epi);

    private const float Guard = -777.25f;

    private static IEnumerable<Geo> SpecialGeos()
    {
        var relu = Epilogue.Relu;
        // MNIST conv1 / conv2 (SAME padding), cnn_mnist_pytorch conv1 / conv2 (no padding: read in place).
        yield return new Geo(1, 1, 28, 28, 8, 5, 5, 28, 28, 2, 2, true, relu);
        yield return new Geo(1, 8, 14, 14, 16, 5, 5, 14, 14, 2, 2, true, relu);
        yield return new Geo(1, 1, 28, 28, 10, 5, 5, 24, 24, 0, 0, true, Epilogue.None);
        yield return new Geo(1, 10, 12, 12, 20, 5, 5, 8, 8, 0, 0, true, Epilogue.None);
        // Rows wide enough for Vector512, odd widths, row counts that leave a partial group of 3 vectors.
        yield return new Geo(2, 3, 9, 37, 5, 3, 3, 9, 37, 1, 1, false, new Epilogue(ActivationKind.Clip, 0f, 6f));
        yield return new Geo(1, 2, 5, 17, 7, 3, 2, 3, 16, 0, 0, true, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        // Asymmetric padding (bottom/right implied by oh/ow), cropping (oh+kh-1 < h), exact-width rows.
        yield return new Geo(1, 4, 6, 8, 3, 3, 3, 7, 9, 2, 0, true, Epilogue.None);
        yield return new Geo(1, 3, 10, 11, 4, 2, 2, 5, 6, 0, 0, true, Epilogue.Relu);
        yield return new Geo(1, 2, 4, 4, 1, 1, 3, 4, 4, 0, 1, false, Epilogue.None);
        // 8-wide output rows: the AVX-512 row-pair tile (two rows per vector), with odd row counts (overlapping last
        // pair), 2 rows, 5 pairs (a full group of 4 and a repeated one), padding, and channel tails.
        yield return new Geo(1, 3, 7, 10, 5, 3, 3, 7, 8, 1, 0, true, Epilogue.Relu);
        yield return new Geo(2, 2, 2, 8, 6, 1, 1, 2, 8, 0, 0, false, Epilogue.None);
        yield return new Geo(1, 4, 9, 8, 9, 3, 3, 9, 8, 1, 1, true, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        yield return new Geo(1, 1, 4, 12, 3, 5, 5, 3, 8, 1, 0, true, new Epilogue(ActivationKind.Clip, -0.2f, 0.3f));
    }

    private static IEnumerable<Geo> RandomGeos(int seed, int count)
    {
        var r = new Random(seed);
        int made = 0;
        while (made < count)
        {
            int h = r.Next(1, 12), w = r.Next(1, 40);
            int kh = r.Next(1, 6), kw = r.Next(1, 6);
            int pt = r.Next(0, 3), pl = r.Next(0, 3), pb = r.Next(0, 3), pr = r.Next(0, 3);
            int oh = h + pt + pb - kh + 1, ow = w + pl + pr - kw + 1;
            if (oh <= 0 || ow <= 0) continue;
            made++;
            yield return new Geo(r.Next(1, 3), r.Next(1, 6), h, w, r.Next(1, 11), kh, kw, oh, ow, pt, pl, r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
        }
    }

    private static float[] Reference(Geo g, float[] x, float[] w, float[]? b)
    {
        var y = new float[g.N * g.M * g.Oh * g.Ow];
        fixed (float* px = x, pw = w, pb = b, py = y)
            Conv.RunScalar2D(px, pw, b == null ? null : pb, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, 1, 1, g.Pt, g.Pl, 1, 1, 1, null, g.Epi);
        return y;
    }

    /// <summary>Runs with exactly ScratchFloats floats of scratch, followed by guard values that must survive.</summary>
    private static float[] Exec(Geo g, float[] x, float[] packed, float[]? b, int width /* -1 = Run2D */)
    {
        var y = new float[g.N * g.M * g.Oh * g.Ow];
        Array.Fill(y, float.NaN);
        long sf = ConvDirect.ScratchFloats(g.C, g.H, g.W, g.Kh, g.Kw, g.Oh, g.Ow, g.Pt, g.Pl);
        var scratch = new float[sf + 8];
        Array.Fill(scratch, Guard);
        fixed (float* px = x, pw = packed, pb = b, py = y, ps = scratch)
        {
            float* bias = b == null ? null : pb;
            float* s = sf == 0 ? null : ps;
            if (width < 0) ConvDirect.Run2D(px, pw, bias, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Pt, g.Pl, s, g.Epi);
            else ConvDirect.Run2DWidth(width, px, pw, bias, py, g.N, g.C, g.H, g.W, g.M, g.Kh, g.Kw, g.Oh, g.Ow, g.Pt, g.Pl, s, g.Epi);
        }
        for (long i = sf; i < scratch.Length; i++) Assert.Equal(Guard, scratch[i]);
        return y;
    }

    private static float[] Pack(Geo g, float[] w)
    {
        var packed = new float[ConvDirect.PackedWeightFloats(g.M, g.C, g.Kh, g.Kw)];
        Array.Fill(packed, float.NaN);
        ConvDirect.PackWeights(w, packed, g.M, g.C, g.Kh, g.Kw);
        return packed;
    }

    [Fact]
    public void MatchesScalarReference_AllWidths()
    {
        var r = new Random(900);
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        int tested = 0;
        foreach (var g in RandomGeos(7, 300).Concat(SpecialGeos()))
        {
            var x = KernelTestUtil.Rand(r, g.N * g.C * g.H * g.W);
            var w = KernelTestUtil.Rand(r, g.M * g.C * g.Kh * g.Kw);
            var b = g.HasBias ? KernelTestUtil.Rand(r, g.M) : null;
            var expected = Reference(g, x, w, b);
            var packed = Pack(g, w);
            double tol = 1e-5 * Math.Sqrt(g.C * g.Kh * g.Kw + 1);
            foreach (int width in widths)
                KernelTestUtil.AssertClose(expected, Exec(g, x, packed, b, width), tol, 1e-5, $"width {width} {g}");
            tested++;
        }
        Assert.True(tested > 300);
    }

    [Fact]
    public void PackedLayout()
    {
        // m = 5 -> two blocks of 4; channel o, tap t lands at (o/4 * taps + t) * 4 + o%4; padding channels are 0.
        int m = 5, c = 2, kh = 2, kw = 3, taps = c * kh * kw;
        var w = new float[m * taps];
        for (int i = 0; i < w.Length; i++) w[i] = i + 1;
        var g = new Geo(1, c, 3, 3, m, kh, kw, 2, 1, 0, 0, false, Epilogue.None);
        var p = Pack(g, w);
        Assert.Equal(2 * 4 * taps, p.Length);
        for (int ob = 0; ob < 2; ob++)
        for (int t = 0; t < taps; t++)
        for (int j = 0; j < 4; j++)
        {
            int o = ob * 4 + j;
            Assert.Equal(o < m ? w[o * taps + t] : 0f, p[(ob * taps + t) * 4 + j]);
        }
    }

    [Fact]
    public void ScratchAndSupport()
    {
        Assert.Equal(1 * 32 * 32, ConvDirect.ScratchFloats(1, 28, 28, 5, 5, 28, 28, 2, 2));
        Assert.Equal(8 * 18 * 18, ConvDirect.ScratchFloats(8, 14, 14, 5, 5, 14, 14, 2, 2));
        Assert.Equal(0, ConvDirect.ScratchFloats(10, 12, 12, 5, 5, 8, 8, 0, 0));
        Assert.Equal(4 * 6 * 7, ConvDirect.ScratchFloats(4, 5, 5, 2, 2, 5, 6, 0, 0)); // bottom/right padding
        Assert.True(ConvDirect.Supports(1, 1, 1, 1, 1));
        Assert.False(ConvDirect.Supports(2, 1, 1, 1, 1));
        Assert.False(ConvDirect.Supports(1, 1, 1, 2, 1));
        Assert.False(ConvDirect.Supports(1, 1, 1, 1, 2));
    }
}
