using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>Weight formats of a language model's matrices.</summary>
public enum WeightFormat
{
    /// <summary>float32.</summary>
    F32,
    /// <summary>float16.</summary>
    F16,
    /// <summary>ggml Q8_0 blocks.</summary>
    Q8_0,
    /// <summary>ggml Q4_0 blocks.</summary>
    Q4_0,
    /// <summary>com.microsoft MatMulNBits 4-bit blocks of 32 with float scales after the blocks (see <see cref="NBits.MatVecRows4"/>).</summary>
    NBits4,
}

/// <summary>Up to three matrix-vector products sharing one input vector, split by rows over a <see cref="WorkerPool"/>.</summary>
public unsafe struct MatVecJob
{
    /// <summary>Weight format of all three matrices.</summary>
    public WeightFormat Format;
    /// <summary>Input length (columns).</summary>
    public int N;
    /// <summary>Float input (F32/F16 weights).</summary>
    public float* X;
    /// <summary>int8 input and its per-32 scales (Q8_0/Q4_0 weights).</summary>
    public sbyte* Xq;
    /// <summary>Scales of <see cref="Xq"/>.</summary>
    public float* Xd;
    /// <summary>Matrices [rows, N].</summary>
    public byte* W0, W1, W2;
    /// <summary>Outputs.</summary>
    public float* Y0, Y1, Y2;
    /// <summary>Rows of each matrix (0 = absent).</summary>
    public int Rows0, Rows1, Rows2;
}

/// <summary>Matrix products of the prompt: Y[t, r] = Σ_k X[t, k]·W[r, k], rows of W split over the pool.</summary>
public unsafe struct MatMulJob
{
    /// <summary>Weight format.</summary>
    public WeightFormat Format;
    /// <summary>Tokens (rows of X and Y), columns of X, rows of W.</summary>
    public int Tokens, N, Rows;
    /// <summary>X [Tokens, N].</summary>
    public float* X;
    /// <summary>W [Rows, N].</summary>
    public byte* W;
    /// <summary>Y with row stride <see cref="Ldy"/>.</summary>
    public float* Y;
    /// <summary>Row stride of Y.</summary>
    public int Ldy;
    /// <summary>The pool's per-thread scratch: thread i uses Scratch + i·ScratchBytes.</summary>
    public byte* Scratch;
    /// <summary>Bytes of scratch per thread.</summary>
    public long ScratchBytes;
    /// <summary>X quantized to int8 blocks [Tokens, N] and its scales [Tokens, N/32] (Q8_0/Q4_0 weights), or null.</summary>
    public sbyte* Xq;
    /// <summary>Scales of <see cref="Xq"/>.</summary>
    public float* Xd;
    /// <summary>Xq/Xd regrouped once for all shares (<see cref="BlockQuantGemm.Regroup"/>), or null.</summary>
    public byte* Regrouped;
}

/// <summary>Causal attention of the prompt's tokens over the KV cache (already holding them), tokens split over the pool.</summary>
public unsafe struct PromptAttentionJob
{
    /// <summary>Q [Tokens, Heads·HeadSize], out [Tokens, Heads·HeadSize].</summary>
    public float* Q, Out;
    /// <summary>The layer's transposed key cache and value cache.</summary>
    public float* KeysT, Values;
    /// <summary>Shapes.</summary>
    public int Heads, KvHeads, HeadSize, Start, Tokens, MaxLen;
    /// <summary>Element type of the cache (KeysT/Values point at Half or sbyte elements when not F32).</summary>
    public KvFormat Kv;
    /// <summary>Int8 caches: key scales [KvHeads, MaxLen] and value scales [MaxLen, KvHeads].</summary>
    public float* KeyScales, ValueScales;
    /// <summary>The pool's per-thread scratch: thread i uses Scratch + i·ScratchBytes.</summary>
    public byte* Scratch;
    /// <summary>Bytes of scratch per thread.</summary>
    public long ScratchBytes;
}

