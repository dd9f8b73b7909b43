using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>
/// <see cref="ConvFewPixels"/> (k-major packed weights, output channels as lanes) against its scalar reference on the
/// unpacked weights, on every SIMD width this machine has (512, 256) and the scalar path (0); each case names the width.
/// </summary>
public unsafe class ConvFewPixelsTests
{
    private static void Check(Random r, int n, int c, int h, int wIn, int m, int kh, int kw, int sh, int sw, int pt, int pl,
        int dh, int dw, bool hasBias, Epilogue epi)
    {
        int oh = (h + 2 * pt - dh * (kh - 1) - 1) / sh + 1, ow = (wIn + 2 * pl - dw * (kw - 1) - 1) / sw + 1;
        Assert.InRange(oh * ow, 1, ConvFewPixels.MaxPixels);
        int kk = c * kh * kw;
        var x = KernelTestUtil.Rand(r, n * c * h * wIn);
        var w = KernelTestUtil.Rand(r, m * kk);
        var b = hasBias ? KernelTestUtil.Rand(r, m) : null;
        var wp = new float[ConvFewPixels.PackedWeightFloats(m, kk)];
        ConvFewPixels.PackWeights(w, wp, m, kk);
        int outLen = n * m * oh * ow;
        var expected = new float[outLen];
        fixed (float* px = x, pw = w, pb = b, py = expected)
            ConvFewPixels.RunScalar(px, pw, b == null ? null : pb, py, n, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, epi);
        var scratch = new float[Math.Max(1, ConvFewPixels.ScratchFloats(c, h, wIn, kh, kw, oh, ow, sh, sw, pt, pl))];
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths().Where(v => v >= 256));
        foreach (int width in widths)
        {
            var y = new float[outLen + 4];
            Array.Fill(y, float.NaN);
            fixed (float* px = x, pw = wp, pb = b, py = y, ps = scratch)
            {
                if (width < 0) ConvFewPixels.Run(px, pw, b == null ? null : pb, py, n, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, ps, epi);
                else ConvFewPixels.RunWidth(width, px, pw, b == null ? null : pb, py, n, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, ps, epi);
            }
            for (int i = outLen; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
            KernelTestUtil.AssertClose(expected, y.AsSpan(0, outLen), 1e-5 * Math.Sqrt(kk + 1), 1e-5,
                $"width {width} n{n} c{c} {h}x{wIn} m{m} k{kh}x{kw} s{sh},{sw} p{pt},{pl} d{dh},{dw} -> {oh}x{ow} {epi}");
        }
    }

    [Fact]
    public void MatchesScalarReference()
    {
        var r = new Random(5);
        // Silero VAD: the STFT filter bank (258 filters of 256 taps, stride 128, 3 frames) and the encoder tail
        // (3 taps, pad 1, strides 1 and 2, 3 -> 2 -> 1 frames), then a 1x1 head on one pixel.
        Check(r, 1, 1, 1, 576, 258, 1, 256, 1, 128, 0, 0, 1, 1, false, Epilogue.None);
        Check(r, 1, 129, 1, 3, 128, 1, 3, 1, 1, 0, 1, 1, 1, true, Epilogue.Relu);
        Check(r, 1, 128, 1, 3, 64, 1, 3, 1, 2, 0, 1, 1, 1, true, Epilogue.Relu);
        Check(r, 1, 64, 1, 2, 64, 1, 3, 1, 2, 0, 1, 1, 1, true, Epilogue.Relu);
        Check(r, 1, 64, 1, 1, 128, 1, 3, 1, 1, 0, 1, 1, 1, true, Epilogue.Relu);
        Check(r, 1, 128, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, true, Epilogue.None);
        // 2-D: 2x2 outputs (4 pixels), dilation, batches, channel counts around the 16/32/64 tiles.
        Check(r, 2, 7, 5, 5, 33, 3, 3, 2, 2, 0, 0, 1, 1, true, new Epilogue(ActivationKind.Clip, 0f, 6f));
        Check(r, 1, 4, 6, 6, 65, 3, 3, 1, 1, 0, 0, 2, 2, false, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        Check(r, 3, 96, 2, 2, 24, 1, 1, 1, 1, 0, 0, 1, 1, true, new Epilogue(ActivationKind.HardSwish, 1f / 6f, 0.5f));
        Check(r, 1, 5, 1, 3, 64, 1, 3, 1, 1, 0, 0, 1, 1, true, Epilogue.None);
        for (int t = 0; t < 80; t++)
        {
            int kh = r.Next(1, 4), kw = r.Next(1, 4), sh = r.Next(1, 3), sw = r.Next(1, 3), pt = r.Next(0, kh), pl = r.Next(0, kw);
            int oh = r.Next(1, 3), ow = r.Next(1, 5 - oh);
            if (oh * ow > 4) ow = 1;
            int h = (oh - 1) * sh + kh - 2 * pt, wIn = (ow - 1) * sw + kw - 2 * pl;
            if (h < 1 || wIn < 1) { pt = 0; pl = 0; h = (oh - 1) * sh + kh; wIn = (ow - 1) * sw + kw; }
            Check(r, r.Next(1, 3), r.Next(1, 30), h, wIn, r.Next(1, 140), kh, kw, sh, sw, pt, pl, 1, 1, r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
        }
    }

    [Fact]
    public void PackedLayout()
    {
        // m = 3, kk = 2 -> rows of 16 channels per k, zero beyond channel 2.
        var w = new float[] { 1, 2, 3, 4, 5, 6 };
        var wp = new float[ConvFewPixels.PackedWeightFloats(3, 2)];
        Assert.Equal(32, wp.Length);
        ConvFewPixels.PackWeights(w, wp, 3, 2);
        Assert.Equal([1f, 3, 5], wp[..3]);
        Assert.All(wp[3..16], v => Assert.Equal(0f, v));
        Assert.Equal([2f, 4, 6], wp[16..19]);
        Assert.All(wp[19..], v => Assert.Equal(0f, v));
    }
}
