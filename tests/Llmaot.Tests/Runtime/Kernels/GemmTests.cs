using System.Runtime.Intrinsics;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>Shared helpers for the kernel tests.</summary>
internal static class KernelTestUtil
{
    public static float[] Rand(Random r, int n, float lo = -1f, float hi = 1f)
    {
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = lo + (float)r.NextDouble() * (hi - lo);
        return a;
    }

    /// <summary>SIMD widths (bits) accelerated on this machine, widest first.</summary>
    public static int[] Widths()
    {
        var list = new List<int>();
        if (Vector512.IsHardwareAccelerated) list.Add(512);
        if (Vector256.IsHardwareAccelerated) list.Add(256);
        if (Vector128.IsHardwareAccelerated) list.Add(128);
        return list.ToArray();
    }

    public static void AssertClose(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, double abs, double rel, string ctx)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            double e = expected[i], a = actual[i];
            if (double.IsNaN(e) || double.IsNaN(a))
            {
                Assert.True(double.IsNaN(e) && double.IsNaN(a), $"{ctx}: index {i}: expected {e}, got {a}");
                continue;
            }
            if (double.IsInfinity(e) || double.IsInfinity(a))
            {
                Assert.True(e == a, $"{ctx}: index {i}: expected {e}, got {a}");
                continue;
            }
            double tol = abs + rel * Math.Abs(e);
            Assert.True(Math.Abs(e - a) <= tol, $"{ctx}: index {i}: expected {e:R}, got {a:R} (diff {Math.Abs(e - a):E3}, tol {tol:E3})");
        }
    }

    public static Epilogue RandomEpilogue(Random r)
    {
        switch (r.Next(5))
        {
            case 4: return new Epilogue(ActivationKind.HardSwish, r.Next(2) == 0 ? 1f : 0.75f, r.Next(2) == 0 ? 0f : -0.125f);
            case 0: return Epilogue.None;
            case 1: return Epilogue.Relu;
            case 2: return new Epilogue(ActivationKind.Clip, -0.3f, 0.4f);
            default: return new Epilogue(ActivationKind.LeakyRelu, 0.1f);
        }
    }

    public static double Act(double v, Epilogue e) => e.Kind switch
    {
        ActivationKind.Relu => Math.Max(v, 0),
        ActivationKind.Clip => Math.Min(Math.Max(v, e.Alpha), e.Beta),
        ActivationKind.LeakyRelu => v >= 0 ? v : e.Alpha * v,
        ActivationKind.HardSwish => v * Math.Min(Math.Max(v + 3, 0), 6) / 6 * e.Alpha + e.Beta,
        _ => v,
    };
}

public unsafe class GemmTests
{
    private const float Sentinel = 12345.5f;

    private sealed class Case
    {
        public int M, N, K, Lda, Ldb, Ldc;
        public bool TA, TB;
        public float Alpha, Beta;
        public float[] A = [], B = [], C0 = [];
        public float[]? Bias;
        public Epilogue Epi;
    }

    private static Case MakeCase(Random r, int m, int n, int k, bool ta, bool tb, float alpha, float beta, bool bias, Epilogue epi, int extra)
    {
        var cs = new Case { M = m, N = n, K = k, TA = ta, TB = tb, Alpha = alpha, Beta = beta, Epi = epi };
        int aRows = ta ? k : m, aCols = ta ? m : k;
        int bRows = tb ? n : k, bCols = tb ? k : n;
        cs.Lda = aCols + extra; cs.Ldb = bCols + extra; cs.Ldc = n + extra;
        cs.A = KernelTestUtil.Rand(r, Math.Max(1, aRows * cs.Lda));
        cs.B = KernelTestUtil.Rand(r, Math.Max(1, bRows * cs.Ldb));
        cs.C0 = new float[Math.Max(1, m * cs.Ldc)];
        for (int i = 0; i < m; i++)
        for (int j = 0; j < cs.Ldc; j++)
            cs.C0[i * cs.Ldc + j] = j < n ? (beta == 0f ? float.NaN : (float)(r.NextDouble() * 2 - 1)) : Sentinel;
        cs.Bias = bias ? KernelTestUtil.Rand(r, Math.Max(1, n)) : null;
        return cs;
    }

    private delegate void GemmFn(int m, int n, int k, float* a, int lda, bool transA, float* b, int ldb, bool transB,
        float* c, int ldc, float alpha, float beta, float* bias, Epilogue epi);

