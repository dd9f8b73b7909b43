using System.Runtime.Intrinsics.X86;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The language-model kernels against their float references: int8-activation dot products, tile widening, the pool.</summary>
public unsafe class LlmKernelTests
{
    private static float[] Randn(int n, int seed, float std = 1f)
    {
        var r = new Random(seed);
        var a = new float[n];
        for (int i = 0; i < n; i++) a[i] = (float)(Math.Sqrt(-2 * Math.Log(1 - r.NextDouble())) * Math.Cos(2 * Math.PI * r.NextDouble())) * std;
        return a;
    }

    /// <summary>Every int8 decode path this machine supports (the test names say which ran) × Q8_0/Q4_0 × shapes.</summary>
    public static IEnumerable<object[]> SupportedDecodePaths()
    {
        foreach (var p in SupportedDecodePathList())
            foreach (var (q8, n, rows) in new[] { (true, 96, 37), (false, 96, 37), (true, 2048, 9), (false, 2048, 9), (false, 224, 5) })
                yield return new object[] { p.ToString(), q8, n, rows };
    }

    /// <summary>The GEMM's paths plus <see cref="BlockInt8Path.Avx512"/> (decode only) when this machine has AVX-512 BW.</summary>
    private static List<BlockInt8Path> SupportedDecodePathList()
    {
        var paths = SupportedPaths();
        if (Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported) paths.Add(BlockInt8Path.Avx512);
        return paths;
    }

    [Fact]
    public void Best_path_is_the_widest_the_machine_has()
    {
        var expected = System.Runtime.Intrinsics.Vector512.IsHardwareAccelerated && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.Avx512
            : AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.AvxVnni
            : Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.Avx2
            : BlockInt8Path.Scalar;
        Assert.Equal(expected, BlockQuantGemm.BestPath);
    }

    /// <summary>
    /// Every decode path this machine has × Q8_0/Q4_0 × n = 32·k for k = 1..9 and 24, 64 (the 4-block steps and every leftover count),
    /// on a row range that starts and ends mid-matrix; the scales include negative, zero, subnormal and large fp16 values.
    /// </summary>
    public static IEnumerable<object[]> DecodeRangeCases()
    {
        var ks = new[] { 1, 2, 3, 4, 5, 6, 7, 8, 9, 12, 13, 24, 64 };
        foreach (var p in SupportedDecodePathList())
            foreach (bool q8 in new[] { true, false })
                foreach (int k in ks)
                    yield return new object[] { p == BlockInt8Path.Avx512 && !q8 ? Avx512Q4Variant : p.ToString(), q8, 32 * k };
        // the Q4_0 AVX-512 kernel's other nibble unpacking (the path uses GFNI where the machine has it)
        if (Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported && Gfni.V512.IsSupported)
            foreach (int k in ks) yield return new object[] { "Avx512+shift", false, 32 * k };
    }

    /// <summary>The name of the Q4_0 kernel the Avx512 path runs on this machine.</summary>
    private static string Avx512Q4Variant => Gfni.V512.IsSupported ? "Avx512+gfni" : "Avx512+shift";

