using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class NBitsTests
{
    [Theory]
    [InlineData(32, 3, 32, false)]
    [InlineData(64, 5, 32, true)]
    [InlineData(100, 4, 64, true)]
    [InlineData(256, 7, 128, false)]
    [InlineData(300, 2, 256, true)]
    [InlineData(1184, 9, 32, true)] // 37 blocks: one vectorised group of 32 zero points plus a tail
    [InlineData(2100, 6, 64, false)]
    [InlineData(2048, 5, 32, true)] // exactly two groups of 32 blocks
    public void Four_bit_simd_path_matches_the_scalar_reference(int k, int n, int block, bool zeroPoints)
    {
        var rng = new Random(k * 31 + n);
        int kb = (k + block - 1) / block;
        var b = new byte[n * kb * block / 2];
        rng.NextBytes(b);
        var scales = Enumerable.Range(0, n * kb).Select(_ => (float)(rng.NextDouble() * 0.1)).ToArray();
        var zp = new byte[n * ((kb + 1) / 2)];
        rng.NextBytes(zp);
        var a = Enumerable.Range(0, k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var perm = new float[kb * block];
        var y = new float[n];
        var r = new float[n];
        fixed (byte* pb = b, pz = zp)
        fixed (float* ps = scales, pa = a, pp = perm, py = y, pr = r)
        {
            NBits.PermuteActivations4(pa, pp, k, kb * block);
            NBits.MatVec4(pp, pb, ps, zeroPoints ? pz : null, py, kb, block, 0, n);
            NBits.MatVec4Scalar(pa, pb, ps, zeroPoints ? pz : null, pr, k, n, block);
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(y[i] - r[i]) <= 1e-4 + 1e-5 * Math.Abs(r[i]), $"row {i}: {y[i]} vs {r[i]}");
    }
}
