using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary><see cref="ConvWinograd"/> F(2x2, 3x3) against the scalar direct convolution reference.</summary>
public unsafe class ConvWinogradTests
{
    private static void Check(Random r, int n, int c, int h, int w, int m, int pt, int pl, int oh, int ow, bool hasBias, Epilogue epi)
    {
        var x = KernelTestUtil.Rand(r, n * c * h * w);
        var wt = KernelTestUtil.Rand(r, m * c * 9);
        var b = hasBias ? KernelTestUtil.Rand(r, m) : null;
        var expected = new float[n * m * oh * ow];
        fixed (float* px = x, pw = wt, pb = b, py = expected)
            Conv.RunScalar2D(px, pw, b == null ? null : pb, py, n, c, h, w, m, 3, 3, oh, ow, 1, 1, pt, pl, 1, 1, 1, null, epi);
        var wp = new float[ConvWinograd.PackedWeightFloats(m, c)];
        ConvWinograd.PackWeights(wt, wp, m, c);
        long sf = ConvWinograd.ScratchFloats(c, m, oh, ow);
        var scratch = new float[sf + 8];
        Array.Fill(scratch, -777.25f);
        var y = new float[n * m * oh * ow + 4];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, pw = wp, pb = b, py = y, ps = scratch)
            ConvWinograd.Run(px, pw, b == null ? null : pb, py, n, c, h, w, m, oh, ow, pt, pl, ps, epi);
        for (long i = sf; i < scratch.Length; i++) Assert.Equal(-777.25f, scratch[i]);
        for (int i = expected.Length; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
        KernelTestUtil.AssertClose(expected, y.AsSpan(0, expected.Length), 2e-5 * Math.Sqrt(9 * c), 1e-4, $"n{n} c{c} {h}x{w} m{m} pad {pt},{pl} out {oh}x{ow} {epi}");
    }

    [Fact]
    public void MatchesDirectReference()
    {
        var r = new Random(21);
        Check(r, 1, 32, 20, 20, 24, 1, 1, 20, 20, true, Epilogue.Relu);            // PP-OCR head (scaled down), same padding
        Check(r, 1, 40, 17, 23, 9, 1, 1, 17, 23, false, Epilogue.None);           // odd sizes: partial tiles
        Check(r, 2, 33, 12, 37, 13, 0, 0, 10, 35, true, new Epilogue(ActivationKind.HardSwish, 0.5f, 0.1f)); // valid, batch 2
        Check(r, 1, 32, 9, 70, 8, 1, 1, 9, 70, true, new Epilogue(ActivationKind.Clip, -0.2f, 0.3f)); // several tile vectors per row
        Check(r, 1, 96, 40, 40, 24, 1, 1, 40, 40, true, Epilogue.None);           // several bands
    }
}
