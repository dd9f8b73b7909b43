using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>Element type of a language model's KV cache (<c>llmaot build --kv-cache</c>).</summary>
public enum KvFormat
{
    /// <summary>float32 (the default).</summary>
    F32,
    /// <summary>float16: half the memory, rounding to 11 significant bits.</summary>
    F16,
    /// <summary>int8 with one float scale per position and KV head (max |x| / 127): a quarter of the memory.</summary>
    Int8,
}

/// <summary>
/// Compressed KV caches: keys stored transposed [kvHeads·headSize, maxLen] and values [maxLen, kvDim] as in
/// <see cref="Transformer.AttentionT"/>, in float16 or int8 (+ scales [kvHeads, maxLen] for keys, [maxLen, kvHeads] for values).
/// The attention kernels widen 8 positions (keys) or 8 elements (values) at a time to float; scalar paths beside the AVX2 ones.
/// </summary>
public static unsafe class KvCache
{
    /// <summary>2^112 (see <see cref="BlockQuant.HalfToFloat"/>).</summary>
    private const float HalfScale = 5.192296858534828e33f;

    /// <summary>Eight float16 values widened to float exactly (finite values), branch-free: magnitude bits rebiased, sign or-ed back.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(Half* p)
    {
        var b = Avx2.ConvertToVector256Int32((ushort*)p).AsUInt32();
        var m = Vector256.ShiftLeft(b & Vector256.Create(0x7FFFu), 13).AsSingle() * Vector256.Create(HalfScale);
        return (m.AsUInt32() | Vector256.ShiftLeft(b & Vector256.Create(0x8000u), 16)).AsSingle();
    }

    /// <summary>Eight int8 values widened to float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Widen8(sbyte* p) => Avx.ConvertToVector256Single(Avx2.ConvertToVector256Int32(p));

    /// <summary>Writes one position's keys [kvDim] as float16 into the transposed cache [kvDim, maxLen].</summary>
    public static void StoreKeyTF16(float* k, Half* keysT, int kvDim, int maxLen, int pos)
    {
        for (int i = 0; i < kvDim; i++) keysT[(long)i * maxLen + pos] = (Half)k[i];
    }

    /// <summary>Writes one position's values [kvDim] as float16 (<paramref name="row"/> is the position's row).</summary>
    public static void StoreValueF16(float* v, Half* row, int kvDim)
    {
        for (int i = 0; i < kvDim; i++) row[i] = (Half)v[i];
    }

    /// <summary>int8 quantization of n values: scale = max|x| / 127, q = round(x / scale); returns the scale.</summary>
    private static float Quantize(float* x, int n, int stride, sbyte* q, long qStride)
    {
        float amax = 0;
        for (int i = 0; i < n; i++) amax = MathF.Max(amax, MathF.Abs(x[i * stride]));
        float scale = amax / 127f;
        float inv = scale != 0 ? 1f / scale : 0;
        for (int i = 0; i < n; i++) q[i * qStride] = (sbyte)MathF.Round(x[i * stride] * inv, MidpointRounding.ToEven);
        return scale;
    }

    /// <summary>
    /// Writes one position's keys [kvDim] as int8 into the transposed cache [kvDim, maxLen], one scale per KV head into
    /// <paramref name="scales"/> [kvHeads, maxLen].
    /// </summary>
    public static void StoreKeyTInt8(float* k, sbyte* keysT, float* scales, int kvDim, int headSize, int maxLen, int pos)
    {
        for (int h = 0; h < kvDim / headSize; h++)
            scales[(long)h * maxLen + pos] = Quantize(k + h * headSize, headSize, 1, keysT + (long)h * headSize * maxLen + pos, maxLen);
    }

    /// <summary>Writes one position's values [kvDim] as int8 into its row, one scale per KV head into <paramref name="scales"/> [kvHeads].</summary>
    public static void StoreValueInt8(float* v, sbyte* row, float* scales, int kvDim, int headSize)
    {
        for (int h = 0; h < kvDim / headSize; h++) scales[h] = Quantize(v + h * headSize, headSize, 1, row + h * headSize, 1);
    }