/// <summary>
/// One decode step's attention (<see cref="LlmParallel.DecodeAttention"/>): RoPE on the position's query and keys, the key/value
/// store into the cache and single-query attention, split over the pool by KV head.
/// </summary>
public unsafe struct DecodeAttentionJob
{
    /// <summary>Element type of the cache.</summary>
    public KvFormat Kv;
    /// <summary>This position's query [Heads·HeadSize], keys and values [KvHeads·HeadSize] (V unused by F32 caches: the values are already in their cache row).</summary>
    public float* Q, K, V;
    /// <summary>RoPE table rows of this position [HeadSize/2].</summary>
    public float* Cos, Sin;
    /// <summary>The layer's transposed key cache [KvHeads·HeadSize, MaxLen] and value cache [MaxLen, KvHeads·HeadSize] (F32, Half or sbyte elements).</summary>
    public void* KeysT, Values;
    /// <summary>Int8 caches: key scales [KvHeads, MaxLen] and value scales [MaxLen, KvHeads].</summary>
    public float* KeyScales, ValueScales;
    /// <summary>Attention output [Heads·HeadSize].</summary>
    public float* Out;
    /// <summary>Shapes and the position.</summary>
    public int Heads, KvHeads, HeadSize, Pos, MaxLen;
    /// <summary>The pool's per-thread scratch: thread i uses Scratch + i·ScratchBytes (MaxLen floats of scores).</summary>
    public byte* Scratch;
    /// <summary>Bytes of scratch per thread.</summary>
    public long ScratchBytes;
    /// <summary>Prefetch each KV head's cached keys and values before its attention.</summary>
    public bool Prefetch;
}

/// <summary>
/// The parallel parts of a generated language model: matrix-vector products for decoding (int8 activations for block-quantized
/// weights), matrix-matrix products for the prompt (F32 weights go straight to <see cref="Gemm"/>; Q8_0/Q4_0/F16 rows are
/// widened a tile at a time into per-thread scratch, never the whole tensor), and prompt attention.
/// </summary>
public static unsafe class LlmParallel
{
    // Decode products (MatVec, GateUpSwiGlu) split their rows into one share per thread: each thread then streams one
    // contiguous range of weight rows, which the hardware prefetchers follow best. Four shares per thread, claimed
    // dynamically, measured 7-9% slower on 110m decode with 2 threads (Q4_0 513 vs 558 tok/s, Q8_0 336 vs 358; medians of 5).
    // Claiming stays dynamic, so the caller still takes a share a worker has not started.

    /// <summary>Multiply-adds below which a product runs on the calling thread alone.</summary>
    public const long MinParallelWork = 1 << 15;

    /// <summary>Floats of per-thread scratch the prompt products use (a tile of widened weight rows).</summary>
    public const int ScratchFloats = 1 << 16;

    /// <summary>
    /// y_i = W_i · x for up to three matrices [rows_i, n] of one format (e.g. the Q, K and V projections); for Q8_0/Q4_0, x is first
    /// quantized to int8 blocks in <paramref name="xq"/> (n bytes) and <paramref name="xd"/> (n/32 floats).
    /// </summary>
    public static void MatVec(WorkerPool pool, WeightFormat format, int n, float* x, sbyte* xq, float* xd,
        byte* w0, float* y0, int rows0, byte* w1 = null, float* y1 = null, int rows1 = 0, byte* w2 = null, float* y2 = null, int rows2 = 0)
    {
        if (format is WeightFormat.Q8_0 or WeightFormat.Q4_0) BlockQuant.QuantizeActivations(x, xq, xd, n);
        if (format == WeightFormat.NBits4)
        {
            // MatMulNBits rows read the input reordered to their nibble order, once per product, in the (idle) pool scratch
            float* perm = (float*)pool.Scratch(0);
            NBits.PermuteActivations4(x, perm, n, (n + 31) & ~31);
            x = perm;
        }
        MatVecJob j;
        j.Format = format; j.N = n; j.X = x; j.Xq = xq; j.Xd = xd;
        j.W0 = w0; j.Y0 = y0; j.Rows0 = rows0;
        j.W1 = w1; j.Y1 = y1; j.Rows1 = rows1;
        j.W2 = w2; j.Y2 = y2; j.Rows2 = rows2;
        int total = rows0 + rows1 + rows2;
        if (pool.Threads == 1 || (long)total * n < MinParallelWork) MatVecShare(&j, 0, 1, 0);
        else pool.Run(&MatVecShare, &j, Math.Min(pool.Threads, Math.Max(1, total / 16)));
    }

