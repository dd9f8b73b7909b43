using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Fused kernels of decoder-only transformers (llama family): RMSNorm, matrix-vector products, rotary embedding,
/// single-query attention over a KV cache, and SwiGLU. Float32; each has a scalar reference beside its SIMD path.
/// </summary>
public static unsafe class Transformer
{
    /// <summary>y = x / sqrt(mean(x²) + eps) * w over n elements. In place allowed.</summary>
    public static void RmsNorm(float* x, float* w, float* y, int n, float eps)
    {
        float ss = Dot(x, x, n);
        float scale = 1f / MathF.Sqrt(ss / n + eps);
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vs = Vector256.Create(scale);
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(x + i) * vs * Vector256.Load(w + i), y + i);
        }
        for (; i < n; i++) y[i] = x[i] * scale * w[i];
    }

    /// <summary>Scalar reference of <see cref="RmsNorm"/>.</summary>
    internal static void RmsNormScalar(float* x, float* w, float* y, int n, float eps)
    {
        float ss = 0;
        for (int i = 0; i < n; i++) ss += x[i] * x[i];
        float scale = 1f / MathF.Sqrt(ss / n + eps);
        for (int i = 0; i < n; i++) y[i] = x[i] * scale * w[i];
    }

    /// <summary>Dot product of n floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Dot(float* a, float* b, int n)
    {
        int i = 0;
        float sum = 0;
        if (Vector512.IsHardwareAccelerated && n >= 32)
        {
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            for (; i + 32 <= n; i += 32)
            {
                acc0 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i), Vector512.Load(b + i), acc0);
                acc1 = Vector512.FusedMultiplyAdd(Vector512.Load(a + i + 16), Vector512.Load(b + i + 16), acc1);
            }
            sum = Vector512.Sum(acc0 + acc1);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            var acc0 = Vector256<float>.Zero;
            var acc1 = Vector256<float>.Zero;
            for (; i + 16 <= n; i += 16)
            {
                acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
                acc1 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i + 8), Vector256.Load(b + i + 8), acc1);
            }
            for (; i + 8 <= n; i += 8) acc0 = Vector256.FusedMultiplyAdd(Vector256.Load(a + i), Vector256.Load(b + i), acc0);
            sum += Vector256.Sum(acc0 + acc1);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            var acc = Vector128<float>.Zero;
            for (; i + 4 <= n; i += 4) acc = Vector128.FusedMultiplyAdd(Vector128.Load(a + i), Vector128.Load(b + i), acc);
            sum += Vector128.Sum(acc);
        }
        for (; i < n; i++) sum += a[i] * b[i];
        return sum;
    }

    /// <summary>y[i] = Σ_j w[i, j] · x[j] for i in [rowStart, rowEnd): w is [rows, n] row-major (llama2.c layout).</summary>
    public static void MatVec(float* w, float* x, float* y, int n, int rowStart, int rowEnd)
    {
        int i = rowStart;
        for (; i + 4 <= rowEnd; i += 4)
        {
            float* r = w + (long)i * n;
            Dot4(r, r + n, r + 2L * n, r + 3L * n, x, n, y + i);
        }
        for (; i < rowEnd; i++) y[i] = Dot(w + (long)i * n, x, n);
    }

    /// <summary>Four dot products sharing the loads of x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Dot4(float* r0, float* r1, float* r2, float* r3, float* x, int n, float* y)
    {
        int j = 0;
        float s0 = 0, s1 = 0, s2 = 0, s3 = 0;
        if (Vector512.IsHardwareAccelerated && n >= 16)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; j + 16 <= n; j += 16)
            {
                var xv = Vector512.Load(x + j);
                a0 = Vector512.FusedMultiplyAdd(Vector512.Load(r0 + j), xv, a0);
                a1 = Vector512.FusedMultiplyAdd(Vector512.Load(r1 + j), xv, a1);
                a2 = Vector512.FusedMultiplyAdd(Vector512.Load(r2 + j), xv, a2);
                a3 = Vector512.FusedMultiplyAdd(Vector512.Load(r3 + j), xv, a3);
            }
            s0 = Vector512.Sum(a0); s1 = Vector512.Sum(a1); s2 = Vector512.Sum(a2); s3 = Vector512.Sum(a3);
        }
        if (Vector256.IsHardwareAccelerated)
        {
            Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; j + 8 <= n; j += 8)
            {
                var xv = Vector256.Load(x + j);
                a0 = Vector256.FusedMultiplyAdd(Vector256.Load(r0 + j), xv, a0);
                a1 = Vector256.FusedMultiplyAdd(Vector256.Load(r1 + j), xv, a1);
                a2 = Vector256.FusedMultiplyAdd(Vector256.Load(r2 + j), xv, a2);
                a3 = Vector256.FusedMultiplyAdd(Vector256.Load(r3 + j), xv, a3);
            }
            s0 += Vector256.Sum(a0); s1 += Vector256.Sum(a1); s2 += Vector256.Sum(a2); s3 += Vector256.Sum(a3);
        }
        else if (Vector128.IsHardwareAccelerated)
        {
            Vector128<float> a0 = default, a1 = default, a2 = default, a3 = default;
            for (; j + 4 <= n; j += 4)
            {
                var xv = Vector128.Load(x + j);
                a0 = Vector128.FusedMultiplyAdd(Vector128.Load(r0 + j), xv, a0);
                a1 = Vector128.FusedMultiplyAdd(Vector128.Load(r1 + j), xv, a1);
                a2 = Vector128.FusedMultiplyAdd(Vector128.Load(r2 + j), xv, a2);
                a3 = Vector128.FusedMultiplyAdd(Vector128.Load(r3 + j), xv, a3);
            }
            s0 += Vector128.Sum(a0); s1 += Vector128.Sum(a1); s2 += Vector128.Sum(a2); s3 += Vector128.Sum(a3);
        }
        for (; j < n; j++)
        {
            float xv = x[j];
            s0 += r0[j] * xv; s1 += r1[j] * xv; s2 += r2[j] * xv; s3 += r3[j] * xv;
        }
        y[0] = s0; y[1] = s1; y[2] = s2; y[3] = s3;
    }

    /// <summary>
    /// Rotary embedding on adjacent pairs (x[2i], x[2i+1]) of each head, as llama2.c and ggml's normal mode do:
    /// θ = pos · base^(-2i/headSize). <paramref name="cos"/>/<paramref name="sin"/> hold the precomputed table for this pos
    /// ([headSize/2]). Applies to n elements (several heads).
    /// </summary>
    public static void Rope(float* x, int n, int headSize, float* cos, float* sin)
    {
        for (int h = 0; h < n; h += headSize)
            for (int i = 0; i < headSize; i += 2)
            {
                float c = cos[i >> 1], s = sin[i >> 1];
                float a = x[h + i], b = x[h + i + 1];
                x[h + i] = a * c - b * s;
                x[h + i + 1] = a * s + b * c;
            }
    }

    /// <summary>
    /// One query position against a KV cache, for all heads with grouped-query sharing:
    /// out[h] = Σ_t softmax_t(q[h]·k[t, h / group] / sqrt(headSize)) · v[t, h / group] for t in [0, len).
    /// keys/values are [maxLen, kvDim] for one layer; scratch holds len floats.
    /// </summary>
    public static void Attention(float* q, float* keys, float* values, float* outp, int nHeads, int nKvHeads, int headSize, int len, float* scratch)
    {
        int kvDim = nKvHeads * headSize;
        int group = nHeads / nKvHeads;
        float scale = 1f / MathF.Sqrt(headSize);
        for (int h = 0; h < nHeads; h++)
        {
            float* qh = q + h * headSize;
            int kvh = h / group;
            float max = float.NegativeInfinity;
            for (int t = 0; t < len; t++)
            {
                float s = Dot(qh, keys + (long)t * kvDim + kvh * headSize, headSize) * scale;
                scratch[t] = s;
                if (s > max) max = s;
            }
            float sum = 0;
            for (int t = 0; t < len; t++)
            {
                float e = MathF.Exp(scratch[t] - max);
                scratch[t] = e;
                sum += e;
            }
            float inv = 1f / sum;
            float* o = outp + h * headSize;
            new Span<float>(o, headSize).Clear();
            for (int t = 0; t < len; t++)
            {
                float a = scratch[t] * inv;
                float* v = values + (long)t * kvDim + kvh * headSize;
                Axpy(a, v, o, headSize);
            }
        }
    }

    /// <summary>
    /// <see cref="Attention"/> with the key cache stored transposed, [kvHeads, headSize, maxLen] per layer (<paramref name="keysT"/>),
    /// so the scores of all positions come out of contiguous vector FMAs and the softmax is vectorized. Values stay
    /// [maxLen, kvDim]. <paramref name="scratch"/> holds len floats (rounded up to a whole vector).
    /// </summary>
    public static void AttentionT(float* q, float* keysT, float* values, float* outp, int nHeads, int nKvHeads, int headSize, int len, int maxLen, float* scratch)
    {
        int kvDim = nKvHeads * headSize;
        int group = nHeads / nKvHeads;
        for (int h = 0; h < nHeads; h++)
            AttentionHeadT(q + h * headSize, keysT + (long)(h / group) * headSize * maxLen, values + (h / group) * headSize, outp + h * headSize,
                headSize, kvDim, len, maxLen, scratch);
    }

    /// <summary>
    /// One head of <see cref="AttentionT"/>: <paramref name="qh"/> [headSize], <paramref name="kt"/> its KV head's transposed keys
    /// [headSize, maxLen], <paramref name="vh"/> its KV head's values (row stride <paramref name="kvDim"/>), <paramref name="o"/> [headSize].
    /// </summary>
    public static void AttentionHeadT(float* qh, float* kt, float* vh, float* o, int headSize, int kvDim, int len, int maxLen, float* scratch) =>
        KvCache.AttentionHead<float, KvCache.FloatElements>(qh, kt, null, vh, null, 0, o, headSize, kvDim, len, maxLen, scratch);

    /// <summary>Writes one position's keys [kvDim] into the transposed cache [kvHeads, headSize, maxLen].</summary>
    public static void StoreKeyT(float* k, float* keysT, int kvDim, int maxLen, int pos)
    {
        for (int i = 0; i < kvDim; i++) keysT[(long)i * maxLen + pos] = k[i];
    }

    /// <summary>x = softmax(x) over n elements (max subtracted first), vectorized exp.</summary>
    public static void SoftmaxInPlace(float* x, int n)
    {
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++) if (x[i] > max) max = x[i];
        float sum = 0;
        int j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vmax = Vector256.Create(max);
            var vsum = Vector256<float>.Zero;
            for (; j + 8 <= n; j += 8)
            {
                var e = VectorMath.Exp(Vector256.Load(x + j) - vmax);
                Vector256.Store(e, x + j);
                vsum += e;
            }
            sum = Vector256.Sum(vsum);
        }
        for (; j < n; j++)
        {
            float e = MathF.Exp(x[j] - max);
            x[j] = e;
            sum += e;
        }
        float inv = 1f / sum;
        j = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var vinv = Vector256.Create(inv);
            for (; j + 8 <= n; j += 8) Vector256.Store(Vector256.Load(x + j) * vinv, x + j);
        }
        for (; j < n; j++) x[j] *= inv;
    }

    /// <summary>y += a · x.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Axpy(float a, float* x, float* y, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            var va = Vector256.Create(a);
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.FusedMultiplyAdd(va, Vector256.Load(x + i), Vector256.Load(y + i)), y + i);
        }
        for (; i < n; i++) y[i] += a * x[i];
    }

    /// <summary>SwiGLU: g[i] = silu(g[i]) · u[i] with silu(x) = x / (1 + e^-x); vectorized exp (VectorMath).</summary>
    public static void SwiGlu(float* g, float* u, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
        {
            for (; i + 8 <= n; i += 8)
            {
                var x = Vector256.Load(g + i);
                Vector256.Store(x / (Vector256<float>.One + VectorMath.Exp(-x)) * Vector256.Load(u + i), g + i);
            }
        }
        for (; i < n; i++)
        {
            float x = g[i];
            g[i] = x / (1f + MathF.Exp(-x)) * u[i];
        }
    }

    /// <summary>Scalar reference of <see cref="SwiGlu"/>.</summary>
    internal static void SwiGluScalar(float* g, float* u, int n)
    {
        for (int i = 0; i < n; i++)
        {
            float x = g[i];
            g[i] = x / (1f + MathF.Exp(-x)) * u[i];
        }
    }

    /// <summary>cos/sin tables [context, headSize/2]: θ = pos · theta^(-2i/headSize), computed in float as llama2.c does.</summary>
    public static void RopeTable(float* cos, float* sin, int context, int headSize, float theta)
    {
        for (int pos = 0; pos < context; pos++)
            for (int i = 0; i < headSize; i += 2)
            {
                float freq = 1.0f / MathF.Pow(theta, i / (float)headSize);
                float val = pos * freq;
                cos[(long)pos * (headSize / 2) + i / 2] = MathF.Cos(val);
                sin[(long)pos * (headSize / 2) + i / 2] = MathF.Sin(val);
            }
    }

    /// <summary>Copies row <paramref name="token"/> of an F32 embedding table [vocab, dim].</summary>
    public static void EmbeddingRowF32(byte* table, int token, float* x, int dim) =>
        Buffer.MemoryCopy((float*)table + (long)token * dim, x, dim * 4L, dim * 4L);

    /// <summary>Copies row <paramref name="token"/> of an F16 embedding table [vocab, dim], widening to float.</summary>
    public static void EmbeddingRowF16(byte* table, int token, float* x, int dim)
    {
        Half* r = (Half*)table + (long)token * dim;
        for (int i = 0; i < dim; i++) x[i] = (float)r[i];
    }

    /// <summary>Row <paramref name="token"/> of a Q8_0 embedding table [vocab, dim], dequantized.</summary>
    public static void EmbeddingRowQ8_0(byte* table, int token, float* x, int dim) =>
        BlockQuant.DequantizeQ8_0(table + (long)token * (dim / 32) * 34, x, dim);

    /// <summary>Row <paramref name="token"/> of a Q4_0 embedding table [vocab, dim], dequantized.</summary>
    public static void EmbeddingRowQ4_0(byte* table, int token, float* x, int dim) =>
        BlockQuant.DequantizeQ4_0(table + (long)token * (dim / 32) * 18, x, dim);

    /// <summary><see cref="MatVec"/> on F32 weights given as bytes.</summary>
    public static void MatVecF32(byte* w, float* x, float* y, int n, int rowStart, int rowEnd) => MatVec((float*)w, x, y, n, rowStart, rowEnd);

    /// <summary>Matrix-vector product with F16 weights [rows, n], widened to float element by element (scalar reference speed).</summary>
    public static void MatVecF16(byte* w, float* x, float* y, int n, int rowStart, int rowEnd)
    {
        Half* hw = (Half*)w;
        for (int i = rowStart; i < rowEnd; i++)
        {
            Half* r = hw + (long)i * n;
            int j = 0;
            float sum = 0;
            for (; j < n; j++) sum += (float)r[j] * x[j];
            y[i] = sum;
        }
    }

    /// <summary>y += x (the residual connection).</summary>
    public static void AddInPlace(float* y, float* x, int n)
    {
        int i = 0;
        if (Vector256.IsHardwareAccelerated)
            for (; i + 8 <= n; i += 8) Vector256.Store(Vector256.Load(y + i) + Vector256.Load(x + i), y + i);
        for (; i < n; i++) y[i] += x[i];
    }
}

