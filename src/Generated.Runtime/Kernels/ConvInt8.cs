using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// int8 convolution, NCHW, for weights quantized at compile time (<c>llmaot build --quantize int8</c>): symmetric, one scale
/// per output channel, w ≈ wScale[o]·q[o, k] with q in [-127, 127]. Activations are quantized on the fly, one scale per
/// pixel (the reduction runs over channels, so every pixel may have its own): s[p] = max_c |x[c, p]| / 127,
/// q = round(x / s) (ties to even). Then y[o, p] = epi(float(Σ_k q_w·q_x)·(s[p]·wScale[o]) + bias[o]).
/// <para>
/// The integer dot products run on AVX-VNNI (<c>vpdpbusd</c>: the activations offset by +128 to unsigned, corrected by
/// 128·Σ_k q_w, precomputed per channel), else on AVX-512BW or AVX2 <c>vpmaddubsw</c> with the sign moved from the weight to
/// the activation (|w|·sign(x, w): both at most 127, so the int16 pair sums never saturate), else on Arm64 <c>sdot</c>,
/// else scalar. Every path computes the same exact int32 sums and the same float epilogue, so all agree with the scalar
/// reference.
/// </para>
/// <para>
/// Packed weight layout (<see cref="PackWeights"/>): output channels in blocks of <see cref="OcBlock"/>, the reduction in
/// groups of 4: wp[((ob·k4 + g)·OcBlock + j)·4 + t] = q[ob·OcBlock + j, 4g + t] (zero past m or k). Activations of a tile of
/// <see cref="TilePixels"/> pixels are quantized into scratch as xq[(g·16 + p)·4 + t] = q_x[4g + t, p], so one 32-byte load
/// holds 4 channels of 8 pixels and one broadcast int holds 4 channels of a weight row.
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvInt8
{
    /// <summary>Output channels per packed weight block (and per register tile).</summary>
    public const int OcBlock = 6;

    /// <summary>Pixels per register tile.</summary>
    public const int TilePixels = 16;

    /// <summary>The scalar reference.</summary>
    internal const int PathScalar = 0;
    /// <summary>AVX2 vpmaddubsw + vpmaddwd.</summary>
    internal const int PathAvx2 = 1;
    /// <summary>AVX-512BW vpmaddubsw + vpmaddwd on whole 16-pixel tiles.</summary>
    internal const int PathAvx512 = 2;
    /// <summary>AVX-VNNI vpdpbusd.</summary>
    internal const int PathVnni = 3;
    /// <summary>Arm64 sdot.</summary>
    internal const int PathArmDot = 4;

    /// <summary>The fastest path this machine has.</summary>
    internal static int BestPath =>
        AvxVnni.IsSupported ? PathVnni :
        Avx512BW.IsSupported ? PathAvx512 :
        Avx2.IsSupported ? PathAvx2 :
        Dp.IsSupported ? PathArmDot : PathScalar;

    /// <summary>True when the machine supports <paramref name="path"/>.</summary>
    internal static bool Supports(int path) => path switch
    {
        PathScalar => true,
        PathAvx2 => Avx2.IsSupported,
        PathAvx512 => Avx512BW.IsSupported,
        PathVnni => AvxVnni.IsSupported,
        PathArmDot => Dp.IsSupported,
        _ => false,
    };

    /// <summary>Name of a path, for tests and benchmarks.</summary>
    internal static string PathName(int path) => path switch
    {
        PathAvx2 => "avx2", PathAvx512 => "avx512bw", PathVnni => "avxvnni", PathArmDot => "arm64-dotprod", _ => "scalar",
    };

    // ------------------------------------------------------------------ compile-time helpers

    /// <summary>Groups of 4 along the reduction.</summary>
    public static int K4(int k) => (k + 3) / 4;

    /// <summary>
    /// Quantizes w [m, k] per output channel: scale[o] = max|w[o, :]| / 127 and q = round(w / scale) (ties to even),
    /// so q is in [-127, 127]; an all-zero row gets scale 0 and q 0. Then the row sum is kept: when the roundings lose
    /// r = round(Σ w/scale - Σ q) units in total, the |r| elements whose step toward r costs the least squared error move one
    /// unit. Rounding errors then cancel on inputs with a common mean (activations after ReLU or hard swish are mostly
    /// positive) instead of shifting every output like a bias: on PP-OCRv4 det this lifts the output cosine from 0.980 to 0.992
    /// for a negligible change in ‖W - Wq‖.
    /// </summary>
    public static void QuantizeWeights(ReadOnlySpan<float> w, int m, int k, Span<sbyte> q, Span<float> scale)
    {
        for (int o = 0; o < m; o++)
        {
            var row = w.Slice(o * k, k);
            float amax = 0;
            foreach (float v in row) amax = MathF.Max(amax, MathF.Abs(v));
            float s = amax / 127f;
            float inv = amax > 0 ? 127f / amax : 0f;
            scale[o] = s;
            for (int i = 0; i < k; i++) q[o * k + i] = (sbyte)Math.Clamp((int)MathF.Round(row[i] * inv), -127, 127);
            if (inv > 0)
            {
                // Keep the row sum (see the summary): step the elements whose rounding costs least toward the lost total.
                double target = 0, got = 0;
                for (int i = 0; i < k; i++) { target += row[i] * inv; got += q[o * k + i]; }
                int r = (int)Math.Round(target - got);
                while (r != 0)
                {
                    int bestI = -1; double bestF = double.MaxValue;
                    for (int i = 0; i < k; i++)
                    {
                        int qi = q[o * k + i];
                        if (r > 0 ? qi >= 127 : qi <= -127) continue;
                        double cost = Math.Abs(row[i] * inv - (qi + Math.Sign(r)));
                        if (cost < bestF) { bestF = cost; bestI = i; }
                    }
                    if (bestI < 0) break;
                    q[o * k + bestI] = (sbyte)(q[o * k + bestI] + Math.Sign(r));
                    r -= Math.Sign(r);
                }
            }
        }
    }

    /// <summary>Bytes of the packed weights of an [m, k] matrix.</summary>
    public static long PackedWeightBytes(int m, int k) => (long)PaddedChannels(m) * K4(k) * 4;

    /// <summary>m rounded up to whole <see cref="OcBlock"/> blocks: the length of the packed scales and sums.</summary>
    public static int PaddedChannels(int m) => (m + OcBlock - 1) / OcBlock * OcBlock;

    /// <summary>Packs q [m, k] into the layout described on the class (dst: <see cref="PackedWeightBytes"/> bytes).</summary>
    public static void PackWeights(ReadOnlySpan<sbyte> q, Span<sbyte> dst, int m, int k)
    {
        int k4 = K4(k), blocks = PaddedChannels(m) / OcBlock;
        for (int ob = 0; ob < blocks; ob++)
            for (int g = 0; g < k4; g++)
                for (int j = 0; j < OcBlock; j++)
                    for (int t = 0; t < 4; t++)
                    {
                        int o = ob * OcBlock + j, c = g * 4 + t;
                        dst[((ob * k4 + g) * OcBlock + j) * 4 + t] = o < m && c < k ? q[o * k + c] : (sbyte)0;
                    }
    }

    /// <summary>Σ_k q[o, k] per output channel (dst: <see cref="PaddedChannels"/> ints, zero past m): the VNNI offset correction.</summary>
    public static void WeightSums(ReadOnlySpan<sbyte> q, int m, int k, Span<int> dst)
    {
        dst.Clear();
        for (int o = 0; o < m; o++)
        {
            int s = 0;
            for (int i = 0; i < k; i++) s += q[o * k + i];
            dst[o] = s;
        }
    }

    // ------------------------------------------------------------------ run time

    /// <summary>Pixels quantized at once: the k x block activation bytes stay within ~16 KB of L1.</summary>
    private static int BlockPixels(int k) => Math.Clamp(16384 / (K4(k) * 4) / TilePixels * TilePixels, TilePixels, 1024);

    /// <summary>Scratch bytes of <see cref="RunPointwise"/> for a reduction of k.</summary>
    public static long ScratchBytes(int k)
    {
        int bp = BlockPixels(k);
        return Align64((long)K4(k) * 4 * bp) + bp * 4L;
    }

    private static long Align64(long v) => (v + 63) / 64 * 64;

    /// <summary>
    /// 1x1 convolution (stride 1, no padding, one group). x: [n, c, hw] float; w: <see cref="PackWeights"/> of [m, c];
    /// wScale, wSum: <see cref="PaddedChannels"/> entries; bias: [m] or null; y: [n, m, hw]; scratch:
    /// <see cref="ScratchBytes"/>(c) bytes, 64-byte aligned.
    /// </summary>
    public static void RunPointwise(float* x, sbyte* w, float* wScale, int* wSum, float* bias, float* y, int n, int c, int hw, int m,
        byte* scratch, Epilogue epi)
    {
        int path = BestPath;
        for (int ni = 0; ni < n; ni++)
            RunStrided(path, x + (long)ni * c * hw, hw, w, wScale, wSum, bias, y + (long)ni * m * hw, hw, c, hw, m, scratch, epi);
    }

    /// <summary>Output rows per im2col band of <see cref="RunIm2Col"/>: its float columns stay within ~512 KB.</summary>
    private static int BandRows(int kk, int oh, int ow) => Math.Max(1, Math.Min(oh, (1 << 17) / Math.Max(1, kk) / Math.Max(1, ow)));

    /// <summary>Scratch bytes of <see cref="RunIm2Col"/>.</summary>
    public static long ScratchBytesIm2Col(int c, int kh, int kw, int oh, int ow)
    {
        int kk = c * kh * kw;
        return Align64((long)kk * BandRows(kk, oh, ow) * ow * 4) + ScratchBytes(kk);
    }

    /// <summary>
    /// 2-D convolution, one group, any window/stride/padding: im2col of a band of output rows (float) into scratch, then the
    /// int8 tile over the columns. w: <see cref="PackWeights"/> of [m, c·kh·kw]; scratch: <see cref="ScratchBytesIm2Col"/> bytes.
    /// </summary>
    public static void RunIm2Col(float* x, sbyte* w, float* wScale, int* wSum, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, byte* scratch, Epilogue epi)
    {
        if (n <= 0 || m <= 0 || oh <= 0 || ow <= 0) return;
        int path = BestPath;
        int kk = c * kh * kw, ohw = oh * ow;
        int bandRows = BandRows(kk, oh, ow);
        float* col = (float*)scratch;
        byte* qs = scratch + Align64((long)kk * bandRows * ow * 4);
        for (int ni = 0; ni < n; ni++)
        {
            float* xn = x + (long)ni * c * h * wIn;
            float* yn = y + (long)ni * m * ohw;
            for (int oy0 = 0; oy0 < oh; oy0 += bandRows)
            {
                int rows = Math.Min(bandRows, oh - oy0);
                int px = rows * ow;
                Conv.Im2Col(xn, col, c, h, wIn, kh, kw, rows, ow, strideH, strideW, padTop - oy0 * strideH, padLeft, dilH, dilW);
                RunStrided(path, col, px, w, wScale, wSum, bias, yn + (long)oy0 * ow, ohw, kk, px, m, qs, epi);
            }
        }
    }

    /// <summary>Scratch bytes of <see cref="RunDepthwise"/>.</summary>
    public static long ScratchBytesDepthwise(int n, int c, int h, int wIn, int kh, int kw, int oh, int ow, int strideH, int strideW,
        int padTop, int padLeft, int dilH, int dilW)
        => Align64((long)c * kh * kw * 4) + Conv.ScratchFloats2D(n, c, h, wIn, c, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW, c) * 4;

    /// <summary>
    /// Depthwise convolution (group = c = m) with int8 weights [c, kh·kw] and one scale per channel. A depthwise window has
    /// too few taps (9, 25) for integer dot products to pay, and the convolution is bound by activation traffic: the
    /// c·kh·kw weights are widened into scratch (a few KB, per call) and the float depthwise kernel runs on them.
    /// </summary>
    public static void RunDepthwise(float* x, sbyte* w, float* wScale, float* bias, float* y, int n, int c, int h, int wIn,
        int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, byte* scratch, Epilogue epi)
    {
        int taps = kh * kw;
        float* wf = (float*)scratch;
        for (int ch = 0; ch < c; ch++)
        {
            float s = wScale[ch];
            for (int t = 0; t < taps; t++) wf[ch * taps + t] = w[ch * taps + t] * s;
        }
        Conv.Run2D(x, wf, bias, y, n, c, h, wIn, c, kh, kw, oh, ow, strideH, strideW, padTop, padLeft, dilH, dilW, c,
            (float*)(scratch + Align64((long)c * taps * 4)), epi);
    }

    /// <summary>Scratch bytes of <see cref="RunWinograd"/>.</summary>
    public static long ScratchBytesWinograd(int c, int m, int oh, int ow)
        => Align64(ConvWinograd.PackedWeightFloats(m, c) * 4) + ConvWinograd.ScratchFloats(c, m, oh, ow) * 4;

    /// <summary>
    /// 3x3 stride-1 convolution with int8 weights [m, c·9] (one scale per output channel) on Winograd F(2x2, 3x3): the
    /// transform saves more than integer dot products would gain on these shapes (few output channels, a reduction of c·9
    /// gathered by im2col), so the weights are widened and transformed per call into scratch (allocation-free, the same
    /// arithmetic as <see cref="ConvWinograd.PackWeights"/>) and the float Winograd kernel runs. Activations stay float.
    /// </summary>
    public static void RunWinograd(float* x, sbyte* w, float* wScale, float* bias, float* y, int n, int c, int h, int wIn, int m,
        int oh, int ow, int padTop, int padLeft, byte* scratch, Epilogue epi)
    {
        float* packed = (float*)scratch;
        long per = ConvPointwise.PackedWeightFloats(m, c);
        new Span<float>(packed, (int)(16 * per)).Clear();
        double* g = stackalloc double[9];
        double* tile = stackalloc double[16];
        for (int o = 0; o < m; o++)
        {
            float s = wScale[o];
            long slot = ((long)(o / ConvPointwise.OcBlock) * c) * ConvPointwise.OcBlock + o % ConvPointwise.OcBlock;
            for (int ci = 0; ci < c; ci++, slot += ConvPointwise.OcBlock)
            {
                sbyte* q = w + ((long)o * c + ci) * 9;
                for (int k = 0; k < 9; k++) g[k] = q[k] * s;
                ConvWinograd.FilterTile(g, tile);
                for (int xi = 0; xi < 16; xi++) packed[xi * per + slot] = (float)tile[xi];
            }
        }
        ConvWinograd.Run(x, packed, bias, y, n, c, h, wIn, m, oh, ow, padTop, padLeft, (float*)(scratch + Align64(16 * per * 4)), epi);
    }

    /// <summary>
    /// One image with explicit row strides (x rows, one per reduction index, xStride floats apart; y rows ySride apart),
    /// hw pixels each, on the given path.
    /// </summary>
    internal static void RunStrided(int path, float* x, long xStride, sbyte* w, float* wScale, int* wSum, float* bias, float* y, long yStride,
        int k, int hw, int m, byte* scratch, Epilogue epi)
    {
        if (m <= 0 || hw <= 0) return;
        int k4 = K4(k), bp = BlockPixels(k);
        sbyte* buf = (sbyte*)scratch;
        float* sx = (float*)(scratch + Align64((long)k4 * 4 * bp));
        int blocks = PaddedChannels(m) / OcBlock;
        bool simdQuant = path != PathScalar && Avx2.IsSupported;
        for (int p0 = 0; p0 < hw; p0 += bp)
        {
            int pn = Math.Min(bp, hw - p0);
            int tiles = (pn + TilePixels - 1) / TilePixels;
            for (int t = 0; t < tiles; t++)
                QuantizeTile(simdQuant, x + p0 + t * TilePixels, xStride, k, Math.Min(TilePixels, pn - t * TilePixels), buf + (long)t * k4 * 64, sx + t * TilePixels);
            for (int ob = 0; ob < blocks; ob++)
            {
                int mv = Math.Min(OcBlock, m - ob * OcBlock);
                sbyte* wb = w + (long)ob * k4 * OcBlock * 4;
                float* yb = y + (long)ob * OcBlock * yStride + p0;
                int o0 = ob * OcBlock;
                for (int t = 0; t < tiles; t++)
                {
                    int pv = Math.Min(TilePixels, pn - t * TilePixels);
                    sbyte* xt = buf + (long)t * k4 * 64;
                    float* st = sx + t * TilePixels;
                    float* yt = yb + t * TilePixels;
                    switch (path)
                    {
                        case PathVnni: TileVnni(xt, wb, k4, wSum + o0, st, wScale + o0, bias == null ? null : bias + o0, yt, yStride, mv, pv, epi); break;
                        case PathAvx512: TileAvx512(xt, wb, k4, st, wScale + o0, bias == null ? null : bias + o0, yt, yStride, mv, pv, epi); break;
                        case PathAvx2: TileAvx2(xt, wb, k4, st, wScale + o0, bias == null ? null : bias + o0, yt, yStride, mv, pv, epi); break;
                        case PathArmDot: TileArmDot(xt, wb, k4, st, wScale + o0, bias == null ? null : bias + o0, yt, yStride, mv, pv, epi); break;
                        default: TileScalar(xt, wb, k4, st, wScale + o0, bias == null ? null : bias + o0, yt, yStride, mv, pv, epi); break;
                    }
                }
            }
        }
    }

    /// <summary>
    /// Quantizes pv (≤ 16) pixels of k rows into one tile (k4·64 bytes) and their scales (16 floats); pixels past pv and
    /// rows past k are zero.
    /// </summary>
    internal static void QuantizeTile(bool simd, float* x, long xs, int k, int pv, sbyte* dst, float* scale)
    {
        int k4 = K4(k);
        if (simd && pv == TilePixels && Avx2.IsSupported)
        {
            Vector256<float> m0 = Vector256<float>.Zero, m1 = Vector256<float>.Zero;
            for (int c = 0; c < k; c++)
            {
                float* r = x + c * xs;
                m0 = Vector256.Max(m0, Vector256.Abs(Vector256.Load(r)));
                m1 = Vector256.Max(m1, Vector256.Abs(Vector256.Load(r + 8)));
            }
            var v127 = Vector256.Create(127f);
            Vector256.Store(m0 / v127, scale);
            Vector256.Store(m1 / v127, scale + 8);
            var inv0 = Vector256.ConditionalSelect(Vector256.GreaterThan(m0, Vector256<float>.Zero), v127 / m0, Vector256<float>.Zero);
            var inv1 = Vector256.ConditionalSelect(Vector256.GreaterThan(m1, Vector256<float>.Zero), v127 / m1, Vector256<float>.Zero);
            var lo = Vector256.Create(0xFF);
            for (int g = 0; g < k4; g++)
            {
                Vector256<int> a0 = Vector256<int>.Zero, a1 = Vector256<int>.Zero;
                for (int t = 0; t < 4; t++)
                {
                    int c = g * 4 + t;
                    if (c >= k) break;
                    float* r = x + c * xs;
                    // round to nearest even (MXCSR default), as MathF.Round in the scalar path; |x·inv| <= 127
                    var q0 = Avx.ConvertToVector256Int32(Vector256.Load(r) * inv0);
                    var q1 = Avx.ConvertToVector256Int32(Vector256.Load(r + 8) * inv1);
                    if (t < 3)
                    {
                        a0 |= Vector256.ShiftLeft(q0 & lo, 8 * t);
                        a1 |= Vector256.ShiftLeft(q1 & lo, 8 * t);
                    }
                    else
                    {
                        a0 |= Vector256.ShiftLeft(q0, 24);
                        a1 |= Vector256.ShiftLeft(q1, 24);
                    }
                }
                Vector256.Store(a0, (int*)(dst + g * 64));
                Vector256.Store(a1, (int*)(dst + g * 64 + 32));
            }
            return;
        }
        for (int p = 0; p < TilePixels; p++)
        {
            float amax = 0;
            if (p < pv)
                for (int c = 0; c < k; c++) amax = MathF.Max(amax, MathF.Abs(x[c * xs + p]));
            scale[p] = amax / 127f;
            float inv = amax > 0 ? 127f / amax : 0f;
            for (int g = 0; g < k4; g++)
                for (int t = 0; t < 4; t++)
                {
                    int c = g * 4 + t;
                    dst[(g * TilePixels + p) * 4 + t] = p < pv && c < k ? (sbyte)(int)MathF.Round(x[c * xs + p] * inv) : (sbyte)0;
                }
        }
    }

    /// <summary>y[j, p] = epi(float(acc - corr)·(s[p]·ws) + b) for pixels [0, pv) of one output row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRow(Vector256<int> a0, Vector256<int> a1, int corr, float* s, float ws, float b, float* y, int pv, Epilogue epi)
    {
        var c = Vector256.Create(corr);
        var w = Vector256.Create(ws);
        var bv = Vector256.Create(b);
        var f0 = EpilogueOps.Apply(Vector256.ConvertToSingle(a0 - c) * (Vector256.Load(s) * w) + bv, epi);
        var f1 = EpilogueOps.Apply(Vector256.ConvertToSingle(a1 - c) * (Vector256.Load(s + 8) * w) + bv, epi);
        if (pv == TilePixels)
        {
            Vector256.Store(f0, y);
            Vector256.Store(f1, y + 8);
            return;
        }
        for (int p = 0; p < pv; p++) y[p] = p < 8 ? f0.GetElement(p) : f1.GetElement(p - 8);
    }

    private static void TileVnni(sbyte* x, sbyte* w, int k4, int* wSum, float* s, float* ws, float* bias, float* y, long ys, int mv, int pv, Epilogue epi)
    {
        Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<int> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        var off = Vector256.Create((byte)0x80);
        int* wi = (int*)w;
        for (int g = 0; g < k4; g++, wi += OcBlock)
        {
            // +128: signed activations become unsigned for vpdpbusd; the 128·Σw this adds is subtracted at the end.
            var x0 = Vector256.Load((byte*)x + g * 64) ^ off;
            var x1 = Vector256.Load((byte*)x + g * 64 + 32) ^ off;
            var b = Vector256.Create(wi[0]).AsSByte();
            a00 = AvxVnni.MultiplyWideningAndAdd(a00, x0, b);
            a01 = AvxVnni.MultiplyWideningAndAdd(a01, x1, b);
            b = Vector256.Create(wi[1]).AsSByte();
            a10 = AvxVnni.MultiplyWideningAndAdd(a10, x0, b);
            a11 = AvxVnni.MultiplyWideningAndAdd(a11, x1, b);
            b = Vector256.Create(wi[2]).AsSByte();
            a20 = AvxVnni.MultiplyWideningAndAdd(a20, x0, b);
            a21 = AvxVnni.MultiplyWideningAndAdd(a21, x1, b);
            b = Vector256.Create(wi[3]).AsSByte();
            a30 = AvxVnni.MultiplyWideningAndAdd(a30, x0, b);
            a31 = AvxVnni.MultiplyWideningAndAdd(a31, x1, b);
            b = Vector256.Create(wi[4]).AsSByte();
            a40 = AvxVnni.MultiplyWideningAndAdd(a40, x0, b);
            a41 = AvxVnni.MultiplyWideningAndAdd(a41, x1, b);
            b = Vector256.Create(wi[5]).AsSByte();
            a50 = AvxVnni.MultiplyWideningAndAdd(a50, x0, b);
            a51 = AvxVnni.MultiplyWideningAndAdd(a51, x1, b);
        }
        StoreRow(a00, a01, 128 * wSum[0], s, ws[0], bias == null ? 0f : bias[0], y, pv, epi);
        if (mv > 1) StoreRow(a10, a11, 128 * wSum[1], s, ws[1], bias == null ? 0f : bias[1], y + ys, pv, epi);
        if (mv > 2) StoreRow(a20, a21, 128 * wSum[2], s, ws[2], bias == null ? 0f : bias[2], y + 2 * ys, pv, epi);
        if (mv > 3) StoreRow(a30, a31, 128 * wSum[3], s, ws[3], bias == null ? 0f : bias[3], y + 3 * ys, pv, epi);
        if (mv > 4) StoreRow(a40, a41, 128 * wSum[4], s, ws[4], bias == null ? 0f : bias[4], y + 4 * ys, pv, epi);
        if (mv > 5) StoreRow(a50, a51, 128 * wSum[5], s, ws[5], bias == null ? 0f : bias[5], y + 5 * ys, pv, epi);
    }

    /// <summary>Σ over 4 byte pairs of |w|·sign(x, w) = w·x, exact: both factors are at most 127, so the int16 pair sums cannot saturate.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<int> Dot4Avx2(Vector256<byte> absW, Vector256<sbyte> w, Vector256<sbyte> x, Vector256<short> ones)
        => Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(absW, Avx2.Sign(x, w)), ones);

    private static void TileAvx2(sbyte* x, sbyte* w, int k4, float* s, float* ws, float* bias, float* y, long ys, int mv, int pv, Epilogue epi)
    {
        Vector256<int> a00 = default, a01 = default, a10 = default, a11 = default, a20 = default, a21 = default;
        Vector256<int> a30 = default, a31 = default, a40 = default, a41 = default, a50 = default, a51 = default;
        var ones = Vector256.Create((short)1);
        int* wi = (int*)w;
        for (int g = 0; g < k4; g++, wi += OcBlock)
        {
            var x0 = Vector256.Load(x + g * 64);
            var x1 = Vector256.Load(x + g * 64 + 32);
            var b = Vector256.Create(wi[0]).AsSByte();
            var ab = Avx2.Abs(b);
            a00 += Dot4Avx2(ab, b, x0, ones);
            a01 += Dot4Avx2(ab, b, x1, ones);
            b = Vector256.Create(wi[1]).AsSByte();
            ab = Avx2.Abs(b);
            a10 += Dot4Avx2(ab, b, x0, ones);
            a11 += Dot4Avx2(ab, b, x1, ones);
            b = Vector256.Create(wi[2]).AsSByte();
            ab = Avx2.Abs(b);
            a20 += Dot4Avx2(ab, b, x0, ones);
            a21 += Dot4Avx2(ab, b, x1, ones);
            b = Vector256.Create(wi[3]).AsSByte();
            ab = Avx2.Abs(b);
            a30 += Dot4Avx2(ab, b, x0, ones);
            a31 += Dot4Avx2(ab, b, x1, ones);
            b = Vector256.Create(wi[4]).AsSByte();
            ab = Avx2.Abs(b);
            a40 += Dot4Avx2(ab, b, x0, ones);
            a41 += Dot4Avx2(ab, b, x1, ones);
            b = Vector256.Create(wi[5]).AsSByte();
            ab = Avx2.Abs(b);
            a50 += Dot4Avx2(ab, b, x0, ones);
            a51 += Dot4Avx2(ab, b, x1, ones);
        }
        StoreRow(a00, a01, 0, s, ws[0], bias == null ? 0f : bias[0], y, pv, epi);
        if (mv > 1) StoreRow(a10, a11, 0, s, ws[1], bias == null ? 0f : bias[1], y + ys, pv, epi);
        if (mv > 2) StoreRow(a20, a21, 0, s, ws[2], bias == null ? 0f : bias[2], y + 2 * ys, pv, epi);
        if (mv > 3) StoreRow(a30, a31, 0, s, ws[3], bias == null ? 0f : bias[3], y + 3 * ys, pv, epi);
        if (mv > 4) StoreRow(a40, a41, 0, s, ws[4], bias == null ? 0f : bias[4], y + 4 * ys, pv, epi);
        if (mv > 5) StoreRow(a50, a51, 0, s, ws[5], bias == null ? 0f : bias[5], y + 5 * ys, pv, epi);
    }

    /// <summary>As <see cref="Dot4Avx2"/> on 16 pixels: AVX-512 has no vpsignb, so the sign moves by a masked select of -x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Dot4Avx512(Vector512<sbyte> w, Vector512<sbyte> x, Vector512<sbyte> negX, Vector512<short> ones)
    {
        var sx = Vector512.ConditionalSelect(Vector512.LessThan(w, Vector512<sbyte>.Zero), negX, x);
        return Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(Avx512BW.Abs(w), sx), ones);
    }

    private static void TileAvx512(sbyte* x, sbyte* w, int k4, float* s, float* ws, float* bias, float* y, long ys, int mv, int pv, Epilogue epi)
    {
        Vector512<int> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default;
        var ones = Vector512.Create((short)1);
        int* wi = (int*)w;
        for (int g = 0; g < k4; g++, wi += OcBlock)
        {
            var xv = Vector512.Load(x + g * 64);
            var nx = Vector512<sbyte>.Zero - xv; // |q| <= 127: no overflow
            a0 += Dot4Avx512(Vector512.Create(wi[0]).AsSByte(), xv, nx, ones);
            a1 += Dot4Avx512(Vector512.Create(wi[1]).AsSByte(), xv, nx, ones);
            a2 += Dot4Avx512(Vector512.Create(wi[2]).AsSByte(), xv, nx, ones);
            a3 += Dot4Avx512(Vector512.Create(wi[3]).AsSByte(), xv, nx, ones);
            a4 += Dot4Avx512(Vector512.Create(wi[4]).AsSByte(), xv, nx, ones);
            a5 += Dot4Avx512(Vector512.Create(wi[5]).AsSByte(), xv, nx, ones);
        }
        StoreRow(a0.GetLower(), a0.GetUpper(), 0, s, ws[0], bias == null ? 0f : bias[0], y, pv, epi);
        if (mv > 1) StoreRow(a1.GetLower(), a1.GetUpper(), 0, s, ws[1], bias == null ? 0f : bias[1], y + ys, pv, epi);
        if (mv > 2) StoreRow(a2.GetLower(), a2.GetUpper(), 0, s, ws[2], bias == null ? 0f : bias[2], y + 2 * ys, pv, epi);
        if (mv > 3) StoreRow(a3.GetLower(), a3.GetUpper(), 0, s, ws[3], bias == null ? 0f : bias[3], y + 3 * ys, pv, epi);
        if (mv > 4) StoreRow(a4.GetLower(), a4.GetUpper(), 0, s, ws[4], bias == null ? 0f : bias[4], y + 4 * ys, pv, epi);
        if (mv > 5) StoreRow(a5.GetLower(), a5.GetUpper(), 0, s, ws[5], bias == null ? 0f : bias[5], y + 5 * ys, pv, epi);
    }

    private static void TileArmDot(sbyte* x, sbyte* w, int k4, float* s, float* ws, float* bias, float* y, long ys, int mv, int pv, Epilogue epi)
    {
        // Four 4-pixel vectors per row; sdot sums 4 signed byte products into each int lane.
        var acc = stackalloc Vector128<int>[OcBlock * 4];
        for (int i = 0; i < OcBlock * 4; i++) acc[i] = Vector128<int>.Zero;
        int* wi = (int*)w;
        for (int g = 0; g < k4; g++, wi += OcBlock)
        {
            var x0 = Vector128.Load(x + g * 64);
            var x1 = Vector128.Load(x + g * 64 + 16);
            var x2 = Vector128.Load(x + g * 64 + 32);
            var x3 = Vector128.Load(x + g * 64 + 48);
            for (int j = 0; j < OcBlock; j++)
            {
                var b = Vector128.Create(wi[j]).AsSByte();
                acc[j * 4] = Dp.DotProduct(acc[j * 4], x0, b);
                acc[j * 4 + 1] = Dp.DotProduct(acc[j * 4 + 1], x1, b);
                acc[j * 4 + 2] = Dp.DotProduct(acc[j * 4 + 2], x2, b);
                acc[j * 4 + 3] = Dp.DotProduct(acc[j * 4 + 3], x3, b);
            }
        }
        int* sums = stackalloc int[TilePixels];
        for (int j = 0; j < mv; j++)
        {
            for (int q = 0; q < 4; q++) Vector128.Store(acc[j * 4 + q], sums + q * 4);
            StoreRowScalar(sums, 0, s, ws[j], bias == null ? 0f : bias[j], y + j * ys, pv, epi);
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreRowScalar(int* acc, int corr, float* s, float ws, float b, float* y, int pv, Epilogue epi)
    {
        for (int p = 0; p < pv; p++) y[p] = EpilogueOps.Apply((float)(acc[p] - corr) * (s[p] * ws) + b, epi);
    }

    /// <summary>Scalar reference tile: the same int32 sums and the same float epilogue as the SIMD tiles.</summary>
    private static void TileScalar(sbyte* x, sbyte* w, int k4, float* s, float* ws, float* bias, float* y, long ys, int mv, int pv, Epilogue epi)
    {
        int* acc = stackalloc int[TilePixels];
        for (int j = 0; j < mv; j++)
        {
            for (int p = 0; p < TilePixels; p++)
            {
                int sum = 0;
                for (int g = 0; g < k4; g++)
                    for (int t = 0; t < 4; t++)
                        sum += x[(g * TilePixels + p) * 4 + t] * w[(g * OcBlock + j) * 4 + t];
                acc[p] = sum;
            }
            StoreRowScalar(acc, 0, s, ws[j], bias == null ? 0f : bias[j], y + j * ys, pv, epi);
        }
    }

    /// <summary>Reference on float inputs and the unpacked int8 weights q [m, k]: the same quantization, plain loops.</summary>
    internal static void RunReference(float* x, sbyte* q, float* wScale, float* bias, float* y, int c, int hw, int m, Epilogue epi)
    {
        var xq = new sbyte[c];
        for (int p = 0; p < hw; p++)
        {
            float amax = 0;
            for (int k = 0; k < c; k++) amax = MathF.Max(amax, MathF.Abs(x[(long)k * hw + p]));
            float sx = amax / 127f, inv = amax > 0 ? 127f / amax : 0f;
            for (int k = 0; k < c; k++) xq[k] = (sbyte)(int)MathF.Round(x[(long)k * hw + p] * inv);
            for (int o = 0; o < m; o++)
            {
                int sum = 0;
                for (int k = 0; k < c; k++) sum += xq[k] * q[(long)o * c + k];
                y[(long)o * hw + p] = EpilogueOps.Apply((float)sum * (sx * wScale[o]) + (bias == null ? 0f : bias[o]), epi);
            }
        }
    }
}