    private static void MatVecShare(void* args, int index, int threads, int thread)
    {
        var j = (MatVecJob*)args;
        int total = j->Rows0 + j->Rows1 + j->Rows2;
        int r0 = Split(total, index, threads), r1 = Split(total, index + 1, threads);
        Segment(j, j->W0, j->Y0, 0, j->Rows0, r0, r1);
        Segment(j, j->W1, j->Y1, j->Rows0, j->Rows1, r0, r1);
        Segment(j, j->W2, j->Y2, j->Rows0 + j->Rows1, j->Rows2, r0, r1);
    }

    /// <summary>Start of share <paramref name="index"/> of <paramref name="total"/> rows, a multiple of 4.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Split(int total, int index, int threads) =>
        index >= threads ? total : (int)((long)total * index / threads) & ~3;

    private static void Segment(MatVecJob* j, byte* w, float* y, int offset, int rows, int r0, int r1)
    {
        int s = Math.Max(r0 - offset, 0), e = Math.Min(r1 - offset, rows);
        if (s >= e) return;
        switch (j->Format)
        {
            case WeightFormat.F32: Transformer.MatVecF32(w, j->X, y, j->N, s, e); break;
            case WeightFormat.F16: Transformer.MatVecF16(w, j->X, y, j->N, s, e); break;
            case WeightFormat.Q8_0: BlockQuant.MatVecQ8_0Q8(w, j->Xq, j->Xd, y, j->N, s, e); break;
            case WeightFormat.NBits4: NBits.MatVecRows4(w, j->X, y, j->N, rows, s, e); break;
            default: BlockQuant.MatVecQ4_0Q8(w, j->Xq, j->Xd, y, j->N, s, e); break;
        }
    }

    /// <summary>
    /// The attention of one decode step after the Q/K/V projections, one pool job split by KV head: for each KV head g (a chunk),
    /// RoPE on its keys, its keys (transposed) and values into the cache at <paramref name="pos"/> (an F32 cache's values are
    /// already in their row: the V projection wrote them there), then for each query head h of g's group RoPE on h's query and
    /// attention over positions [0, pos] into <paramref name="outp"/>. Each head is computed as by <see cref="Transformer.AttentionT"/>
    /// (or the <see cref="KvCache"/> kernels), so results do not depend on the thread count. The pool's scratch must hold
    /// maxLen floats per thread (the scores). With <paramref name="prefetch"/> each chunk first prefetches its KV head's cached
    /// keys and values (for models whose weights, streamed once per token, evict the cache from L2/L3; a small model's cache stays
    /// there and the prefetches would only cost).
    /// </summary>
    public static void DecodeAttention(WorkerPool pool, KvFormat kv, float* q, float* k, float* v, float* cos, float* sin,
        void* keysT, void* values, float* keyScales, float* valueScales, float* outp, int heads, int kvHeads, int headSize, int pos, int maxLen, bool prefetch)
    {
        DecodeAttentionJob j;
        j.Kv = kv; j.Q = q; j.K = k; j.V = v; j.Cos = cos; j.Sin = sin;
        j.KeysT = keysT; j.Values = values; j.KeyScales = keyScales; j.ValueScales = valueScales; j.Out = outp;
        j.Heads = heads; j.KvHeads = kvHeads; j.HeadSize = headSize; j.Pos = pos; j.MaxLen = maxLen;
        j.Scratch = pool.Scratch(0); j.ScratchBytes = pool.ScratchBytes;
        j.Prefetch = prefetch;
        // scores and weighted values: 2·headSize multiply-adds per head and position
        if (pool.Threads == 1 || 2L * heads * headSize * (pos + 1) < MinParallelWork)
            for (int g = 0; g < kvHeads; g++) DecodeAttentionShare(&j, g, kvHeads, 0);
        else pool.Run(&DecodeAttentionShare, &j, kvHeads);
    }

