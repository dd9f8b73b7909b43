using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>Which integer dot-product instructions a block-quantized matrix product uses.</summary>
public enum Int8Path
{
    /// <summary>Scalar reference (exact int32 block sums).</summary>
    Scalar,
    /// <summary>AVX2: vpmaddubsw on |w| and sign-transferred x (no int16 saturation: |w| ≤ 128, |x| ≤ 127), then vpmaddwd.</summary>
    Avx2,
    /// <summary>AVX-VNNI: vpdpbusd on x + 128 (unsigned) and w (signed), the 128·Σw correction preloaded in the accumulator.</summary>
    AvxVnni,
}

/// <summary>
/// Matrix-matrix products of the prompt with block-quantized weights: the prompt's activations are quantized to int8 once per
/// product (<see cref="QuantizeRows"/>), then Y[t, r] = Σ_b d_w[r,b]·d_x[t,b]·Σ_k q_w[r,b,k]·q_x[t,b,k] is computed in register
/// tiles of 2 weight rows × 4 tokens, so each weight block is loaded (and Q4_0 unpacked) once for four tokens.
/// </summary>
public static unsafe class BlockQuantGemm
{
    /// <summary>The fastest path this machine (and this binary's ISA) supports.</summary>
    public static Int8Path BestPath =>
        AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported ? Int8Path.AvxVnni
        : Avx2.IsSupported && Fma.IsSupported ? Int8Path.Avx2
        : Int8Path.Scalar;

    /// <summary>Quantizes X [tokens, n] (n a multiple of 32) to int8 blocks: xq [tokens, n], scales xd [tokens, n/32].</summary>
    public static void QuantizeRows(float* x, sbyte* xq, float* xd, int tokens, int n)
    {
        for (int t = 0; t < tokens; t++) BlockQuant.QuantizeBlocks(x + (long)t * n, xq + (long)t * n, xd + (long)t * (n / 32), n);
    }

    /// <summary>
    /// Y[t·ldy + r] for t &lt; tokens, r in [rowStart, rowEnd): W [rows, n] in Q8_0 or Q4_0, xq/xd from <see cref="QuantizeRows"/>.
    /// Uses <see cref="BestPath"/>.
    /// </summary>
    public static void MatMul(WeightFormat format, byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd) =>
        MatMul(format, w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd, BestPath);