    private static float[] Exec(Case cs, GemmFn fn)
    {
        var c = (float[])cs.C0.Clone();
        fixed (float* pa = cs.A, pb = cs.B, pc = c, pbias = cs.Bias)
            fn(cs.M, cs.N, cs.K, pa, cs.Lda, cs.TA, pb, cs.Ldb, cs.TB, pc, cs.Ldc, cs.Alpha, cs.Beta, cs.Bias == null ? null : pbias, cs.Epi);
        return c;
    }

    /// <summary>Straightforward double-precision reference.</summary>
    private static float[] Naive(Case cs)
    {
        var c = (float[])cs.C0.Clone();
        for (int i = 0; i < cs.M; i++)
        for (int j = 0; j < cs.N; j++)
        {
            double s = 0;
            for (int p = 0; p < cs.K; p++)
            {
                double av = cs.TA ? cs.A[p * cs.Lda + i] : cs.A[i * cs.Lda + p];
                double bv = cs.TB ? cs.B[j * cs.Ldb + p] : cs.B[p * cs.Ldb + j];
                s += av * bv;
            }
            double v = cs.Alpha * s;
            if (cs.Beta != 0f) v += cs.Beta * cs.C0[i * cs.Ldc + j];
            if (cs.Bias != null) v += cs.Bias[j];
            c[i * cs.Ldc + j] = (float)KernelTestUtil.Act(v, cs.Epi);
        }
        return c;
    }

    private static double Tol(Case cs) => 1e-5 * Math.Sqrt(cs.K + 1) * (1 + Math.Abs(cs.Alpha)) + 1e-5 * Math.Abs(cs.Beta);

    private static GemmFn WidthFn(int width) => width switch
    {
        512 => Gemm.RunV512,
        256 => Gemm.RunV256,
        _ => Gemm.RunV128,
    };

    private static IEnumerable<Case> RandomCases(int seed, int count, int maxDim)
    {
        var r = new Random(seed);
        for (int t = 0; t < count; t++)
        {
            int m = r.Next(maxDim + 1), n = r.Next(maxDim + 1), k = r.Next(maxDim + 1);
            float alpha = r.Next(3) == 0 ? 1f : (float)(r.NextDouble() * 3 - 1.5);
            float beta = r.Next(3) switch { 0 => 0f, 1 => 1f, _ => (float)(r.NextDouble() * 2 - 1) };
            yield return MakeCase(r, m, n, k, r.Next(2) == 0, r.Next(2) == 0, alpha, beta, r.Next(2) == 0,
                KernelTestUtil.RandomEpilogue(r), r.Next(3) == 0 ? r.Next(1, 5) : 0);
        }
    }