    private static void DecodeAttentionShare(void* args, int g, int chunks, int thread)
    {
        var j = (DecodeAttentionJob*)args;
        int hs = j->HeadSize, kvDim = j->KvHeads * hs, group = j->Heads / j->KvHeads, len = j->Pos + 1, maxLen = j->MaxLen;
        float* scratch = (float*)(j->Scratch + thread * j->ScratchBytes);
        int k0 = g * hs;
        int elem = j->Kv switch { KvFormat.F16 => 2, KvFormat.Int8 => 1, _ => 4 };
        // Start loading the group's cached keys and values (positions [0, pos)) now: they were evicted by the weights streamed
        // since the last token, and the attention loops alone keep few misses in flight.
        if (j->Prefetch) PrefetchKv((byte*)j->KeysT + (long)k0 * maxLen * elem, (byte*)j->Values + (long)k0 * elem, hs, kvDim, j->Pos, maxLen, elem);
        Transformer.Rope(j->K + k0, hs, hs, j->Cos, j->Sin);
        // this position's keys (transposed) and values of KV head g into the cache
        switch (j->Kv)
        {
            case KvFormat.F16:
                KvCache.StoreKeyTF16(j->K + k0, (Half*)j->KeysT + (long)k0 * maxLen, hs, maxLen, j->Pos);
                KvCache.StoreValueF16(j->V + k0, (Half*)j->Values + (long)j->Pos * kvDim + k0, hs);
                break;
            case KvFormat.Int8:
                KvCache.StoreKeyTInt8(j->K + k0, (sbyte*)j->KeysT + (long)k0 * maxLen, j->KeyScales + (long)g * maxLen, hs, hs, maxLen, j->Pos);
                KvCache.StoreValueInt8(j->V + k0, (sbyte*)j->Values + (long)j->Pos * kvDim + k0, j->ValueScales + (long)j->Pos * j->KvHeads + g, hs, hs);
                break;
            default:
                Transformer.StoreKeyT(j->K + k0, (float*)j->KeysT + (long)k0 * maxLen, hs, maxLen, j->Pos);
                break;
        }
        // the query heads of g's group: RoPE, attention
        for (int h = g * group; h < (g + 1) * group; h++)
        {
            float* qh = j->Q + h * hs, o = j->Out + h * hs;
            Transformer.Rope(qh, hs, hs, j->Cos, j->Sin);
            switch (j->Kv)
            {
                case KvFormat.F16:
                    KvCache.AttentionHeadTF16(qh, (Half*)j->KeysT + (long)k0 * maxLen, (Half*)j->Values + k0, o, hs, kvDim, len, maxLen, scratch);
                    break;
                case KvFormat.Int8:
                    KvCache.AttentionHeadTInt8(qh, (sbyte*)j->KeysT + (long)k0 * maxLen, j->KeyScales + (long)g * maxLen, (sbyte*)j->Values + k0,
                        j->ValueScales + g, j->KvHeads, o, hs, kvDim, len, maxLen, scratch);
                    break;
                default:
                    Transformer.AttentionHeadT(qh, (float*)j->KeysT + (long)k0 * maxLen, (float*)j->Values + k0, o, hs, kvDim, len, maxLen, scratch);
                    break;
            }
        }
    }

    /// <summary>
    /// Prefetches one KV head's cache for positions [0, len): the transposed keys (headSize rows of len elements, row stride
    /// maxLen) and the values (len rows of headSize elements, row stride kvDim), elements of <paramref name="elem"/> bytes.
    /// </summary>
    private static void PrefetchKv(byte* keysT, byte* values, int headSize, int kvDim, int len, int maxLen, int elem)
    {
        if (!Sse.IsSupported || len <= 0) return;
        long keyBytes = (long)len * elem, keyStride = (long)maxLen * elem, valueBytes = (long)headSize * elem, valueStride = (long)kvDim * elem;
        for (int d = 0; d < headSize; d++)
        {
            byte* r = keysT + d * keyStride;
            for (long b = 0; b < keyBytes; b += 64) Sse.Prefetch0(r + b);
        }
        for (int t = 0; t < len; t++)
        {
            byte* r = values + t * valueStride;
            for (long b = 0; b < valueBytes; b += 64) Sse.Prefetch0(r + b);
        }
    }