    /// <summary><see cref="Transformer.AttentionT"/> over a float16 cache.</summary>
    public static void AttentionTF16(float* q, Half* keysT, Half* values, float* outp, int nHeads, int nKvHeads, int headSize, int len, int maxLen, float* scratch)
    {
        int kvDim = nKvHeads * headSize;
        int group = nHeads / nKvHeads;
        for (int h = 0; h < nHeads; h++)
            AttentionHeadTF16(q + h * headSize, keysT + (long)(h / group) * headSize * maxLen, values + (h / group) * headSize, outp + h * headSize,
                headSize, kvDim, len, maxLen, scratch);
    }

    /// <summary>One head of <see cref="AttentionTF16"/> (arguments as in <see cref="Transformer.AttentionHeadT"/>).</summary>
    public static void AttentionHeadTF16(float* qh, Half* kt, Half* vh, float* o, int headSize, int kvDim, int len, int maxLen, float* scratch) =>
        AttentionHead<Half, HalfElements>(qh, kt, null, vh, null, 0, o, headSize, kvDim, len, maxLen, scratch);

    /// <summary>
    /// <see cref="Transformer.AttentionT"/> over an int8 cache: scores[t] = kScale[t]·Σ_d q[d]·K8[d, t], out += p[t]·vScale[t]·V8[t].
    /// </summary>
    public static void AttentionTInt8(float* q, sbyte* keysT, float* keyScales, sbyte* values, float* valueScales, float* outp,
        int nHeads, int nKvHeads, int headSize, int len, int maxLen, float* scratch)
    {
        int kvDim = nKvHeads * headSize;
        int group = nHeads / nKvHeads;
        for (int h = 0; h < nHeads; h++)
        {
            int kvh = h / group;
            AttentionHeadTInt8(q + h * headSize, keysT + (long)kvh * headSize * maxLen, keyScales + (long)kvh * maxLen, values + kvh * headSize,
                valueScales + kvh, nKvHeads, outp + h * headSize, headSize, kvDim, len, maxLen, scratch);
        }
    }

    /// <summary>
    /// One head of <see cref="AttentionTInt8"/>: <paramref name="ks"/> its KV head's key scales [maxLen], <paramref name="vs"/> its
    /// KV head's first value scale (stride <paramref name="vsStride"/> = kvHeads per position); other arguments as in
    /// <see cref="Transformer.AttentionHeadT"/>.
    /// </summary>
    public static void AttentionHeadTInt8(float* qh, sbyte* kt, float* ks, sbyte* vh, float* vs, int vsStride, float* o,
        int headSize, int kvDim, int len, int maxLen, float* scratch) =>
        AttentionHead<sbyte, Int8Elements>(qh, kt, ks, vh, vs, vsStride, o, headSize, kvDim, len, maxLen, scratch);

    /// <summary>How a cache's elements widen to float.</summary>
    internal interface IElements<T> where T : unmanaged
    {
        /// <summary>Eight elements (AVX2).</summary>
        static abstract Vector256<float> Widen8(T* p);
        /// <summary>One element.</summary>
        static abstract float Widen(T v);
    }

    /// <summary>float32 elements (the default cache): loads.</summary>
    internal struct FloatElements : IElements<float>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(float* p) => Vector256.Load(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen(float v) => v;
    }

    private struct HalfElements : IElements<Half>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(Half* p) => KvCache.Widen8(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen(Half v) => (float)v;
    }

