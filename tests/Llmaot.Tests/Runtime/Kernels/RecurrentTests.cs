using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The float32 recurrent path (blocked gate products, vectorized activations) against the scalar reference.</summary>
public unsafe class RecurrentTests
{
    private static float[] Rand(Random rng, int n, float scale = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(rng.NextDouble() * 2 - 1) * scale;
        return a;
    }

    [Theory]
    [InlineData(0, 1, 3, 5, 1, false, false, false, 0f, false)]
    [InlineData(0, 4, 2, 20, 2, false, true, true, 0f, false)]
    [InlineData(1, 3, 2, 13, 1, false, true, true, 0f, false)]
    [InlineData(1, 3, 2, 16, 2, true, true, false, 0f, true)]
    [InlineData(1, 2, 1, 9, 1, false, false, true, 0.5f, true)]
    [InlineData(2, 1, 1, 128, 1, false, true, true, 0f, false)]
    [InlineData(2, 5, 3, 17, 2, false, true, true, 0f, false)]
    [InlineData(2, 4, 2, 11, 1, true, true, true, 0.7f, false)]
    [InlineData(2, 3, 2, 24, 1, false, false, false, 0f, true)]
    public void Float32PathMatchesReference(int kind, int seqLen, int batch, int hidden, int dirs, bool reverse, bool withBias, bool withInit, float clip, bool peepOrLbr)
    {
        var rng = new Random(kind * 1000 + hidden);
        int gates = kind == 0 ? 1 : kind == 1 ? 3 : 4, input = hidden + 3, H = hidden;
        var x = Rand(rng, seqLen * batch * input, 2f);
        var w = Rand(rng, dirs * gates * H * input, 0.4f);
        var r = Rand(rng, dirs * gates * H * H, 0.4f);
        var bias = Rand(rng, dirs * 2 * gates * H);
        var initH = Rand(rng, dirs * batch * H);
        var initC = Rand(rng, dirs * batch * H);
        var peep = Rand(rng, dirs * 3 * H);
        var seqLens = new int[batch];
        for (int b = 0; b < batch; b++) seqLens[b] = Math.Max(1, seqLen - b);
        int nAct = kind + 1;
        var act = new int[nAct * dirs];
        for (int d = 0; d < dirs; d++)
            for (int a = 0; a < nAct; a++) act[d * nAct + a] = a == 0 && kind != 0 ? Recurrent.Sigmoid : Recurrent.Tanh;
        if (dirs == 2 && kind == 0) act[1] = Recurrent.Relu;
        var alpha = new float[act.Length];
        var beta = new float[act.Length];
        bool peepUsed = kind == 2 && peepOrLbr, lbr = kind == 1 && peepOrLbr;

        (float[] Y, float[] Yh, float[] Yc) Run(bool reference)
        {
            var y = new float[seqLen * dirs * batch * H];
            var yh = new float[dirs * batch * H];
            var yc = new float[dirs * batch * H];
            var scratch = new float[Recurrent.ScratchFloats(H, gates)];
            fixed (float* px = x, pw = w, pr = r, pb = bias, ph = initH, pc = initC, pp = peep, py = y, pyh = yh, pyc = yc, ps = scratch)
            fixed (int* psl = seqLens)
            {
                float* b = withBias ? pb : null, ih = withInit ? ph : null, ic = withInit ? pc : null, pe = peepUsed ? pp : null;
                int* sl = batch > 1 ? psl : null;
                if (reference)
                    Recurrent.RunReference(kind, px, pw, pr, b, sl, ih, ic, pe, py, pyh, kind == 2 ? pyc : null, ps,
                        seqLen, batch, input, H, dirs, reverse, false, act, alpha, beta, clip, lbr);
                else
                    Recurrent.RunF32(kind, px, pw, pr, b, sl, ih, ic, pe, py, pyh, kind == 2 ? pyc : null, ps,
                        seqLen, batch, input, H, dirs, reverse, false, act, alpha, beta, clip, lbr);
            }
            return (y, yh, yc);
        }

        var want = Run(true);
        var got = Run(false);
        Assert.Contains(want.Yh, v => Math.Abs(v) > 0.05f);
        AssertClose(want.Y, got.Y);
        AssertClose(want.Yh, got.Yh);
        AssertClose(want.Yc, got.Yc);
    }

    private static void AssertClose(float[] want, float[] got)
    {
        for (int i = 0; i < want.Length; i++)
            Assert.True(Math.Abs(want[i] - got[i]) <= 2e-5f + 2e-5f * Math.Abs(want[i]), $"[{i}] want {want[i]} got {got[i]}");
    }

    [Fact]
    public void RowDotsAddAllShapes()
    {
        // Every SIMD width this machine has (512: two accumulators per row from n >= 32), plus scalar and the default.
        var rng = new Random(7);
        var widths = new List<int> { -1, 0 };
        widths.AddRange(KernelTestUtil.Widths());
        foreach (int width in widths)
            foreach (int n in Enumerable.Range(0, 41).Concat([63, 64, 65, 128, 131]))
                for (int rows = 0; rows <= 9; rows++)
                {
                    var a = Rand(rng, rows * n);
                    var v = Rand(rng, n);
                    var o = Rand(rng, rows);
                    var want = (float[])o.Clone();
                    for (int k = 0; k < rows; k++)
                        for (int i = 0; i < n; i++) want[k] += a[k * n + i] * v[i];
                    fixed (float* pa = a, pv = v, po = o)
                    {
                        if (width < 0) Recurrent.RowDotsAdd(pa, pv, n, rows, po);
                        else Recurrent.RowDotsAddWidth(width, pa, pv, n, rows, po);
                    }
                    AssertClose(want, o);
                }
    }
}
