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

    [Theory]
    [InlineData(64, 40, 1)]
    [InlineData(172, 64, 2)]   // 6 blocks, the last one 12 values + padding
    [InlineData(96, 400, 2)]  // over LlmParallel.MinParallelWork: the matvec runs on the pool too
    public void Decoder_weight_layout_matvec_and_prompt_matmul_match_a_scalar_reference(int k, int rows, int threads)
    {
        // MatMulNBits4 decoder layout: [rows, blocks, 16] nibble blocks, then [rows, blocks] float scales; zero point 8.
        var rng = new Random(k + rows);
        int kb = (k + 31) / 32;
        var w = new byte[rows * kb * 16 + rows * kb * 4];
        rng.NextBytes(w.AsSpan(0, rows * kb * 16));
        var scales = Enumerable.Range(0, rows * kb).Select(_ => (float)(rng.NextDouble() * 0.1 - 0.05)).ToArray();
        Buffer.BlockCopy(scales, 0, w, rows * kb * 16, scales.Length * 4);
        const int tokens = 5;
        var x = Enumerable.Range(0, tokens * k).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var expected = new double[tokens * rows];
        for (int t = 0; t < tokens; t++)
            for (int r = 0; r < rows; r++)
                for (int i = 0; i < k; i++)
                {
                    byte v = w[(r * kb + i / 32) * 16 + (i % 32) / 2];
                    int q = i % 2 == 0 ? v & 0xF : v >> 4;
                    expected[t * rows + r] += (q - 8) * (double)scales[r * kb + i / 32] * x[t * k + i];
                }
        using var pool = new WorkerPool(threads, LlmParallel.ScratchFloats * 4L);
        var y = new float[tokens * rows];
        fixed (byte* pw = w)
        fixed (float* px = x, py = y)
        {
            LlmParallel.MatVec(pool, WeightFormat.NBits4, k, px + k, null, null, pw, py, rows);
            for (int r = 0; r < rows; r++) Assert.True(Math.Abs(py[r] - expected[rows + r]) < 1e-4, $"matvec row {r}: {py[r]} vs {expected[rows + r]}");
            LlmParallel.MatMul(pool, WeightFormat.NBits4, tokens, k, px, pw, rows, py, rows);
            for (int i = 0; i < tokens * rows; i++) Assert.True(Math.Abs(py[i] - expected[i]) < 1e-4, $"matmul {i}: {py[i]} vs {expected[i]}");
        }
    }
}