    /// <summary>Rows [s, e) of y = W·x in <paramref name="format"/> (not NBits4).</summary>
    private static void Rows(WeightFormat format, int n, float* x, sbyte* xq, float* xd, byte* w, float* y, int s, int e)
    {
        switch (format)
        {
            case WeightFormat.F32: Transformer.MatVecF32(w, x, y, n, s, e); break;
            case WeightFormat.F16: Transformer.MatVecF16(w, x, y, n, s, e); break;
            case WeightFormat.Q8_0: BlockQuant.MatVecQ8_0Q8(w, xq, xd, y, n, s, e); break;
            default: BlockQuant.MatVecQ4_0Q8(w, xq, xd, y, n, s, e); break;
        }
    }

    /// <summary>
    /// The gate and up products of the feed-forward and SwiGLU in one pool job: g = silu(Wg·x) ⊙ (Wu·x) into <paramref name="g"/>
    /// (<paramref name="u"/> holds Wu·x). Each chunk takes the same rows of both matrices and applies SwiGLU to them; chunk
    /// boundaries are multiples of 16, so each element takes the same (vector or scalar) SwiGLU path as one call over all rows
    /// and results do not depend on the thread count. For Q8_0/Q4_0 weights x is first quantized into xq/xd.
    /// </summary>
    public static void GateUpSwiGlu(WorkerPool pool, WeightFormat format, int n, float* x, sbyte* xq, float* xd, byte* wg, float* g, byte* wu, float* u, int rows)
    {
        if (format == WeightFormat.NBits4)
        {
            MatVec(pool, format, n, x, xq, xd, wg, g, rows, wu, u, rows);
            Transformer.SwiGlu(g, u, rows);
            return;
        }
        if (format is WeightFormat.Q8_0 or WeightFormat.Q4_0) BlockQuant.QuantizeActivations(x, xq, xd, n);
        MatVecJob j;
        j.Format = format; j.N = n; j.X = x; j.Xq = xq; j.Xd = xd;
        j.W0 = wg; j.Y0 = g; j.Rows0 = rows;
        j.W1 = wu; j.Y1 = u; j.Rows1 = rows;
        j.W2 = null; j.Y2 = null; j.Rows2 = 0;
        if (pool.Threads == 1 || 2L * rows * n < MinParallelWork) GateUpShare(&j, 0, 1, 0);
        else pool.Run(&GateUpShare, &j, Math.Min(pool.Threads, Math.Max(1, rows / 16)));
    }

    private static void GateUpShare(void* args, int index, int chunks, int thread)
    {
        var j = (MatVecJob*)args;
        int rows = j->Rows0;
        int s = index == 0 ? 0 : (int)((long)rows * index / chunks) & ~15;
        int e = index + 1 >= chunks ? rows : (int)((long)rows * (index + 1) / chunks) & ~15;
        if (s >= e) return;
        Rows(j->Format, j->N, j->X, j->Xq, j->Xd, j->W0, j->Y0, s, e);
        Rows(j->Format, j->N, j->X, j->Xq, j->Xd, j->W1, j->Y1, s, e);
        Transformer.SwiGlu(j->Y0 + s, j->Y1 + s, e - s);
    }

    /// <summary>
    /// Y[t, r] = Σ_k X[t, k]·W[r, k] for t &lt; tokens, r &lt; rows: X [tokens, n] row-major, W [rows, n] in its format, Y with row
    /// stride <paramref name="ldy"/>. The pool's scratch must hold <see cref="ScratchFloats"/> floats per thread.
    /// With Q8_0/Q4_0 weights and <paramref name="xq"/> given (tokens·n bytes; <paramref name="xd"/> tokens·n/32 floats), X is
    /// quantized to int8 blocks once and the product runs as an integer GEMM (<see cref="BlockQuantGemm"/>); otherwise quantized
    /// rows are widened to float a tile at a time.
    /// </summary>
    public static void MatMul(WorkerPool pool, WeightFormat format, int tokens, int n, float* x, byte* w, int rows, float* y, int ldy, sbyte* xq = null, float* xd = null) =>
        MatMul(pool, format, tokens, n, x, w, rows, y, ldy, xq, xd, quantized: false);