    private struct Int8Elements : IElements<sbyte>
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<float> Widen8(sbyte* p) => KvCache.Widen8(p);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static float Widen(sbyte v) => v;
    }

    /// <summary>
    /// One head over a cache of float32, float16 or int8 elements (<see cref="Transformer.AttentionHeadT"/> and the compressed
    /// caches' heads): scores[t] = (Σ_d q[d]·K[d, t]) (·ks[t] when key scales are given) · 1/√headSize, softmax,
    /// out = Σ_t p[t] (·vs[t·vsStride]) · V[t]. The scores 32 positions at a time in four independent FMA chains (each lane still sums d = 0..headSize-1 in order), and 64 outputs at a time held in eight
    /// registers over all positions (the same FMAs in the same order as accumulating into memory), so the results are those of
    /// the one-chain loops, only without their FMA-latency and store/reload stalls.
    /// </summary>
    internal static void AttentionHead<T, TE>(float* qh, T* kt, float* ks, T* vh, float* vs, int vsStride, float* o,
        int headSize, int kvDim, int len, int maxLen, float* scratch)
        where T : unmanaged
        where TE : struct, IElements<T>
    {
        float scale = 1f / MathF.Sqrt(headSize);
        int t0 = 0;
        if (Avx2.IsSupported)
        {
            for (; t0 + 32 <= len; t0 += 32)
            {
                Vector256<float> a0 = Vector256<float>.Zero, a1 = a0, a2 = a0, a3 = a0;
                for (int d = 0; d < headSize; d++)
                {
                    var qd = Vector256.Create(qh[d]);
                    T* kd = kt + (long)d * maxLen + t0;
                    a0 = Vector256.FusedMultiplyAdd(qd, TE.Widen8(kd), a0);
                    a1 = Vector256.FusedMultiplyAdd(qd, TE.Widen8(kd + 8), a1);
                    a2 = Vector256.FusedMultiplyAdd(qd, TE.Widen8(kd + 16), a2);
                    a3 = Vector256.FusedMultiplyAdd(qd, TE.Widen8(kd + 24), a3);
                }
                StoreScores(a0, ks, t0, scale, scratch);
                StoreScores(a1, ks, t0 + 8, scale, scratch);
                StoreScores(a2, ks, t0 + 16, scale, scratch);
                StoreScores(a3, ks, t0 + 24, scale, scratch);
            }
            for (; t0 + 8 <= len; t0 += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int d = 0; d < headSize; d++) acc = Vector256.FusedMultiplyAdd(Vector256.Create(qh[d]), TE.Widen8(kt + (long)d * maxLen + t0), acc);
                StoreScores(acc, ks, t0, scale, scratch);
            }
        }
        for (; t0 < len; t0++)
        {
            float acc = 0;
            for (int d = 0; d < headSize; d++) acc += qh[d] * TE.Widen(kt[(long)d * maxLen + t0]);
            scratch[t0] = ks != null ? acc * ks[t0] * scale : acc * scale;
        }
        Transformer.SoftmaxInPlace(scratch, len);
        int i0 = 0;
        if (Avx2.IsSupported)
        {
            for (; i0 + 64 <= headSize; i0 += 64)
            {
                Vector256<float> o0 = Vector256<float>.Zero, o1 = o0, o2 = o0, o3 = o0, o4 = o0, o5 = o0, o6 = o0, o7 = o0;
                T* v = vh + i0;
                for (int t = 0; t < len; t++, v += kvDim)
                {
                    var a = Vector256.Create(vs != null ? scratch[t] * vs[(long)t * vsStride] : scratch[t]);
                    o0 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v), o0);
                    o1 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 8), o1);
                    o2 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 16), o2);
                    o3 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 24), o3);
                    o4 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 32), o4);
                    o5 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 40), o5);
                    o6 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 48), o6);
                    o7 = Vector256.FusedMultiplyAdd(a, TE.Widen8(v + 56), o7);
                }
                Vector256.Store(o0, o + i0); Vector256.Store(o1, o + i0 + 8); Vector256.Store(o2, o + i0 + 16); Vector256.Store(o3, o + i0 + 24);
                Vector256.Store(o4, o + i0 + 32); Vector256.Store(o5, o + i0 + 40); Vector256.Store(o6, o + i0 + 48); Vector256.Store(o7, o + i0 + 56);
            }
        }
        if (i0 == headSize) return;
        new Span<float>(o + i0, headSize - i0).Clear();
        for (int t = 0; t < len; t++)
        {
            T* v = vh + (long)t * kvDim;
            float a = vs != null ? scratch[t] * vs[(long)t * vsStride] : scratch[t];
            int i = i0;
            if (Avx2.IsSupported)
            {
                var va = Vector256.Create(a);
                for (; i + 8 <= headSize; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(va, TE.Widen8(v + i), Vector256.Load(o + i)), o + i);
            }
            for (; i < headSize; i++) o[i] += a * TE.Widen(v[i]);
        }
    }

    /// <summary>scratch[t0..t0+8) = scores (· key scales when given) · scale, in the order of the one-chain loop.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void StoreScores(Vector256<float> acc, float* ks, int t0, float scale, float* scratch) =>
        Vector256.Store(ks != null ? acc * Vector256.Load(ks + t0) * scale : acc * scale, scratch + t0);
}
