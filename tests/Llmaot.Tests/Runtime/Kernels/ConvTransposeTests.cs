using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary><see cref="ConvTranspose.RunFloat"/> (GEMM + col2im) against the plain scatter reference <see cref="ConvTranspose.Run{T}"/>.</summary>
public unsafe class ConvTransposeTests
{
    private sealed record Geo(int N, int C, int M, int Group, int[] In, int[] K, int[] S, int[] D, int[] P, int[] OutPad, bool Bias, Epilogue Epi)
    {
        public int[] Out => [.. Enumerable.Range(0, 3).Select(i => S[i] * (In[i] - 1) + OutPad[i] + (K[i] - 1) * D[i] + 1 - 2 * P[i])];
        public override string ToString() => $"n{N} c{C} m{M} g{Group} in[{string.Join(",", In)}] k[{string.Join(",", K)}] s[{string.Join(",", S)}] d[{string.Join(",", D)}] p[{string.Join(",", P)}] op[{string.Join(",", OutPad)}] bias {Bias} {Epi}";
    }

    private const float Guard = -777.25f;

    private static float[] Exec(Geo g, float[] x, float[] w, float[]? b, bool fast)
    {
        var o = g.Out;
        var y = new float[g.N * g.M * o[0] * o[1] * o[2]];
        Array.Fill(y, float.NaN);
        long sf = ConvTranspose.ScratchFloats(g.C, g.M, g.Group, g.In, g.K);
        var scratch = new float[sf + 8];
        Array.Fill(scratch, Guard);
        fixed (float* px = x, pw = w, pb = b, py = y, ps = scratch)
        {
            float* bias = b == null ? null : pb;
            if (fast)
                ConvTranspose.RunFloat(px, pw, bias, py, g.N, g.C, g.M, g.Group, g.In, o, g.K, g.S, g.D, g.P, ps, g.Epi);
            else
            {
                ConvTranspose.Run(px, pw, bias, py, g.N, g.C, g.M, g.Group, g.In, o, g.K, g.S, g.D, g.P);
                for (int i = 0; i < y.Length; i++) y[i] = (float)KernelTestUtil.Act(y[i], g.Epi);
            }
        }
        for (long i = sf; i < scratch.Length; i++) Assert.Equal(Guard, scratch[i]);
        return y;
    }

    private static IEnumerable<Geo> Geos()
    {
        // PP-OCR det head: 2x2 stride 2 (exact tiling), with bias + Relu, and a single output channel.
        yield return new Geo(1, 24, 24, 1, [1, 20, 20], [1, 2, 2], [1, 2, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0], true, Epilogue.Relu);
        yield return new Geo(1, 24, 1, 1, [1, 40, 40], [1, 2, 2], [1, 2, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0], true, Epilogue.None);
        // Band splitting (many rows), 1-D, 3-D, groups, output padding, dilation, stride 1.
        yield return new Geo(2, 4, 6, 2, [1, 90, 200], [1, 3, 3], [1, 2, 2], [1, 1, 1], [0, 1, 1], [0, 1, 0], true, new Epilogue(ActivationKind.Clip, -0.3f, 0.4f));
        yield return new Geo(1, 3, 5, 1, [1, 1, 37], [1, 1, 4], [1, 1, 3], [1, 1, 2], [0, 0, 2], [0, 0, 1], false, Epilogue.None);
        yield return new Geo(1, 4, 4, 2, [3, 4, 5], [2, 2, 2], [2, 1, 2], [1, 2, 1], [0, 1, 0], [1, 0, 0], true, new Epilogue(ActivationKind.LeakyRelu, 0.1f));
        yield return new Geo(1, 5, 3, 1, [1, 7, 9], [1, 3, 3], [1, 1, 1], [1, 1, 1], [0, 1, 1], [0, 0, 0], true, Epilogue.Relu);
    }

    private static IEnumerable<Geo> RandomGeos(Random r, int count)
    {
        for (int t = 0; t < count; t++)
        {
            int group = r.Next(1, 3);
            int[] inp = [1, r.Next(1, 8), r.Next(1, 12)], k = [1, r.Next(1, 4), r.Next(1, 4)], s = [1, r.Next(1, 4), r.Next(1, 4)];
            int[] d = [1, r.Next(1, 3), r.Next(1, 3)], p = [0, r.Next(0, 2), r.Next(0, 2)], op = [0, r.Next(0, s[1]), r.Next(0, s[2])];
            var g = new Geo(r.Next(1, 3), group * r.Next(1, 4), group * r.Next(1, 4), group, inp, k, s, d, p, op, r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r));
            if (g.Out.Any(v => v <= 0)) continue;
            yield return g;
        }
    }

    [Fact]
    public void RunFloatMatchesScatterReference()
    {
        var r = new Random(7);
        foreach (var g in Geos().Concat(RandomGeos(r, 200)))
        {
            var x = KernelTestUtil.Rand(r, g.N * g.C * g.In[0] * g.In[1] * g.In[2]);
            var w = KernelTestUtil.Rand(r, g.C * (g.M / g.Group) * g.K[0] * g.K[1] * g.K[2]);
            var b = g.Bias ? KernelTestUtil.Rand(r, g.M) : null;
            KernelTestUtil.AssertClose(Exec(g, x, w, b, false), Exec(g, x, w, b, true), 1e-5 * Math.Sqrt(g.C + 1), 1e-5, g.ToString());
        }
    }

    [Fact]
    public void KnownValues()
    {
        // x = [[1, 2]], 2x2 kernel [[1, 2], [3, 4]], stride 2, bias 1: each input pixel paints its own 2x2 block.
        var g = new Geo(1, 1, 1, 1, [1, 1, 2], [1, 2, 2], [1, 2, 2], [1, 1, 1], [0, 0, 0], [0, 0, 0], true, Epilogue.None);
        var y = Exec(g, [1, 2], [1, 2, 3, 4], [1], true);
        Assert.Equal([2f, 3f, 3f, 5f, 4f, 5f, 7f, 9f], y);
    }
}
