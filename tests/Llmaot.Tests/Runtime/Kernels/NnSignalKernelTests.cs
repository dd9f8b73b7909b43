using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>Family F kernels against plain references: DFT round trip, identity GridSample, GemmT, causal conv, Unique/NMS counts.</summary>
public unsafe class NnSignalKernelTests
{
    [Fact]
    public void Dft_then_inverse_returns_the_signal_and_rfft_matches_the_full_spectrum()
    {
        double[] x = [1, -2, 3.5, 0.25, 4, -1, 2];
        var spec = new double[7 * 2];
        var back = new double[7 * 2];
        var half = new double[4 * 2];
        var real = new double[7];
        fixed (double* px = x, ps = spec, pb = back, ph = half, pr = real)
        {
            Signal.Dft(px, ps, outer: 1, inLen: 7, inner: 1, inComplex: 1, dftLength: 7, outLen: 7, inverse: false, irfft: false);
            Signal.Dft(ps, pb, outer: 1, inLen: 7, inner: 1, inComplex: 2, dftLength: 7, outLen: 7, inverse: true, irfft: false);
            Signal.Dft(px, ph, outer: 1, inLen: 7, inner: 1, inComplex: 1, dftLength: 7, outLen: 4, inverse: false, irfft: false);
            Signal.Dft(ph, pr, outer: 1, inLen: 4, inner: 1, inComplex: 2, dftLength: 7, outLen: 7, inverse: true, irfft: true);
        }
        Assert.Equal(x.Sum(), spec[0], 12);
        for (int i = 0; i < 7; i++)
        {
            Assert.Equal(x[i], back[2 * i], 12);
            Assert.Equal(0, back[2 * i + 1], 12);
            Assert.Equal(x[i], real[i], 12);
        }
        for (int k = 0; k < 8; k++) Assert.Equal(spec[k], half[k], 12);
    }

    [Fact]
    public void GridSample_with_the_identity_grid_copies_the_input()
    {
        int h = 3, w = 4;
        var x = Enumerable.Range(0, h * w).Select(i => (float)(i * 1.5 - 3)).ToArray();
        var grid = new float[h * w * 2];
        for (int i = 0; i < h; i++)
            for (int j = 0; j < w; j++) { grid[(i * w + j) * 2] = -1 + 2f * j / (w - 1); grid[(i * w + j) * 2 + 1] = -1 + 2f * i / (h - 1); }
        foreach (int mode in new[] { GridSample.Nearest, GridSample.Linear, GridSample.Cubic })
        {
            var y = new float[h * w];
            fixed (float* px = x, pg = grid, py = y)
                GridSample.Run(px, pg, py, batch: 1, channels: 1, inDims: [h, w], outDims: [h, w], mode: mode, padding: GridSample.Border, alignCorners: true);
            for (int i = 0; i < y.Length; i++) Assert.Equal(x[i], y[i], 4);
        }
    }

    [Fact]
    public void GemmT_matches_a_naive_product_for_double_and_wraps_for_int()
    {
        double[] a = [1, 2, 3, 4, 5, 6], b = [7, 8, 9, 10, 11, 12];
        var c = new double[4];
        fixed (double* pa = a, pb = b, pc = c) GemmT.RunFloat(2, 2, 3, pa, 3, false, pb, 2, false, pc, 2, alpha: 1, beta: 0);
        Assert.Equal(new double[] { 58, 64, 139, 154 }, c);
        int[] ia = [int.MaxValue, 1], ib = [2, 3];
        var ic = new int[1];
        fixed (int* pa = ia, pb = ib, pc = ic) GemmT.RunInt(1, 1, 2, pa, 2, false, pb, 1, false, pc, 1, accumulate: false);
        Assert.Equal(unchecked(int.MaxValue * 2 + 3), ic[0]);
    }

    [Fact]
    public void CausalConv_carries_the_state()
    {
        float[] x = [1, 2, 3, 4], w = [0.5f, -1, 2], past = [10, 20];
        var y = new float[4];
        var present = new float[2];
        fixed (float* px = x, pw = w, pp = past, py = y, ps = present)
            LinearAttention.CausalConv(px, pw, (float*)null, pp, py, ps, batch: 1, channels: 1, len: 4, k: 3, silu: false);
        float[] p = [10, 20, 1, 2, 3, 4];
        for (int t = 0; t < 4; t++) Assert.Equal(0.5f * p[t] - p[t + 1] + 2 * p[t + 2], y[t]);
        Assert.Equal(new float[] { 3, 4 }, present);
    }

    [Fact]
    public void Unique_and_Nms_report_a_count_other_than_the_compiled_one()
    {
        long[] x = [3, 1, 3, 2, 1];
        var y = new long[3];
        var idx = new long[3];
        var inv = new long[5];
        var cnt = new long[3];
        var scratch = new long[Selection.UniqueScratch(5)];
        fixed (long* px = x, py = y, pi = idx, pv = inv, pc = cnt, s = scratch)
        {
            Assert.False(Selection.Unique(px, py, pi, pv, pc, 1, 5, 1, sorted: true, count: 2, s));
            Assert.True(Selection.Unique(px, py, pi, pv, pc, 1, 5, 1, sorted: true, count: 3, s));
        }
        Assert.Equal(new long[] { 1, 2, 3 }, y);
        Assert.Equal(new long[] { 1, 3, 0 }, idx);
        Assert.Equal(new long[] { 2, 0, 2, 1, 0 }, inv);
        Assert.Equal(new long[] { 2, 1, 2 }, cnt);

        float[] boxes = [0, 0, 1, 1, 0, 0, 1, 1.05f, 5, 5, 6, 6], scores = [0.9f, 0.8f, 0.7f];
        long[] max = [10];
        var sel = new long[6];
        var ns = new long[Selection.NmsScratch(1, 1, 3)];
        fixed (float* pb = boxes, psc = scores) fixed (long* pm = max, pys = sel, pns = ns)
        {
            Assert.False(Selection.Nms(pb, psc, pm, (float*)null, (float*)null, pys, 1, 1, 3, false, count: 3, pns));
            Assert.True(Selection.Nms(pb, psc, pm, (float*)null, (float*)null, pys, 1, 1, 3, false, count: 2, pns));
        }
        Assert.Equal(new long[] { 0, 0, 0, 0, 0, 2 }, sel);
    }
}