    /// <summary>
    /// <see cref="MatMul(WorkerPool, WeightFormat, int, int, float*, byte*, int, float*, int, sbyte*, float*)"/>; with
    /// <paramref name="quantized"/>, xq/xd (and the regrouped copy in the pool's scratch) still hold this x from the previous
    /// product of the same format (e.g. K and V after Q), so x is not quantized again.
    /// </summary>
    public static void MatMul(WorkerPool pool, WeightFormat format, int tokens, int n, float* x, byte* w, int rows, float* y, int ldy, sbyte* xq, float* xd, bool quantized)
    {
        MatMulJob j;
        j.Format = format; j.Tokens = tokens; j.N = n; j.Rows = rows; j.X = x; j.W = w; j.Y = y; j.Ldy = ldy;
        j.Scratch = pool.Scratch(0); j.ScratchBytes = pool.ScratchBytes;
        j.Xq = null; j.Xd = null; j.Regrouped = null;
        if (xq != null && xd != null && format is WeightFormat.Q8_0 or WeightFormat.Q4_0)
        {
            j.Xq = xq; j.Xd = xd;
            // the AVX-512 Q4_0 GEMM's regrouped activations, once for all shares, in thread 0's scratch (the integer GEMM uses no other)
            if (BlockQuantGemm.RegroupsActivations(format, n) && BlockQuantGemm.RegroupedBytes(tokens, n) <= pool.ScratchBytes)
                j.Regrouped = pool.Scratch(0);
            // quantized (and regrouped) token by token, the tokens split over the pool
            if (!quantized)
            {
                if (pool.Threads == 1 || tokens < 2) PrepareRowsShare(&j, 0, 1, 0);
                else pool.Run(&PrepareRowsShare, &j, Math.Min(pool.Threads, tokens));
            }
        }
        if (pool.Threads == 1) MatMulShare(&j, 0, 1, 0);
        else pool.Run(&MatMulShare, &j, Math.Min(pool.Threads * 4, Math.Max(1, rows / 32)));
    }

    /// <summary>Tokens [index·tokens/chunks, (index+1)·tokens/chunks) of a prompt product quantized to int8 blocks (and regrouped).</summary>
    private static void PrepareRowsShare(void* args, int index, int chunks, int thread)
    {
        var j = (MatMulJob*)args;
        int n = j->N, t0 = (int)((long)j->Tokens * index / chunks), t1 = (int)((long)j->Tokens * (index + 1) / chunks);
        if (t0 >= t1) return;
        BlockQuantGemm.QuantizeRows(j->X + (long)t0 * n, j->Xq + (long)t0 * n, j->Xd + (long)t0 * (n / 32), t1 - t0, n);
        if (j->Regrouped != null)
            BlockQuantGemm.Regroup(j->Xq + (long)t0 * n, j->Xd + (long)t0 * (n / 32), t1 - t0, n, j->Regrouped + BlockQuantGemm.RegroupedBytes(t0, n));
    }

    private static void MatMulShare(void* args, int index, int threads, int thread)
    {
        var j = (MatMulJob*)args;
        int rows = j->Rows, n = j->N;
        // shares in multiples of 16 rows (whole register tiles of the GEMM)
        int r0 = index == 0 ? 0 : (int)((long)rows * index / threads) & ~15;
        int r1 = index + 1 >= threads ? rows : (int)((long)rows * (index + 1) / threads) & ~15;
        if (r0 >= r1) return;
        if (j->Xq != null)
        {
            BlockQuantGemm.MatMul(j->Format, j->W, j->Xq, j->Xd, j->Tokens, n, j->Y, j->Ldy, r0, r1, j->Regrouped);
            return;
        }
        if (j->Format == WeightFormat.F32)
        {
            Gemm.Run(j->Tokens, r1 - r0, n, j->X, n, false, (float*)j->W + (long)r0 * n, n, true, j->Y + r0, j->Ldy, 1f, 0f, null, Epilogue.None);
            return;
        }
        float* tile = (float*)(j->Scratch + thread * j->ScratchBytes);
        int tileRows = Math.Max(1, ScratchFloats / n);
        if (tileRows >= 16) tileRows &= ~15;
        for (int r = r0; r < r1; r += tileRows)
        {
            int e = Math.Min(r1, r + tileRows);
            switch (j->Format)
            {
                case WeightFormat.Q8_0: BlockQuant.DequantizeRowsQ8_0(j->W, tile, n, r, e); break;
                case WeightFormat.Q4_0: BlockQuant.DequantizeRowsQ4_0(j->W, tile, n, r, e); break;
                case WeightFormat.NBits4: NBits.DequantizeRows4(j->W, tile, n, rows, r, e); break;
                default:
                    {
                        Half* h = (Half*)j->W + (long)r * n;
                        for (long i = 0; i < (long)(e - r) * n; i++) tile[i] = (float)h[i];
                        break;
                    }
            }
            Gemm.Run(j->Tokens, e - r, n, j->X, n, false, tile, n, true, j->Y + r, j->Ldy, 1f, 0f, null, Epilogue.None);
        }
    }

