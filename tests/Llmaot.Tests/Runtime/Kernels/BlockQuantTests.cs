using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class BlockQuantTests
{
    [Theory]
    [InlineData(32, 1)]
    [InlineData(64, 7)]
    [InlineData(256, 13)]
    public void Quantized_matvec_matches_dequantize_then_dot(int n, int rows)
    {
        var rng = new Random(n + rows);
        var w = Enumerable.Range(0, n * rows).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var x = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        foreach (var q8 in new[] { true, false })
        {
            var packed = new byte[n * rows / 32 * (q8 ? 34 : 18)];
            var deq = new float[n * rows];
            var y = new float[rows];
            fixed (float* pw = w, px = x, pd = deq, py = y)
            fixed (byte* pp = packed)
            {
                if (q8) { BlockQuant.QuantizeQ8_0(pw, pp, w.Length); BlockQuant.DequantizeQ8_0(pp, pd, w.Length); BlockQuant.MatVecQ8_0(pp, px, py, n, 0, rows); }
                else { BlockQuant.QuantizeQ4_0(pw, pp, w.Length); BlockQuant.DequantizeQ4_0(pp, pd, w.Length); BlockQuant.MatVecQ4_0(pp, px, py, n, 0, rows); }
            }
            for (int r = 0; r < rows; r++)
            {
                double expect = 0;
                for (int j = 0; j < n; j++) expect += (double)deq[r * n + j] * x[j];
                Assert.True(Math.Abs(y[r] - expect) <= 1e-4 * Math.Sqrt(n), $"{(q8 ? "Q8_0" : "Q4_0")} row {r}: {y[r]} vs {expect}");
            }
            // quantization error is bounded by half a step of each block's scale
            for (int i = 0; i < w.Length; i++) Assert.True(Math.Abs(deq[i] - w[i]) <= (q8 ? 1.0 / 127 : 1.0 / 8 * 1.01), $"element {i}: {deq[i]} vs {w[i]}");
        }
    }
}