    /// <summary><see cref="MatMul(WeightFormat, byte*, sbyte*, float*, int, int, float*, int, int, int)"/> on a chosen path (tests run each).</summary>
    public static void MatMul(WeightFormat format, byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd, Int8Path path)
    {
        bool q8 = format == WeightFormat.Q8_0;
        switch (path)
        {
            case Int8Path.AvxVnni when AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported:
                if (q8) Run<Q8Blocks, VnniDot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                else Run<Q4Blocks, VnniDot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                return;
            case Int8Path.Avx2 when Avx2.IsSupported && Fma.IsSupported:
                if (q8) Run<Q8Blocks, Avx2Dot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                else Run<Q4Blocks, Avx2Dot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                return;
            case Int8Path.Scalar:
                MatMulScalar(format, w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                return;
            default:
                throw new PlatformNotSupportedException($"LLMAOT9032: the {path} int8 path is not supported on this machine");
        }
    }

    /// <summary>Scalar reference: exact int32 block sums, then the scales, summed in block order.</summary>
    public static void MatMulScalar(WeightFormat format, byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        bool q8 = format == WeightFormat.Q8_0;
        int blockBytes = q8 ? 34 : 18;
        for (int r = rowStart; r < rowEnd; r++)
        {
            byte* row = w + (long)r * nb * blockBytes;
            for (int t = 0; t < tokens; t++)
            {
                sbyte* x = xq + (long)t * n;
                float sum = 0;
                for (int b = 0; b < nb; b++)
                {
                    byte* blk = row + b * blockBytes;
                    int s = 0;
                    if (q8)
                        for (int k = 0; k < 32; k++) s += ((sbyte*)blk)[2 + k] * x[b * 32 + k];
                    else
                        for (int k = 0; k < 16; k++)
                        {
                            s += ((blk[2 + k] & 0xF) - 8) * x[b * 32 + k];
                            s += ((blk[2 + k] >> 4) - 8) * x[b * 32 + 16 + k];
                        }
                    sum += s * ((float)*(Half*)blk * xd[(long)t * nb + b]);
                }
                y[(long)t * ldy + r] = sum;
            }
        }
    }

    // ---- block formats: a block's 32 weights as signed bytes ----

    private interface IBlocks
    {
        static abstract int Bytes { get; }
        static abstract Vector256<sbyte> Load(byte* blk);
    }

    private struct Q8Blocks : IBlocks
    {
        public static int Bytes => 34;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> Load(byte* blk) => Vector256.Load((sbyte*)blk + 2);
    }

    private struct Q4Blocks : IBlocks
    {
        public static int Bytes => 18;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> Load(byte* blk)
        {
            // low nibbles are elements 0-15, high nibbles 16-31; q - 8 in [-8, 7]
            var raw = Vector128.Load(blk + 2);
            var u = Vector256.Create(raw, Vector128.ShiftRightLogical(raw.AsUInt16(), 4).AsByte()) & Vector256.Create((byte)0x0F);
            return u.AsSByte() - Vector256.Create((sbyte)8);
        }
    }

    // ---- integer dot products of one weight block with one activation block: 8 int32 partial sums ----

    private interface IDot
    {
        /// <summary>Per weight block, shared by all tokens: an operand derived from w and an accumulator start.</summary>
        static abstract void PrepareRow(Vector256<sbyte> w, out Vector256<sbyte> a, out Vector256<int> c);
        /// <summary>Per activation block, shared by all weight rows.</summary>
        static abstract Vector256<sbyte> PrepareX(Vector256<sbyte> x);
        static abstract Vector256<int> Dot(Vector256<sbyte> w, Vector256<sbyte> a, Vector256<int> c, Vector256<sbyte> x);
    }

    private struct VnniDot : IDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void PrepareRow(Vector256<sbyte> w, out Vector256<sbyte> a, out Vector256<int> c)
        {
            // Σ(x+128)·w - 128·Σw = Σx·w: the accumulator starts at -128·Σw (per lane)
            a = w;
            c = Vector256<int>.Zero - AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Vector256.Create((byte)0x80), w);
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> PrepareX(Vector256<sbyte> x) => (x.AsByte() ^ Vector256.Create((byte)0x80)).AsSByte();

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<sbyte> w, Vector256<sbyte> a, Vector256<int> c, Vector256<sbyte> x) =>
            AvxVnni.MultiplyWideningAndAdd(c, x.AsByte(), w);
    }

    private struct Avx2Dot : IDot
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static void PrepareRow(Vector256<sbyte> w, out Vector256<sbyte> a, out Vector256<int> c)
        {
            a = Avx2.Abs(w).AsSByte();
            c = default;
        }

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> PrepareX(Vector256<sbyte> x) => x;

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> Dot(Vector256<sbyte> w, Vector256<sbyte> a, Vector256<int> c, Vector256<sbyte> x) =>
            Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(a.AsByte(), Avx2.Sign(x, w)), Vector256.Create((short)1));
    }

    /// <summary>The tiled product: 2 rows × 4 tokens per register tile, single rows / tokens for the edges.</summary>
    private static void Run<TB, TD>(byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd)
        where TB : struct, IBlocks where TD : struct, IDot
    {
        int nb = n / 32;
        long rowBytes = (long)nb * TB.Bytes;
        float* table = BlockQuant.HalfTable;
        int r = rowStart;
        for (; r + 2 <= rowEnd; r += 2)
        {
            byte* w0 = w + r * rowBytes, w1 = w0 + rowBytes;
            int t = 0;
            for (; t + 4 <= tokens; t += 4)
            {
                Vector256<float> a00 = default, a01 = default, a02 = default, a03 = default;
                Vector256<float> a10 = default, a11 = default, a12 = default, a13 = default;
                sbyte* x0 = xq + (long)t * n;
                float* d0 = xd + (long)t * nb;
                for (int b = 0; b < nb; b++)
                {
                    byte* b0 = w0 + b * TB.Bytes, b1 = w1 + b * TB.Bytes;
                    var q0 = TB.Load(b0);
                    var q1 = TB.Load(b1);
                    TD.PrepareRow(q0, out var p0, out var c0);
                    TD.PrepareRow(q1, out var p1, out var c1);
                    var s0 = Vector256.Create(table[*(ushort*)b0]);
                    var s1 = Vector256.Create(table[*(ushort*)b1]);

                    var x = TD.PrepareX(Vector256.Load(x0 + b * 32));
                    var dx = Vector256.Create(d0[b]);
                    a00 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q0, p0, c0, x)), s0 * dx, a00);
                    a10 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q1, p1, c1, x)), s1 * dx, a10);

                    x = TD.PrepareX(Vector256.Load(x0 + n + b * 32));
                    dx = Vector256.Create(d0[nb + b]);
                    a01 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q0, p0, c0, x)), s0 * dx, a01);
                    a11 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q1, p1, c1, x)), s1 * dx, a11);

                    x = TD.PrepareX(Vector256.Load(x0 + 2L * n + b * 32));
                    dx = Vector256.Create(d0[2 * nb + b]);
                    a02 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q0, p0, c0, x)), s0 * dx, a02);
                    a12 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q1, p1, c1, x)), s1 * dx, a12);

                    x = TD.PrepareX(Vector256.Load(x0 + 3L * n + b * 32));
                    dx = Vector256.Create(d0[3 * nb + b]);
                    a03 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q0, p0, c0, x)), s0 * dx, a03);
                    a13 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(TD.Dot(q1, p1, c1, x)), s1 * dx, a13);
                }
                float* yt = y + (long)t * ldy + r;
                yt[0] = Vector256.Sum(a00); yt[1] = Vector256.Sum(a10);
                yt[ldy] = Vector256.Sum(a01); yt[ldy + 1] = Vector256.Sum(a11);
                yt[2L * ldy] = Vector256.Sum(a02); yt[2L * ldy + 1] = Vector256.Sum(a12);
                yt[3L * ldy] = Vector256.Sum(a03); yt[3L * ldy + 1] = Vector256.Sum(a13);
            }
            for (; t < tokens; t++)
            {
                y[(long)t * ldy + r] = Dot1<TB, TD>(w0, xq + (long)t * n, xd + (long)t * nb, nb);
                y[(long)t * ldy + r + 1] = Dot1<TB, TD>(w1, xq + (long)t * n, xd + (long)t * nb, nb);
            }
        }
        for (; r < rowEnd; r++)
            for (int t = 0; t < tokens; t++)
                y[(long)t * ldy + r] = Dot1<TB, TD>(w + r * rowBytes, xq + (long)t * n, xd + (long)t * nb, nb);
    }

    /// <summary>One weight row with one token's activations.</summary>
    private static float Dot1<TB, TD>(byte* row, sbyte* x, float* d, int nb) where TB : struct, IBlocks where TD : struct, IDot
    {
        float* table = BlockQuant.HalfTable;
        var acc = Vector256<float>.Zero;
        for (int b = 0; b < nb; b++)
        {
            byte* blk = row + b * TB.Bytes;
            var q = TB.Load(blk);
            TD.PrepareRow(q, out var p, out var c);
            var s = TD.Dot(q, p, c, TD.PrepareX(Vector256.Load(x + b * 32)));
            acc = Fma.MultiplyAdd(Avx.ConvertToVector256Single(s), Vector256.Create(table[*(ushort*)blk]) * Vector256.Create(d[b]), acc);
        }
        return Vector256.Sum(acc);
    }
}
