using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary><see cref="ConvPointwise"/> (packed 6x16 tiles) against its scalar reference on the unpacked weights.</summary>
public unsafe class ConvPointwiseTests
{
    private static void Check(Random r, int n, int c, int hw, int m, bool hasBias, Epilogue epi)
    {
        var x = KernelTestUtil.Rand(r, n * c * hw);
        var w = KernelTestUtil.Rand(r, m * c);
        var b = hasBias ? KernelTestUtil.Rand(r, m) : null;
        var wp = new float[ConvPointwise.PackedWeightFloats(m, c)];
        ConvPointwise.PackWeights(w, wp, m, c);
        var expected = new float[n * m * hw];
        fixed (float* px = x, pw = w, pb = b, py = expected)
            ConvPointwise.RunScalar(px, pw, b == null ? null : pb, py, n, c, hw, m, epi);
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        foreach (int width in widths)
        {
            var y = new float[n * m * hw + 4];
            Array.Fill(y, float.NaN);
            fixed (float* px = x, pw = wp, pb = b, py = y)
            {
                if (width < 0) ConvPointwise.Run(px, pw, b == null ? null : pb, py, n, c, hw, m, epi);
                else ConvPointwise.RunWidth(width, px, pw, b == null ? null : pb, py, n, c, hw, m, epi);
            }
            for (int i = n * m * hw; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
            KernelTestUtil.AssertClose(expected, y.AsSpan(0, n * m * hw), 1e-5 * Math.Sqrt(c + 1), 1e-5, $"width {width} n{n} c{c} hw{hw} m{m} {epi}");
        }
    }

    [Fact]
    public void MatchesScalarReference()
    {
        var r = new Random(11);
        // PP-OCR shapes (scaled down), SE squeeze (hw 1), narrow and odd pixel counts, channel tails, big c (L1 blocking).
        Check(r, 1, 16, 40 * 40, 32, true, new Epilogue(ActivationKind.Clip, 0f, 6f));
        Check(r, 1, 384, 20 * 20, 96, false, Epilogue.None);
        Check(r, 1, 96, 1, 24, true, Epilogue.Relu);
        Check(r, 2, 5, 13, 7, true, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        Check(r, 1, 3, 8, 1, false, Epilogue.None);
        Check(r, 1, 700, 37, 13, true, Epilogue.None);
        for (int t = 0; t < 60; t++)
            Check(r, r.Next(1, 3), r.Next(1, 40), r.Next(1, 90), r.Next(1, 20), r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
    }

    [Fact]
    public void PackedLayout()
    {
        // m = 7 -> two blocks of 6; the second holds channel 6 and five zero channels.
        var w = Enumerable.Range(0, 7 * 2).Select(i => (float)i).ToArray();
        var wp = new float[ConvPointwise.PackedWeightFloats(7, 2)];
        Assert.Equal(24, wp.Length);
        ConvPointwise.PackWeights(w, wp, 7, 2);
        Assert.Equal([0f, 2, 4, 6, 8, 10, 1, 3, 5, 7, 9, 11, 12, 0, 0, 0, 0, 0, 13, 0, 0, 0, 0, 0], wp);
    }
}