    [Theory]
    [MemberData(nameof(DecodeRangeCases))]
    public void Int8_decode_products_on_a_row_range_match_the_scalar_reference(string path, bool q8, int n)
    {
        var p = Enum.Parse<BlockInt8Path>(path.Split('+')[0]);
        if (p == BlockInt8Path.Avx512 && !q8) Assert.True(path == Avx512Q4Variant || path == "Avx512+shift", $"{path} is not what this machine runs");
        int rows = 13, r0 = 3, r1 = 12, nb = n / 32, blockBytes = q8 ? 34 : 18;
        var rnd = new Random(n + (q8 ? 1 : 0));
        var w = new byte[rows * nb * blockBytes];
        rnd.NextBytes(w);
        ushort[] special = { 0x0000, 0x8000, 0x0001, 0x83FF, 0x03FF, 0x7BFF, 0xFBFF, 0x0400 };
        for (int b = 0; b < rows * nb; b++)
        {
            // mostly normal scales of either sign around 0.01, sometimes one of the special values
            ushort h = rnd.Next(6) == 0 ? special[rnd.Next(special.Length)] : BitConverter.HalfToUInt16Bits((Half)((rnd.NextDouble() - 0.5) * 0.04));
            w[b * blockBytes] = (byte)h;
            w[b * blockBytes + 1] = (byte)(h >> 8);
        }
        var x = Randn(n, 7);
        var xq = new sbyte[2 * n];
        var xd = new float[nb];
        var y = new float[rows];
        var yRef = new float[rows];
        fixed (float* px = x, pd = xd, py = y, pr = yRef)
        fixed (byte* pw = w)
        fixed (sbyte* pq = xq)
        {
            BlockQuant.QuantizeActivations(px, pq, pd, n);
            for (int i = 0; i < rows; i++) { py[i] = float.NaN; pr[i] = float.NaN; }
            if (q8)
            {
                BlockQuant.MatVecQ8_0Q8(pw, pq, pd, py, n, r0, r1, p);
                BlockQuant.MatVecQ8_0Q8Scalar(pw, pq, pd, pr, n, r0, r1);
            }
            else
            {
                if (path == "Avx512+shift") BlockQuant.MatVecQ4_0Q8Avx512<BlockQuant.ShiftNibbles>(pw, pq, pd, py, n, r0, r1);
                else BlockQuant.MatVecQ4_0Q8(pw, pq, pd, py, n, r0, r1, p);
                BlockQuant.MatVecQ4_0Q8Scalar(pw, pq, pd, pr, n, r0, r1);
            }
        }
        // Same exact int32 block sums and the same d_w·d_x products; only the float summation order differs. The bound is
        // relative to Σ|terms| (the terms here are of mixed sign and huge next to tiny ones, so the sum can cancel).
        for (int i = 0; i < rows; i++)
        {
            if (i < r0 || i >= r1) { Assert.True(float.IsNaN(y[i]), $"{path}: row {i} outside [{r0}, {r1}) was written"); continue; }
            double mag = 0;
            for (int b = 0; b < nb; b++)
            {
                double dw = (double)BitConverter.UInt16BitsToHalf((ushort)(w[(i * nb + b) * blockBytes] | w[(i * nb + b) * blockBytes + 1] << 8));
                mag += Math.Abs(dw * xd[b]) * 127 * (q8 ? 128 : 8) * 32;
            }
            Assert.True(Math.Abs(y[i] - yRef[i]) <= 1e-6 * mag, $"{path} n {n} row {i}: {y[i]} vs scalar {yRef[i]} (Σ|terms| ≤ {mag})");
        }
    }

    private static List<BlockInt8Path> SupportedPaths()
    {
        var paths = new List<BlockInt8Path> { BlockInt8Path.Scalar };
        if (Avx2.IsSupported && Fma.IsSupported) paths.Add(BlockInt8Path.Avx2);
        if (AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported) paths.Add(BlockInt8Path.AvxVnni);
        return paths;
    }

    [Theory]
    [MemberData(nameof(SupportedDecodePaths))]
    public void Int8_activation_dot_products_match_the_float_path_and_the_scalar_reference(string path, bool q8, int n, int rows)
    {
        var p = Enum.Parse<BlockInt8Path>(path);
        var wf = Randn(rows * n, 1, 0.02f);
        var x = Randn(n, 2);
        int blockBytes = q8 ? 34 : 18;
        var w = new byte[rows * n / 32 * blockBytes];
        var xq = new sbyte[2 * n];
        var xd = new float[n / 32];
        float[] yFloat = new float[rows], yInt = new float[rows], yScalar = new float[rows];
        fixed (float* pwf = wf, px = x, pd = xd, py0 = yFloat, py1 = yInt, py2 = yScalar)
        fixed (byte* pw = w)
        fixed (sbyte* pq = xq)
        {
            if (q8) BlockQuant.QuantizeQ8_0(pwf, pw, wf.Length); else BlockQuant.QuantizeQ4_0(pwf, pw, wf.Length);
            BlockQuant.QuantizeActivations(px, pq, pd, n);
            for (int i = 0; i < n; i++) Assert.True(Math.Abs(pq[i] * pd[i / 32] - x[i]) <= pd[i / 32] * 0.5001f, $"x[{i}]");
            if (q8)
            {
                BlockQuant.MatVecQ8_0(pw, px, py0, n, 0, rows);
                BlockQuant.MatVecQ8_0Q8(pw, pq, pd, py1, n, 0, rows, p);
                BlockQuant.MatVecQ8_0Q8Scalar(pw, pq, pd, py2, n, 0, rows);
            }
            else
            {
                BlockQuant.MatVecQ4_0(pw, px, py0, n, 0, rows);
                BlockQuant.MatVecQ4_0Q8(pw, pq, pd, py1, n, 0, rows, p);
                BlockQuant.MatVecQ4_0Q8Scalar(pw, pq, pd, py2, n, 0, rows);
            }
        }
        // The SIMD and scalar integer paths differ only in float summation order; against the float-activation reference the
        // difference is the int8 rounding of x: |Σ w·(x - x̂)| ≤ Σ|w|·d/2, a few percent of the output scale here.
        double scale = Math.Sqrt(yFloat.Select(v => (double)v * v).Average());
        for (int i = 0; i < rows; i++)
        {
            Assert.True(Math.Abs(yInt[i] - yScalar[i]) <= 1e-5 * scale + 1e-5 * Math.Abs(yScalar[i]), $"row {i}: {yInt[i]} vs scalar {yScalar[i]}");
            Assert.True(Math.Abs(yInt[i] - yFloat[i]) <= 0.03 * scale, $"row {i}: {yInt[i]} vs float {yFloat[i]} (scale {scale})");
        }
    }

