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
    public static void AttentionHeadTF16(float* qh, Half* kt, Half* vh, float* o, int headSize, int kvDim, int len, int maxLen, float* scratch)
    {
        float scale = 1f / MathF.Sqrt(headSize);
        int t0 = 0;
        if (Avx2.IsSupported)
        {
            for (; t0 + 8 <= len; t0 += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int d = 0; d < headSize; d++) acc = Vector256.FusedMultiplyAdd(Vector256.Create(qh[d]), Widen8(kt + (long)d * maxLen + t0), acc);
                Vector256.Store(acc * scale, scratch + t0);
            }
        }
        for (; t0 < len; t0++)
        {
            float acc = 0;
            for (int d = 0; d < headSize; d++) acc += qh[d] * (float)kt[(long)d * maxLen + t0];
            scratch[t0] = acc * scale;
        }
        Transformer.SoftmaxInPlace(scratch, len);
        new Span<float>(o, headSize).Clear();
        for (int t = 0; t < len; t++)
        {
            Half* v = vh + (long)t * kvDim;
            float a = scratch[t];
            int i = 0;
            if (Avx2.IsSupported)
            {
                var va = Vector256.Create(a);
                for (; i + 8 <= headSize; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(va, Widen8(v + i), Vector256.Load(o + i)), o + i);
            }
            for (; i < headSize; i++) o[i] += a * (float)v[i];
        }
    }

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
        int headSize, int kvDim, int len, int maxLen, float* scratch)
    {
        float scale = 1f / MathF.Sqrt(headSize);
        int t0 = 0;
        if (Avx2.IsSupported)
        {
            for (; t0 + 8 <= len; t0 += 8)
            {
                var acc = Vector256<float>.Zero;
                for (int d = 0; d < headSize; d++) acc = Vector256.FusedMultiplyAdd(Vector256.Create(qh[d]), Widen8(kt + (long)d * maxLen + t0), acc);
                Vector256.Store(acc * Vector256.Load(ks + t0) * scale, scratch + t0);
            }
        }
        for (; t0 < len; t0++)
        {
            float acc = 0;
            for (int d = 0; d < headSize; d++) acc += qh[d] * kt[(long)d * maxLen + t0];
            scratch[t0] = acc * ks[t0] * scale;
        }
        Transformer.SoftmaxInPlace(scratch, len);
        new Span<float>(o, headSize).Clear();
        for (int t = 0; t < len; t++)
        {
            sbyte* v = vh + (long)t * kvDim;
            float a = scratch[t] * vs[(long)t * vsStride];
            int i = 0;
            if (Avx2.IsSupported)
            {
                var va = Vector256.Create(a);
                for (; i + 8 <= headSize; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(va, Widen8(v + i), Vector256.Load(o + i)), o + i);
            }
            for (; i < headSize; i++) o[i] += a * v[i];
        }
    }
}
