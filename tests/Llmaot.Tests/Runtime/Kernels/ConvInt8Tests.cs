using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>
/// <see cref="ConvInt8"/>: every SIMD path this machine has against the scalar reference (the integer sums are exact and the
/// epilogue is the same float arithmetic, so they must agree to the bit), and the reference against the float convolution.
/// </summary>
public unsafe class ConvInt8Tests
{
    private static readonly int[] AllPaths = [ConvInt8.PathScalar, ConvInt8.PathAvx2, ConvInt8.PathAvx512, ConvInt8.PathVnni, ConvInt8.PathArmDot];

    /// <summary>Runs the packed kernel on one path; returns y [m, hw].</summary>
    private static float[] RunPath(int path, float[] x, sbyte[] q, float[] scale, float[]? bias, int c, int hw, int m, Epilogue epi)
    {
        var wp = new sbyte[ConvInt8.PackedWeightBytes(m, c)];
        ConvInt8.PackWeights(q, wp, m, c);
        var sums = new int[ConvInt8.PaddedChannels(m)];
        ConvInt8.WeightSums(q, m, c, sums);
        var sc = new float[ConvInt8.PaddedChannels(m)];
        scale.CopyTo(sc, 0);
        var scratch = new byte[ConvInt8.ScratchBytes(c) + 64];
        var y = new float[m * hw + 3];
        Array.Fill(y, float.NaN);
        fixed (float* px = x, ps = sc, pb = bias, py = y)
        fixed (sbyte* pw = wp)
        fixed (int* pu = sums)
        fixed (byte* pscr = scratch)
        {
            byte* aligned = (byte*)(((nint)pscr + 63) & ~(nint)63);
            ConvInt8.RunStrided(path, px, hw, pw, ps, pu, bias == null ? null : pb, py, hw, c, hw, m, aligned, epi);
        }
        for (int i = m * hw; i < y.Length; i++) Assert.True(float.IsNaN(y[i]), "wrote past the output");
        return y.AsSpan(0, m * hw).ToArray();
    }

    private static void Check(Random r, int c, int hw, int m, bool hasBias, Epilogue epi, List<string> ran)
    {
        var x = KernelTestUtil.Rand(r, c * hw, -2f, 2f);
        var w = KernelTestUtil.Rand(r, m * c);
        var b = hasBias ? KernelTestUtil.Rand(r, m) : null;
        var q = new sbyte[m * c];
        var scale = new float[m];
        ConvInt8.QuantizeWeights(w, m, c, q, scale);
        var expected = new float[m * hw];
        fixed (float* px = x, ps = scale, pb = b, py = expected)
        fixed (sbyte* pq = q)
            ConvInt8.RunReference(px, pq, ps, b == null ? null : pb, py, c, hw, m, epi);
        foreach (int path in AllPaths)
        {
            if (!ConvInt8.Supports(path)) continue;
            var y = RunPath(path, x, q, scale, b, c, hw, m, epi);
            Assert.True(expected.AsSpan().SequenceEqual(y), $"path {ConvInt8.PathName(path)} differs from the scalar reference (c{c} hw{hw} m{m} {epi})");
            if (!ran.Contains(ConvInt8.PathName(path))) ran.Add(ConvInt8.PathName(path));
        }
        // The quantized reference stays close to the float convolution: 8-bit weights and activations.
        var exact = new float[m * hw];
        fixed (float* px = x, pw = w, pb = b, py = exact)
            ConvPointwise.RunScalar(px, pw, b == null ? null : pb, py, 1, c, hw, m, epi);
        double num = 0, den = 0;
        for (int i = 0; i < exact.Length; i++) { num += (exact[i] - expected[i]) * (double)(exact[i] - expected[i]); den += exact[i] * (double)exact[i]; }
        if (den > 1e-6) Assert.True(Math.Sqrt(num / den) < 0.03, $"relative error {Math.Sqrt(num / den):G3} vs float (c{c} hw{hw} m{m})");
    }

