using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary><see cref="QuantGemm"/>: the int8 row dot products on every path this machine has vs the scalar reference, and each format vs float.</summary>
public unsafe class QuantGemmTests
{
    private delegate void MatVec(sbyte* w, float* s, sbyte* xq, float* xd, float* y, int n, int r0, int r1);

    [Fact]
    public void MatVecInt8PathsMatchScalarReference()
    {
        var r = new Random(2);
        var paths = new List<(string, MatVec)>();
        if (AvxVnni.IsSupported) paths.Add(("avxvnni", QuantGemm.MatVecInt8Vnni));
        if (Avx2.IsSupported && Fma.IsSupported) paths.Add(("avx2", QuantGemm.MatVecInt8Avx2));
        if (Dp.IsSupported) paths.Add(("arm64-dotprod", QuantGemm.MatVecInt8ArmDot));
        paths.Add(("dispatch", QuantGemm.MatVecInt8));
        if (Avx2.IsSupported) Assert.Contains(paths, p => p.Item1 == "avx2");
        foreach (int k in new[] { 32, 64, 320, 1024 })
        {
            int n = 37;
            // Extreme int8 values too: ±127 everywhere must not saturate (|w|·|x| pairs stay below 2^15).
            var w = new sbyte[n * k];
            var xq = new sbyte[2 * k];
            for (int i = 0; i < w.Length; i++) w[i] = i % 7 == 0 ? (sbyte)(r.Next(2) == 0 ? 127 : -127) : (sbyte)r.Next(-127, 128);
            for (int i = 0; i < k; i++) xq[i] = i % 5 == 0 ? (sbyte)127 : (sbyte)r.Next(-127, 128);
            var xd = KernelTestUtil.Rand(r, k / 32, 0.001f, 0.02f);
            var s = KernelTestUtil.Rand(r, n, 0.001f, 0.02f);
            var expected = new float[n];
            fixed (sbyte* pw = w, px = xq) fixed (float* pd = xd, ps = s, pe = expected)
                QuantGemm.MatVecInt8Scalar(pw, ps, px, pd, pe, k, 0, n);
            foreach (var (name, f) in paths)
            {
                var y = new float[n];
                fixed (sbyte* pw = w, px = xq) fixed (float* pd = xd, ps = s, py = y)
                    f(pw, ps, px, pd, py, k, 3, n);
                for (int i = 3; i < n; i++)
                    Assert.True(Math.Abs(y[i] - expected[i]) <= 1e-5 * (1 + Math.Abs(expected[i])), $"{name} k{k} row {i}: {y[i]} vs {expected[i]}");
                Assert.All(y[..3], v => Assert.Equal(0f, v));
            }
        }
    }

    [Theory]
    [InlineData(QuantFormat.Int8, 0.02)]
    [InlineData(QuantFormat.Q8_0, 0.02)]
    [InlineData(QuantFormat.Q4_0, 0.2)]
    public void RunMatchesFloatProductWithinQuantizationError(QuantFormat f, double tol)
    {
        var r = new Random(7);
        foreach (int k in new[] { 50, 64, 300 })
        {
            int m = 5, n = 19;
            var a = KernelTestUtil.Rand(r, m * k);
            var w = KernelTestUtil.Rand(r, n * k);
            var bias = KernelTestUtil.Rand(r, n);
            int kp = QuantGemm.PaddedK(k);
            var q = new byte[QuantGemm.RowBytes(f, kp) * n];
            var s = new float[n];
            QuantGemm.QuantizeRows(f, w, n, k, q, s);
            var y = new float[m * n];
            var scratch = new byte[QuantGemm.ScratchBytes(k, n) + 64];
            fixed (float* pa = a, pb = bias, py = y, ps = s) fixed (byte* pq = q, pscr = scratch)
            {
                byte* al = (byte*)(((nint)pscr + 63) & ~(nint)63);
                QuantGemm.Run(f, pa, m, k, k, pq, f == QuantFormat.Int8 ? ps : null, pb, py, n, n, al, Epilogue.None);
            }
            double num = 0, den = 0;
            for (int i = 0; i < m; i++)
                for (int j = 0; j < n; j++)
                {
                    double e = bias[j];
                    for (int t = 0; t < k; t++) e += a[i * k + t] * (double)w[j * k + t];
                    num += (e - y[i * n + j]) * (e - y[i * n + j]);
                    den += e * e;
                }
            Assert.True(Math.Sqrt(num / den) < tol, $"{f} k{k}: relative error {Math.Sqrt(num / den):G3}");
        }
    }

    [Fact]
    public void RunConvMatchesFloatConvolution()
    {
        var r = new Random(8);
        int c = 3, h = 9, wIn = 10, m = 4, kh = 3, kw = 2, oh = 5, ow = 10, sh = 2, sw = 1, pt = 1, pl = 1;
        int k = c * kh * kw;
        var x = KernelTestUtil.Rand(r, c * h * wIn);
        var w = KernelTestUtil.Rand(r, m * k);
        var b = KernelTestUtil.Rand(r, m);
        var q = new byte[QuantGemm.RowBytes(QuantFormat.Q8_0, QuantGemm.PaddedK(k)) * m];
        QuantGemm.QuantizeRows(QuantFormat.Q8_0, w, m, k, q, new float[m]);
        var y = new float[m * oh * ow];
        var yf = new float[y.Length];
        var scratch = new byte[QuantGemm.ScratchBytes(k, m) + 64];
        fixed (float* px = x, pw = w, pb = b, py = y, pf = yf) fixed (byte* pq = q, pscr = scratch)
        {
            byte* al = (byte*)(((nint)pscr + 63) & ~(nint)63);
            QuantGemm.RunConv(QuantFormat.Q8_0, px, pq, null, pb, py, 1, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1, al, Epilogue.Relu);
            Conv.RunScalar2D(px, pw, pb, pf, 1, c, h, wIn, m, kh, kw, oh, ow, sh, sw, pt, pl, 1, 1, 1, null, Epilogue.Relu);
        }
        KernelTestUtil.AssertClose(yf, y, 0.03, 0.02, "q8_0 convolution vs float");
    }
}