    /// <summary>
    /// For each prompt token t (position start + t): out[t] = causal attention of Q[t] over cache positions [0, start + t].
    /// The cache must already hold the prompt's keys and values. Needs MaxLen floats of pool scratch per thread.
    /// </summary>
    public static void PromptAttention(WorkerPool pool, float* q, float* keysT, float* values, float* outp, int heads, int kvHeads, int headSize, int start, int tokens, int maxLen) =>
        PromptAttention(pool, KvFormat.F32, q, keysT, values, null, null, outp, heads, kvHeads, headSize, start, tokens, maxLen);

    /// <summary>
    /// <see cref="PromptAttention(WorkerPool, float*, float*, float*, float*, int, int, int, int, int, int)"/> over a cache of
    /// <paramref name="kv"/> elements (<see cref="KvCache"/>): keysT/values point at the layer's Half or sbyte elements; the
    /// scales are used by int8 caches only.
    /// </summary>
    public static void PromptAttention(WorkerPool pool, KvFormat kv, float* q, void* keysT, void* values, float* keyScales, float* valueScales, float* outp,
        int heads, int kvHeads, int headSize, int start, int tokens, int maxLen)
    {
        PromptAttentionJob j;
        j.Kv = kv; j.KeyScales = keyScales; j.ValueScales = valueScales;
        j.Q = q; j.Out = outp; j.KeysT = (float*)keysT; j.Values = (float*)values; j.Heads = heads; j.KvHeads = kvHeads; j.HeadSize = headSize;
        j.Start = start; j.Tokens = tokens; j.MaxLen = maxLen;
        j.Scratch = pool.Scratch(0); j.ScratchBytes = pool.ScratchBytes;
        if (pool.Threads == 1 || tokens == 1) AttentionShare(&j, 0, 1, 0);
        else pool.Run(&AttentionShare, &j, Math.Min(tokens, pool.Threads * 4));
    }

    private static void AttentionShare(void* args, int index, int threads, int thread)
    {
        var j = (PromptAttentionJob*)args;
        float* scratch = (float*)(j->Scratch + thread * j->ScratchBytes);
        int dim = j->Heads * j->HeadSize;
        // chunks interleave the tokens so the long (late) rows are shared evenly
        for (int t = index; t < j->Tokens; t += threads)
        {
            float* q = j->Q + (long)t * dim, o = j->Out + (long)t * dim;
            int len = j->Start + t + 1;
            switch (j->Kv)
            {
                case KvFormat.F16: KvCache.AttentionTF16(q, (Half*)j->KeysT, (Half*)j->Values, o, j->Heads, j->KvHeads, j->HeadSize, len, j->MaxLen, scratch); break;
                case KvFormat.Int8: KvCache.AttentionTInt8(q, (sbyte*)j->KeysT, j->KeyScales, (sbyte*)j->Values, j->ValueScales, o, j->Heads, j->KvHeads, j->HeadSize, len, j->MaxLen, scratch); break;
                default: Transformer.AttentionT(q, j->KeysT, j->Values, o, j->Heads, j->KvHeads, j->HeadSize, len, j->MaxLen, scratch); break;
            }
        }
    }
}