    /// <summary>Every int8 GEMM path this machine supports (the test names say which ran), each with Q8_0 and Q4_0 and edge shapes.</summary>
    public static IEnumerable<object[]> SupportedInt8Paths()
    {
        var paths = SupportedPaths();
        // the AVX-512 GEMM: Q4_0 with n a multiple of 256 has its own kernel; other shapes and Q8_0 run the best 256-bit one
        if (Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported) paths.Add(BlockInt8Path.Avx512);
        foreach (var p in paths)
            foreach (bool q8 in new[] { true, false })
                foreach (var (tokens, n, rows) in new[] { (7, 96, 37), (64, 2048, 10), (5, 768, 3), (6, 512, 7) })
                    yield return new object[] { p.ToString(), q8, tokens, n, rows };
    }

    [Theory]
    [MemberData(nameof(SupportedInt8Paths))]
    public void Int8_prompt_gemm_matches_the_decode_products_and_the_float_path(string path, bool q8, int tokens, int n, int rows)
    {
        var p = Enum.Parse<BlockInt8Path>(path);
        var wf = Randn(rows * n, 11, 0.02f);
        var x = Randn(tokens * n, 12);
        var w = new byte[rows * n / 32 * (q8 ? 34 : 18)];
        var xq = new sbyte[tokens * n];
        var xd = new float[tokens * n / 32];
        var xq1 = new sbyte[2 * n];
        var xd1 = new float[n / 32];
        int ldy = rows + 3;
        var y = new float[tokens * ldy];
        var yRef = new float[rows];
        var yFloat = new float[rows];
        fixed (float* pwf = wf, px = x, pd = xd, pd1 = xd1, py = y, pr = yRef, pf = yFloat)
        fixed (byte* pw = w)
        fixed (sbyte* pq = xq, pq1 = xq1)
        {
            if (q8) BlockQuant.QuantizeQ8_0(pwf, pw, wf.Length); else BlockQuant.QuantizeQ4_0(pwf, pw, wf.Length);
            BlockQuantGemm.QuantizeRows(px, pq, pd, tokens, n);
            for (int i = 0; i < y.Length; i++) py[i] = float.NaN;
            BlockQuantGemm.MatMul(q8 ? WeightFormat.Q8_0 : WeightFormat.Q4_0, pw, pq, pd, tokens, n, py, ldy, 0, rows, p);
            if (p == BlockInt8Path.Avx512 && !q8 && n % 256 == 0)
            {
                // activations regrouped once for all shares (LlmParallel.MatMul) give the same bits as regrouping per share
                var regrouped = new byte[BlockQuantGemm.RegroupedBytes(tokens, n)];
                var y2 = new float[y.Length];
                fixed (byte* pg = regrouped)
                fixed (float* py2 = y2)
                {
                    for (int i = 0; i < y2.Length; i++) py2[i] = float.NaN;
                    BlockQuantGemm.Regroup(pq, pd, tokens, n, pg);
                    BlockQuantGemm.MatMul(WeightFormat.Q4_0, pw, pq, pd, tokens, n, py2, ldy, 0, rows, p, pg);
                }
                for (int i = 0; i < y.Length; i++) Assert.Equal(BitConverter.SingleToInt32Bits(y[i]), BitConverter.SingleToInt32Bits(y2[i]));
            }
            for (int t = 0; t < tokens; t++)
            {
                // the decode path's scalar reference on the same token, quantized the same way
                BlockQuant.QuantizeActivations(px + (long)t * n, pq1, pd1, n);
                for (int i = 0; i < n; i++) Assert.Equal(pq1[i], pq[(long)t * n + i]);
                if (q8) { BlockQuant.MatVecQ8_0Q8Scalar(pw, pq1, pd1, pr, n, 0, rows); BlockQuant.MatVecQ8_0(pw, px + (long)t * n, pf, n, 0, rows); }
                else { BlockQuant.MatVecQ4_0Q8Scalar(pw, pq1, pd1, pr, n, 0, rows); BlockQuant.MatVecQ4_0(pw, px + (long)t * n, pf, n, 0, rows); }
                double scale = Math.Sqrt(yFloat.Select(v => (double)v * v).Average());
                for (int i = 0; i < rows; i++)
                {
                    float got = py[(long)t * ldy + i];
                    Assert.True(Math.Abs(got - yRef[i]) <= 1e-5 * scale + 1e-5 * Math.Abs(yRef[i]), $"{path} t {t} row {i}: {got} vs scalar {yRef[i]}");
                    Assert.True(Math.Abs(got - yFloat[i]) <= 0.03 * scale, $"{path} t {t} row {i}: {got} vs float {yFloat[i]}");
                }
                for (int i = rows; i < ldy && t < tokens - 1; i++) Assert.True(float.IsNaN(py[(long)t * ldy + i]), $"wrote past the rows at t {t}");
            }
        }
    }