    [Fact]
    public void EveryPathMatchesScalarReference()
    {
        var r = new Random(5);
        var ran = new List<string>();
        Check(r, 16, 40 * 40, 32, true, new Epilogue(ActivationKind.HardSwish, 1f, 0f), ran);
        Check(r, 384, 20 * 20, 96, false, Epilogue.None, ran);
        Check(r, 96, 1, 24, true, Epilogue.Relu, ran);
        Check(r, 5, 13, 7, true, new Epilogue(ActivationKind.LeakyRelu, 0.1f), ran);
        Check(r, 700, 37, 13, true, Epilogue.None, ran);
        for (int t = 0; t < 40; t++)
            Check(r, r.Next(1, 70), r.Next(1, 90), r.Next(1, 20), r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r), ran);
        Assert.Contains("scalar", ran);
        if (System.Runtime.Intrinsics.X86.AvxVnni.IsSupported) Assert.Contains("avxvnni", ran);
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported) Assert.Contains("avx2", ran);
        if (System.Runtime.Intrinsics.X86.Avx512BW.IsSupported) Assert.Contains("avx512bw", ran);
    }

    [Fact]
    public void PackedLayoutAndSums()
    {
        // m = 7, k = 5: two channel blocks, reduction groups of 4 (the second holds channel 4 and three zeros).
        var q = Enumerable.Range(0, 7 * 5).Select(i => (sbyte)(i - 17)).ToArray();
        var wp = new sbyte[ConvInt8.PackedWeightBytes(7, 5)];
        Assert.Equal(2 * 6 * 2 * 4, wp.Length);
        ConvInt8.PackWeights(q, wp, 7, 5);
        // block 0, group 0, channel j: q[j, 0..3]
        Assert.Equal(q[0..4], wp[0..4]);
        Assert.Equal(q[5..9], wp[4..8]);
        // block 0, group 1, channel 0: q[0, 4], 0, 0, 0
        Assert.Equal(new sbyte[] { q[4], 0, 0, 0 }, wp[24..28]);
        // block 1, group 0, channel 0 = output channel 6; channel 1 is padding
        Assert.Equal(q[30..34], wp[48..52]);
        Assert.All(wp[52..56], v => Assert.Equal(0, v));
        var sums = new int[ConvInt8.PaddedChannels(7)];
        ConvInt8.WeightSums(q, 7, 5, sums);
        Assert.Equal(q[30..35].Sum(v => v), sums[6]);
        Assert.Equal(0, sums[7]);
    }

    [Fact]
    public void QuantizeWeightsIsSymmetricPerChannel()
    {
        float[] w = [0.5f, -1f, 0.25f, 0f, 0f, 0f, 2f, 1f, -0.01f];
        var q = new sbyte[9];
        var s = new float[3];
        ConvInt8.QuantizeWeights(w, 3, 3, q, s);
        // Row 0: w/scale = 63.5, -127, 31.75 rounds to 64, -127, 32 (sum -31) but sums to -31.75: one unit comes off, from the
        // element it costs least (63.5 -> 63). Row 2: 127, 63.5, -0.635 -> 127, 64, -1 (sum 190 for 189.865: kept).
        Assert.Equal(new sbyte[] { 63, -127, 32, 0, 0, 0, 127, 64, -1 }, q);
        Assert.Equal(1f / 127f, s[0]);
        Assert.Equal(0f, s[1]);
        Assert.Equal(2f / 127f, s[2]);
    }

    [Fact]
    public void QuantizeWeightsKeepsRowSums()
    {
        var r = new Random(4);
        int m = 20, k = 200;
        var w = KernelTestUtil.Rand(r, m * k, 0f, 1f);
        var q = new sbyte[m * k];
        var s = new float[m];
        ConvInt8.QuantizeWeights(w, m, k, q, s);
        for (int o = 0; o < m; o++)
        {
            double target = 0, got = 0;
            for (int i = 0; i < k; i++) { target += w[o * k + i] / s[o]; got += q[o * k + i]; }
            Assert.True(Math.Abs(target - got) <= 0.5 + 1e-3, $"row {o}: Σq = {got}, Σw/s = {target}");
            for (int i = 0; i < k; i++) Assert.True(Math.Abs(w[o * k + i] / s[o] - q[o * k + i]) < 1.0001, "an element moved by more than one unit");
        }
    }

    [Fact]
    public void Im2ColAndDepthwiseMatchFloatConvolutionOnDequantizedWeights()
    {
        var r = new Random(9);
        int n = 1, c = 6, h = 11, wIn = 9, m = 10, kh = 3, kw = 3, sh = 2, sw = 1, pt = 1, pl = 1;
        int oh = (h + 2 * pt - kh) / sh + 1, ow = (wIn + 2 * pl - kw) / sw + 1;
        var x = KernelTestUtil.Rand(r, n * c * h * wIn);
        var w = KernelTestUtil.Rand(r, m * c * kh * kw);
        var b = KernelTestUtil.Rand(r, m);
        int k = c * kh * kw;
        var q = new sbyte[m * k];
        var scale = new float[ConvInt8.PaddedChannels(m)];
        ConvInt8.QuantizeWeights(w, m, k, q, scale);
        var wp = new sbyte[ConvInt8.PackedWeightBytes(m, k)];
        ConvInt8.PackWeights(q, wp, m, k);
        var sums = new int[ConvInt8.PaddedChannels(m)];
        ConvInt8.WeightSums(q, m, k, sums);
        var deq = new float[m * k];
        for (int i = 0; i < deq.Length; i++) deq[i] = q[i] * scale[i / k];
        var y = new float[n * m * oh * ow];
        var yf = new float[y.Length];
        var scratch = new byte[ConvInt8.ScratchBytesIm2Col(c, kh, kw, oh, ow) + 64];
        var epi = Epilogue.Relu;
        fixed (float* px = x, pd = deq, pb = b, py = y, pf = yf, ps = scale)
        fixed (sbyte* pw = wp)
        fixed (int* pu = sums)
        fixed (byte* pscr = scratch)
        {
            byte* al = (byte*)(((nint)pscr + 63) & ~(nint)63);
            ConvInt8.RunIm2Col(px, pw, ps, pu, pb, py, n, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1, al, epi);
            Conv.RunScalar2D(px, pd, pb, pf, n, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1, 1, null, epi);
        }
        // Only the activations' per-pixel 8-bit rounding separates them.
        double maxRef = yf.Max(v => Math.Abs(v));
        KernelTestUtil.AssertClose(yf, y, 0.02 * maxRef, 0, "im2col int8 vs float on dequantized weights");

        // Depthwise: weights widened exactly, so the float kernel's result is reproduced to rounding.
        var wd = KernelTestUtil.Rand(r, c * 9);
        var qd = new sbyte[c * 9];
        var sd = new float[c];
        ConvInt8.QuantizeWeights(wd, c, 9, qd, sd);
        var deqd = new float[c * 9];
        for (int i = 0; i < deqd.Length; i++) deqd[i] = qd[i] * sd[i / 9];
        int doh = h, dow = wIn;
        var yd = new float[c * doh * dow];
        var ydf = new float[yd.Length];
        var scr = new byte[ConvInt8.ScratchBytesDepthwise(1, c, h, wIn, 3, 3, doh, dow, 1, 1, 1, 1, 1, 1) + 64];
        fixed (float* px = x, pd = deqd, pb = b, py = yd, pf = ydf, ps = sd)
        fixed (sbyte* pw = qd)
        fixed (byte* pscr = scr)
        {
            byte* al = (byte*)(((nint)pscr + 63) & ~(nint)63);
            ConvInt8.RunDepthwise(px, pw, ps, pb, py, 1, c, h, wIn, 3, 3, doh, dow, 1, 1, 1, 1, 1, 1, al, epi);
            Conv.RunScalar2D(px, pd, pb, pf, 1, c, h, wIn, c, 3, 3, doh, dow, 1, 1, 1, 1, 1, 1, c, null, epi);
        }
        KernelTestUtil.AssertClose(ydf, yd, 1e-5, 1e-5, "depthwise int8 weights vs float on dequantized weights");
    }

    [Fact]
    public void WinogradOnInt8WeightsMatchesFloatWinogradOnDequantizedWeights()
    {
        var r = new Random(3);
        int c = 10, m = 7, h = 12, wIn = 13;
        var x = KernelTestUtil.Rand(r, c * h * wIn);
        var w = KernelTestUtil.Rand(r, m * c * 9);
        var b = KernelTestUtil.Rand(r, m);
        var q = new sbyte[m * c * 9];
        var scale = new float[m];
        ConvInt8.QuantizeWeights(w, m, c * 9, q, scale);
        var deq = new float[q.Length];
        for (int i = 0; i < q.Length; i++) deq[i] = q[i] * scale[i / (c * 9)];
        var packed = new float[ConvWinograd.PackedWeightFloats(m, c)];
        ConvWinograd.PackWeights(deq, packed, m, c);
        var y = new float[m * h * wIn];
        var yf = new float[y.Length];
        var fs = new float[ConvWinograd.ScratchFloats(c, m, h, wIn)];
        var scratch = new byte[ConvInt8.ScratchBytesWinograd(c, m, h, wIn) + 64];
        var epi = new Epilogue(ActivationKind.Clip, 0f, 6f);
        fixed (float* px = x, pp = packed, pb = b, py = y, pf = yf, ps = scale, pfs = fs)
        fixed (sbyte* pq = q)
        fixed (byte* pscr = scratch)
        {
            byte* al = (byte*)(((nint)pscr + 63) & ~(nint)63);
            ConvInt8.RunWinograd(px, pq, ps, pb, py, 1, c, h, wIn, m, h, wIn, 1, 1, al, epi);
            ConvWinograd.Run(px, pp, pb, pf, 1, c, h, wIn, m, h, wIn, 1, 1, pfs, epi);
        }
        Assert.True(yf.AsSpan().SequenceEqual(y), "the per-call transform of the int8 weights differs from ConvWinograd.PackWeights");
    }
}