    private static IEnumerable<Case> EdgeCases()
    {
        var r = new Random(7);
        int[] dims = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31, 32, 33, 48, 65];
        foreach (int m in dims)
        foreach (int n in dims)
        {
            int k = dims[r.Next(dims.Length)];
            yield return MakeCase(r, m, n, k, r.Next(2) == 0, r.Next(2) == 0, 1f, r.Next(2) == 0 ? 0f : 0.5f,
                r.Next(2) == 0, KernelTestUtil.RandomEpilogue(r), 0);
        }
    }

    private static IEnumerable<Case> BlockingCases()
    {
        var r = new Random(11);
        // k > KC (several k blocks, accumulate mode), n > NC (several column blocks), m not multiple of 6.
        yield return MakeCase(r, 13, 300, 600, false, false, 1f, 0f, true, Epilogue.Relu, 0);
        yield return MakeCase(r, 70, 200, 300, true, true, 0.5f, 1f, false, Epilogue.None, 3);
        yield return MakeCase(r, 37, 150, 257, false, true, 1.25f, -0.5f, true, new Epilogue(ActivationKind.LeakyRelu, 0.2f), 0);
        yield return MakeCase(r, 8, 784, 25, false, false, 1f, 0f, true, Epilogue.Relu, 0);
        yield return MakeCase(r, 784, 8, 25, false, false, 1f, 0f, true, Epilogue.None, 0);
        yield return MakeCase(r, 64, 64, 64, true, false, 1f, 0f, false, Epilogue.None, 0);
        // GEMV shapes (m == 1), including MNIST's final layer.
        yield return MakeCase(r, 1, 10, 256, false, true, 1f, 0f, true, Epilogue.None, 0);
        yield return MakeCase(r, 1, 10, 256, false, false, 1f, 1f, true, Epilogue.None, 0);
        yield return MakeCase(r, 1, 150, 300, false, false, 0.7f, 0.3f, true, Epilogue.Relu, 2);
        yield return MakeCase(r, 1, 133, 301, true, true, 1f, 0f, false, new Epilogue(ActivationKind.Clip, -0.5f, 0.5f), 1);
        yield return MakeCase(r, 1, 77, 3, false, true, 1f, 0f, true, Epilogue.None, 0);
        yield return MakeCase(r, 1, 0, 5, false, true, 1f, 0f, true, Epilogue.None, 0);
    }

    [Fact]
    public void ScalarReferenceMatchesNaive()
    {
        foreach (var cs in RandomCases(1, 150, 40).Concat(BlockingCases()))
        {
            string ctx = $"m={cs.M} n={cs.N} k={cs.K} tA={cs.TA} tB={cs.TB} a={cs.Alpha} b={cs.Beta} bias={cs.Bias != null} epi={cs.Epi}";
            KernelTestUtil.AssertClose(Naive(cs), Exec(cs, Gemm.RunScalar), Tol(cs), 1e-5, "scalar " + ctx);
        }
    }

    [Fact]
    public void RunMatchesScalar()
    {
        foreach (var cs in RandomCases(2, 300, 70).Concat(EdgeCases()).Concat(BlockingCases()))
        {
            string ctx = $"m={cs.M} n={cs.N} k={cs.K} tA={cs.TA} tB={cs.TB} a={cs.Alpha} b={cs.Beta} bias={cs.Bias != null} epi={cs.Epi}";
            KernelTestUtil.AssertClose(Exec(cs, Gemm.RunScalar), Exec(cs, Gemm.Run), Tol(cs), 1e-5, "Run " + ctx);
        }
    }

    [Fact]
    public void EveryWidthMatchesNaive()
    {
        // Every accelerated per-width path, plus the public dispatcher (which is the scalar path without SIMD).
        var widths = new List<int> { -1 };
        widths.AddRange(KernelTestUtil.Widths());
        foreach (int width in widths)
        {
            var fn = width < 0 ? Gemm.Run : WidthFn(width);
            foreach (var cs in RandomCases(3 + width, 200, 70).Concat(EdgeCases()).Concat(BlockingCases()))
            {
                string ctx = $"V{width} m={cs.M} n={cs.N} k={cs.K} tA={cs.TA} tB={cs.TB} a={cs.Alpha} b={cs.Beta} bias={cs.Bias != null} epi={cs.Epi} ld+={cs.Ldc - cs.N}";
                KernelTestUtil.AssertClose(Naive(cs), Exec(cs, fn), Tol(cs), 1e-5, ctx);
            }
        }
    }

    [Fact]
    public void BetaZeroNeverReadsC_AndPaddingUntouched()
    {
        var r = new Random(5);
        foreach (int width in KernelTestUtil.Widths())
        {
            var cs = MakeCase(r, 23, 45, 37, false, false, 1f, 0f, true, Epilogue.None, 3);
            var c = Exec(cs, WidthFn(width));
            for (int i = 0; i < cs.M; i++)
            for (int j = 0; j < cs.Ldc; j++)
            {
                float v = c[i * cs.Ldc + j];
                if (j < cs.N) Assert.False(float.IsNaN(v), $"V{width}: NaN leaked from C at ({i},{j})");
                else Assert.Equal(Sentinel, v);
            }
        }
    }

    [Fact]
    public void KnownSmallProduct()
    {
        // [1 2 3; 4 5 6] x [7 8; 9 10; 11 12] = [58 64; 139 154]
        float[] a = [1, 2, 3, 4, 5, 6];
        float[] b = [7, 8, 9, 10, 11, 12];
        float[] bias = [1, -200];
        var c = new float[4];
        fixed (float* pa = a, pb = b, pc = c, pbias = bias)
            Gemm.Run(2, 2, 3, pa, 3, false, pb, 2, false, pc, 2, 1f, 0f, pbias, Epilogue.Relu);
        Assert.Equal([59f, 0f, 140f, 0f], c);
    }

    [Fact]
    public void EachEpilogueKind()
    {
        var r = new Random(9);
        Epilogue[] epis = [Epilogue.None, Epilogue.Relu, new(ActivationKind.Clip, -0.25f, 0.3f), new(ActivationKind.LeakyRelu, 0.05f)];
        foreach (var epi in epis)
        foreach (int m in new[] { 1, 7, 20 })
        {
            var cs = MakeCase(r, m, 37, 19, false, true, 1f, 0.5f, true, epi, 0);
            var expected = Naive(cs);
            KernelTestUtil.AssertClose(expected, Exec(cs, Gemm.Run), Tol(cs), 1e-5, $"epi={epi} m={m}");
            KernelTestUtil.AssertClose(expected, Exec(cs, Gemm.RunScalar), Tol(cs), 1e-5, $"scalar epi={epi} m={m}");
            if (epi.Kind == ActivationKind.Clip)
                Assert.All(Exec(cs, Gemm.Run), v => Assert.InRange(v, -0.25f, 0.3f));
        }
    }
}
