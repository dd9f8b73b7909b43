using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The unpacked small-matrix product against the scalar Gemm reference, over edge shapes, bias and epilogue.</summary>
public unsafe class SmallGemmTests
{
    [Fact]
    public void MatchesScalarReference()
    {
        var rng = new Random(11);
        int[] ms = [1, 2, 3, 4, 5, 7, 8, 9, 16, 17];
        int[] ns = [1, 3, 7, 8, 9, 15, 16, 17, 24, 31, 32, 37, 40];
        int[] ks = [1, 2, 8, 13, 32, 37];
        foreach (int m in ms)
            foreach (int n in ns)
                foreach (int k in ks)
                    foreach (bool withBias in new[] { false, true })
                    {
                        var epi = (m + n) % 3 == 0 ? Epilogue.Relu : Epilogue.None;
                        int lda = k + (m % 2), ldc = n + (k % 3);
                        var a = KernelTestUtil.Rand(rng, m * lda, -1f, 1f);
                        var b = KernelTestUtil.Rand(rng, k * n, -1f, 1f);
                        var bias = KernelTestUtil.Rand(rng, n, -1f, 1f);
                        var want = new float[m * ldc];
                        var got = new float[m * ldc];
                        Array.Fill(want, 7f);
                        Array.Fill(got, 7f);
                        fixed (float* pa = a, pb = b, pbias = bias, pw = want, pg = got)
                        {
                            Gemm.RunScalar(m, n, k, pa, lda, false, pb, n, false, pw, ldc, 1f, 0f, withBias ? pbias : null, epi);
                            SmallGemm.Run(m, n, k, pa, lda, pb, n, pg, ldc, withBias ? pbias : null, epi);
                        }
                        for (int i = 0; i < want.Length; i++)
                            Assert.True(Math.Abs(want[i] - got[i]) <= 1e-5f * (1 + Math.Abs(want[i])), $"m={m} n={n} k={k} bias={withBias} [{i}]: want {want[i]} got {got[i]}");
                    }
    }

    [Fact]
    public void FitsOnlySmallMultiRowProducts()
    {
        Assert.True(SmallGemm.Fits(16, 37, 32));
        Assert.False(SmallGemm.Fits(1, 37, 32));
        Assert.False(SmallGemm.Fits(64, 512, 512));
    }
}