    [Fact]
    public void SwiGlu_matches_the_scalar_reference()
    {
        int n = 2048 + 5;
        var g = Randn(n, 21, 4f);
        var u = Randn(n, 22);
        g[0] = 90f; g[1] = -90f; g[2] = 0f;
        var g2 = (float[])g.Clone();
        fixed (float* pg = g, pu = u, pg2 = g2)
        {
            Transformer.SwiGlu(pg, pu, n);
            Transformer.SwiGluScalar(pg2, pu, n);
        }
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(g[i] - g2[i]) <= 2e-6f * (Math.Abs(g2[i]) + 1e-3f), $"{i}: {g[i]} vs {g2[i]}");
    }

    [Theory]
    [InlineData(KvFormat.F16, 37, 16)]
    [InlineData(KvFormat.Int8, 37, 16)]
    [InlineData(KvFormat.F16, 8, 16)]
    [InlineData(KvFormat.Int8, 3, 16)]
    [InlineData(KvFormat.F16, 75, 64)]   // 32-position score blocks and 64-output register blocks
    [InlineData(KvFormat.Int8, 75, 64)]
    [InlineData(KvFormat.F16, 41, 72)]   // a 64-output block and an 8-wide tail
    [InlineData(KvFormat.Int8, 41, 72)]
    public void Compressed_kv_attention_matches_float_attention_over_the_decoded_cache(KvFormat kv, int len, int hs)
    {
        int heads = 4, kvHeads = 2, kvDim = kvHeads * hs, maxLen = len + 3;
        var q = Randn(heads * hs, 31);
        var keys = Randn(maxLen * kvDim, 32, 2f);
        var vals = Randn(maxLen * kvDim, 33);
        var kT = new float[kvDim * maxLen];
        var vF = new float[maxLen * kvDim];
        var kH = new Half[kvDim * maxLen];
        var vH = new Half[maxLen * kvDim];
        var k8 = new sbyte[kvDim * maxLen];
        var v8 = new sbyte[maxLen * kvDim];
        var ks = new float[kvHeads * maxLen];
        var vs = new float[maxLen * kvHeads];
        var o1 = new float[heads * hs];
        var o2 = new float[heads * hs];
        var scratch = new float[maxLen + 16];
        fixed (float* pq = q, pk = keys, pv = vals, pkT = kT, pvF = vF, pks = ks, pvs = vs, p1 = o1, p2 = o2, ps = scratch)
        fixed (Half* pkH = kH, pvH = vH)
        fixed (sbyte* pk8 = k8, pv8 = v8)
        {
            for (int t = 0; t < len; t++)
            {
                if (kv == KvFormat.F16)
                {
                    KvCache.StoreKeyTF16(pk + t * kvDim, pkH, kvDim, maxLen, t);
                    KvCache.StoreValueF16(pv + t * kvDim, pvH + t * kvDim, kvDim);
                }
                else
                {
                    KvCache.StoreKeyTInt8(pk + t * kvDim, pk8, pks, kvDim, hs, maxLen, t);
                    KvCache.StoreValueInt8(pv + t * kvDim, pv8 + t * kvDim, pvs + t * kvHeads, kvDim, hs);
                }
                // the float cache holds the decoded values, so both attentions see the same numbers
                for (int i = 0; i < kvDim; i++)
                {
                    kT[i * maxLen + t] = kv == KvFormat.F16 ? (float)kH[i * maxLen + t] : k8[i * maxLen + t] * ks[i / hs * maxLen + t];
                    vF[t * kvDim + i] = kv == KvFormat.F16 ? (float)vH[t * kvDim + i] : v8[t * kvDim + i] * vs[t * kvHeads + i / hs];
                    float orig = keys[t * kvDim + i], dec = kT[i * maxLen + t];
                    Assert.True(Math.Abs(orig - dec) <= (kv == KvFormat.F16 ? 1e-3f * Math.Abs(orig) + 1e-7f : ks[i / hs * maxLen + t] * 0.5001f), $"key {t},{i}: {dec} vs {orig}");
                }
            }
            Transformer.AttentionT(pq, pkT, pvF, p1, heads, kvHeads, hs, len, maxLen, ps);
            if (kv == KvFormat.F16) KvCache.AttentionTF16(pq, pkH, pvH, p2, heads, kvHeads, hs, len, maxLen, ps);
            else KvCache.AttentionTInt8(pq, pk8, pks, pv8, pvs, p2, heads, kvHeads, hs, len, maxLen, ps);
        }
        for (int i = 0; i < o1.Length; i++) Assert.True(Math.Abs(o1[i] - o2[i]) <= 1e-5f * (1 + Math.Abs(o1[i])), $"{kv} out {i}: {o2[i]} vs {o1[i]}");
    }

    [Fact]
    public void Half_widening_is_exact_for_every_finite_half()
    {
        for (int b = 0; b < 65536; b++)
        {
            var h = BitConverter.UInt16BitsToHalf((ushort)b);
            if (!Half.IsFinite(h)) continue;
            Assert.Equal((float)h, BlockQuant.HalfToFloat(h));
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Dequantized_rows_match_the_scalar_dequantization(bool q8)
    {
        int n = 64, rows = 5;
        var wf = Randn(rows * n, 3, 0.5f);
        var w = new byte[rows * n / 32 * (q8 ? 34 : 18)];
        var a = new float[rows * n];
        var b = new float[3 * n];
        fixed (float* pwf = wf, pa = a, pb = b)
        fixed (byte* pw = w)
        {
            if (q8) BlockQuant.QuantizeQ8_0(pwf, pw, wf.Length); else BlockQuant.QuantizeQ4_0(pwf, pw, wf.Length);
            if (q8) BlockQuant.DequantizeQ8_0(pw, pa, a.Length); else BlockQuant.DequantizeQ4_0(pw, pa, a.Length);
            if (q8) BlockQuant.DequantizeRowsQ8_0(pw, pb, n, 1, 4); else BlockQuant.DequantizeRowsQ4_0(pw, pb, n, 1, 4);
        }
        for (int i = 0; i < 3 * n; i++) Assert.Equal(a[n + i], b[i]);
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Pool_products_match_single_thread_results(int threads)
    {
        int n = 256, rows = 300, tokens = 7;
        var wf = Randn(rows * n, 4, 0.05f);
        var x = Randn(tokens * n, 5);
        var w4 = new byte[rows * n / 32 * 18];
        var xq = new sbyte[2 * n];
        var xd = new float[n / 32];
        var y1 = new float[rows];
        var y2 = new float[rows];
        var ym = new float[tokens * rows];
        var yr = new float[rows];
        using var pool = new WorkerPool(threads, LlmParallel.ScratchFloats * 4);
        fixed (float* pwf = wf, px = x, pd = xd, p1 = y1, p2 = y2, pm = ym, pr = yr)
        fixed (byte* pw = w4)
        fixed (sbyte* pq = xq)
        {
            BlockQuant.QuantizeQ4_0(pwf, pw, wf.Length);
            for (int rep = 0; rep < 20; rep++)
            {
                LlmParallel.MatVec(pool, WeightFormat.Q4_0, n, px, pq, pd, pw, p1, 100, pw + 100 * (n / 32) * 18, p1 + 100, 150, pw + 250 * (n / 32) * 18, p1 + 250, 50);
                BlockQuant.MatVecQ4_0Q8(pw, pq, pd, p2, n, 0, rows);
                for (int i = 0; i < rows; i++) Assert.Equal(y2[i], y1[i]);
            }
            // Prompt products: GEMM over widened tiles against per-token float matrix-vector products.
            LlmParallel.MatMul(pool, WeightFormat.Q4_0, tokens, n, px, pw, rows, pm, rows);
            for (int t = 0; t < tokens; t++)
            {
                BlockQuant.MatVecQ4_0(pw, px + t * n, pr, n, 0, rows);
                for (int i = 0; i < rows; i++) Assert.True(Math.Abs(ym[t * rows + i] - yr[i]) <= 1e-4f * (1 + Math.Abs(yr[i])), $"t {t} row {i}");
            }
            // The same through the int8 GEMM: against per-token int8 matrix-vector products.
            var gq = new sbyte[tokens * n];
            var gd = new float[tokens * n / 32];
            fixed (sbyte* pgq = gq)
            fixed (float* pgd = gd)
            {
                LlmParallel.MatMul(pool, WeightFormat.Q4_0, tokens, n, px, pw, rows, pm, rows, pgq, pgd);
                for (int t = 0; t < tokens; t++)
                {
                    BlockQuant.QuantizeActivations(px + t * n, pq, pd, n);
                    BlockQuant.MatVecQ4_0Q8Scalar(pw, pq, pd, pr, n, 0, rows);
                    for (int i = 0; i < rows; i++) Assert.True(Math.Abs(ym[t * rows + i] - yr[i]) <= 1e-4f * (1 + Math.Abs(yr[i])), $"int8 t {t} row {i}");
                }
            }
            LlmParallel.MatMul(pool, WeightFormat.F32, tokens, n, px, (byte*)pwf, rows, pm, rows);
            for (int t = 0; t < tokens; t++)
            {
                Transformer.MatVec(pwf, px + t * n, pr, n, 0, rows);
                for (int i = 0; i < rows; i++) Assert.True(Math.Abs(ym[t * rows + i] - yr[i]) <= 1e-4f * (1 + Math.Abs(yr[i])), $"f32 t {t} row {i}");
            }
        }
    }

    private static byte[] Pack(float[] w, WeightFormat fmt)
    {
        if (fmt == WeightFormat.F32) return System.Runtime.InteropServices.MemoryMarshal.AsBytes(w.AsSpan()).ToArray();
        var b = new byte[w.Length / 32 * (fmt == WeightFormat.Q8_0 ? 34 : 18)];
        fixed (float* pw = w)
        fixed (byte* pb = b)
        {
            if (fmt == WeightFormat.Q8_0) BlockQuant.QuantizeQ8_0(pw, pb, w.Length);
            else BlockQuant.QuantizeQ4_0(pw, pb, w.Length);
        }
        return b;
    }

    [Theory]
    [InlineData(KvFormat.F32, WeightFormat.F32, 1)]
    [InlineData(KvFormat.F32, WeightFormat.Q8_0, 2)]
    [InlineData(KvFormat.F32, WeightFormat.Q4_0, 3)]
    [InlineData(KvFormat.F16, WeightFormat.Q8_0, 2)]
    [InlineData(KvFormat.Int8, WeightFormat.Q4_0, 2)]
    [InlineData(KvFormat.Int8, WeightFormat.F32, 1)]
    public void Decode_attention_job_gives_the_results_of_the_separate_steps(KvFormat kv, WeightFormat fmt, int threads)
    {
        // The pool job (per KV head: RoPE on its keys, cache store, then its query heads' RoPE and attention) against the steps
        // one after the other over all heads on one thread: the same values bit for bit, caches included, at every position
        // (45 positions: from position 31 on, 32 positions × 1,024 multiply-adds, the job runs on the pool).
        int n = 256, heads = 8, kvHeads = 2, hs = 64, dim = heads * hs, kvDim = kvHeads * hs, maxLen = 48, steps = 45;
        byte[] wq = Pack(Randn(dim * n, 41, 0.1f), fmt), wk = Pack(Randn(kvDim * n, 42, 0.1f), fmt), wv = Pack(Randn(kvDim * n, 43, 0.1f), fmt);
        var bq = Randn(dim, 44); var bk = Randn(kvDim, 45); var bv = Randn(kvDim, 46);
        int elem = kv switch { KvFormat.F16 => 2, KvFormat.Int8 => 1, _ => 4 };
        byte[] kc1 = new byte[kvDim * maxLen * elem], kc2 = new byte[kc1.Length], vc1 = new byte[kc1.Length], vc2 = new byte[kc1.Length];
        float[] ks1 = new float[kvHeads * maxLen], ks2 = new float[ks1.Length], vs1 = new float[ks1.Length], vs2 = new float[ks1.Length];
        float[] q1 = new float[dim], q2 = new float[dim], k1 = new float[kvDim], k2 = new float[kvDim], v1 = new float[kvDim], v2 = new float[kvDim];
        float[] o1 = new float[dim], o2 = new float[dim], cosT = new float[maxLen * hs / 2], sinT = new float[maxLen * hs / 2];
        var xq = new sbyte[2 * n];
        var xd = new float[n / 32];
        var scratch = new float[maxLen + 16];
        using var pool = new WorkerPool(threads, (maxLen + 16) * 4);
        using var single = new WorkerPool(1);
        fixed (byte* pwq = wq, pwk = wk, pwv = wv, pk1 = kc1, pk2 = kc2, pv1 = vc1, pv2 = vc2)
        fixed (float* pbq = bq, pbk = bk, pbv = bv, pks1 = ks1, pks2 = ks2, pvs1 = vs1, pvs2 = vs2, pq1 = q1, pq2 = q2, pkk1 = k1, pkk2 = k2, pvv1 = v1, pvv2 = v2)
        fixed (float* po1 = o1, po2 = o2, pc = cosT, ps = sinT, pd = xd, psc = scratch)
        fixed (sbyte* pxq = xq)
        {
            Transformer.RopeTable(pc, ps, maxLen, hs, 10000f);
            for (int pos = 0; pos < steps; pos++)
            {
                var x = Randn(n, 100 + pos);
                fixed (float* px = x)
                {
                    float* cos = pc + pos * hs / 2, sin = ps + pos * hs / 2;
                    float* vrow1 = kv == KvFormat.F32 ? (float*)pv1 + pos * kvDim : pvv1;
                    LlmParallel.MatVec(pool, fmt, n, px, pxq, pd, pwq, pq1, dim, pwk, pkk1, kvDim, pwv, vrow1, kvDim);
                    Transformer.AddInPlace(pq1, pbq, dim);
                    Transformer.AddInPlace(pkk1, pbk, kvDim);
                    Transformer.AddInPlace(vrow1, pbv, kvDim);
                    LlmParallel.DecodeAttention(pool, kv, pq1, pkk1, vrow1, cos, sin, pk1, pv1, pks1, pvs1, po1, heads, kvHeads, hs, pos, maxLen, prefetch: threads > 1);
                    // the separate steps
                    float* vrow = kv == KvFormat.F32 ? (float*)pv2 + pos * kvDim : pvv2;
                    LlmParallel.MatVec(single, fmt, n, px, pxq, pd, pwq, pq2, dim, pwk, pkk2, kvDim, pwv, vrow, kvDim);
                    Transformer.AddInPlace(pq2, pbq, dim);
                    Transformer.AddInPlace(pkk2, pbk, kvDim);
                    Transformer.AddInPlace(vrow, pbv, kvDim);
                    Transformer.Rope(pq2, dim, hs, cos, sin);
                    Transformer.Rope(pkk2, kvDim, hs, cos, sin);
                    switch (kv)
                    {
                        case KvFormat.F16:
                            KvCache.StoreKeyTF16(pkk2, (Half*)pk2, kvDim, maxLen, pos);
                            KvCache.StoreValueF16(pvv2, (Half*)pv2 + pos * kvDim, kvDim);
                            KvCache.AttentionTF16(pq2, (Half*)pk2, (Half*)pv2, po2, heads, kvHeads, hs, pos + 1, maxLen, psc);
                            break;
                        case KvFormat.Int8:
                            KvCache.StoreKeyTInt8(pkk2, (sbyte*)pk2, pks2, kvDim, hs, maxLen, pos);
                            KvCache.StoreValueInt8(pvv2, (sbyte*)pv2 + pos * kvDim, pvs2 + pos * kvHeads, kvDim, hs);
                            KvCache.AttentionTInt8(pq2, (sbyte*)pk2, pks2, (sbyte*)pv2, pvs2, po2, heads, kvHeads, hs, pos + 1, maxLen, psc);
                            break;
                        default:
                            Transformer.StoreKeyT(pkk2, (float*)pk2, kvDim, maxLen, pos);
                            Transformer.AttentionT(pq2, (float*)pk2, (float*)pv2, po2, heads, kvHeads, hs, pos + 1, maxLen, psc);
                            break;
                    }
                }
                for (int i = 0; i < dim; i++) Assert.True(o1[i] == o2[i] && q1[i] == q2[i], $"pos {pos} out {i}: {o1[i]} vs {o2[i]} (q {q1[i]} vs {q2[i]})");
            }
        }
        Assert.Equal(kc2, kc1);
        Assert.Equal(vc2, vc1);
        Assert.Equal(ks2, ks1);
        Assert.Equal(vs2, vs1);
    }

    [Theory]
    [InlineData(WeightFormat.Q8_0, 1)]
    [InlineData(WeightFormat.Q8_0, 2)]
    [InlineData(WeightFormat.Q4_0, 3)]
    [InlineData(WeightFormat.F32, 2)]
    public void Gate_up_swiglu_job_gives_the_results_of_the_separate_steps(WeightFormat fmt, int threads)
    {
        // 301 rows: chunk boundaries fall on multiples of 16 and the last 5 rows take SwiGLU's scalar tail, as in one call.
        int n = 128, rows = 301;
        byte[] wg = Pack(Randn(rows * n, 51, 0.2f), fmt), wu = Pack(Randn(rows * n, 52, 0.2f), fmt);
        var x = Randn(n, 53);
        float[] g1 = new float[rows], u1 = new float[rows], g2 = new float[rows], u2 = new float[rows];
        var xq = new sbyte[2 * n];
        var xd = new float[n / 32];
        using var pool = new WorkerPool(threads);
        using var single = new WorkerPool(1);
        fixed (byte* pg = wg, pu = wu)
        fixed (float* px = x, pg1 = g1, pu1 = u1, pg2 = g2, pu2 = u2, pd = xd)
        fixed (sbyte* pxq = xq)
        {
            for (int rep = 0; rep < 10; rep++)
            {
                LlmParallel.GateUpSwiGlu(pool, fmt, n, px, pxq, pd, pg, pg1, pu, pu1, rows);
                LlmParallel.MatVec(single, fmt, n, px, pxq, pd, pg, pg2, rows, pu, pu2, rows);
                Transformer.SwiGlu(pg2, pu2, rows);
                for (int i = 0; i < rows; i++) Assert.True(g1[i] == g2[i] && u1[i] == u2[i], $"rep {rep} row {i}: {g1[i]} vs {g2[i]}");
            }
        }
    }

    [Theory]
    [InlineData(8, 1)]
    [InlineData(8, 37)]
    [InlineData(64, 100)]
    [InlineData(72, 33)]
    [InlineData(128, 70)]
    public void Transposed_attention_matches_the_row_major_attention(int hs, int len)
    {
        // AttentionT (keys transposed, scores 32 positions at a time, outputs accumulated 64 at a time in registers, the rest
        // through Axpy) against Attention (keys row-major, one dot product per position, Axpy per position), 2 query heads per KV head.
        int heads = 4, kvHeads = 2, kvDim = kvHeads * hs, maxLen = len + 5;
        var q = Randn(heads * hs, 61);
        var keys = Randn(maxLen * kvDim, 62);
        var vals = Randn(maxLen * kvDim, 63);
        var kT = new float[kvDim * maxLen];
        for (int t = 0; t < maxLen; t++)
            for (int i = 0; i < kvDim; i++) kT[i * maxLen + t] = keys[t * kvDim + i];
        var o1 = new float[heads * hs];
        var o2 = new float[heads * hs];
        var scratch = new float[maxLen + 16];
        fixed (float* pq = q, pk = keys, pv = vals, pkT = kT, p1 = o1, p2 = o2, ps = scratch)
        {
            Transformer.Attention(pq, pk, pv, p1, heads, kvHeads, hs, len, ps);
            Transformer.AttentionT(pq, pkT, pv, p2, heads, kvHeads, hs, len, maxLen, ps);
        }
        for (int i = 0; i < o1.Length; i++) Assert.True(Math.Abs(o1[i] - o2[i]) <= 1e-5f * (1 + Math.Abs(o1[i])), $"hs {hs} len {len} out {i}: {o2[i]} vs {o1[i]}");
    }
}
