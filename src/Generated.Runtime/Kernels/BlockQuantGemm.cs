using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>Which integer dot-product instructions a block-quantized matrix product uses.</summary>
public enum BlockInt8Path
{
    /// <summary>Scalar reference (exact int32 block sums).</summary>
    Scalar,
    /// <summary>AVX2: vpmaddubsw on |w| and sign-transferred x (no int16 saturation: |w| ≤ 128, |x| ≤ 127), then vpmaddwd.</summary>
    Avx2,
    /// <summary>AVX-VNNI: vpdpbusd on x + 128 (unsigned) and w (signed), the 128·Σw correction preloaded in the accumulator.</summary>
    AvxVnni,
    /// <summary>
    /// AVX-512 (F/BW, GFNI when present), Q4_0 only: x is regrouped so that each int32 lane of a vector belongs to one block of
    /// eight; per eight blocks two vpermt2w pick the weights' quant bytes, the nibbles are split (one GFNI affine transform, else
    /// shift + and), four vpmaddubsw sum as int16, one vpmaddwd, one convert and one FMA with the eight fp16 scales widened in
    /// one vector (<see cref="BlockQuant.LoadGroup{TNibbles}"/>, <see cref="BlockQuant.AccumulateGroup"/>). The decode product
    /// runs two rows per step, the prompt GEMM tiles of 2 rows × 4 tokens. Q8_0 (bound by memory bandwidth in decode), and
    /// Q4_0 rows whose length is not a multiple of 256, run the best 256-bit path (<see cref="AvxVnni"/>, else <see cref="Avx2"/>).
    /// </summary>
    Avx512,
}

/// <summary>
/// Matrix-matrix products of the prompt with block-quantized weights: the prompt's activations are quantized to int8 once per
/// product (<see cref="QuantizeRows"/>), then Y[t, r] = Σ_b d_w[r,b]·d_x[t,b]·Σ_k q_w[r,b,k]·q_x[t,b,k] is computed in register
/// tiles of 2 weight rows × 4 tokens, so each weight block is loaded (and Q4_0 unpacked) once for four tokens. Tokens are the
/// outer loop: a 4-token slice of X stays in L1 while the rows stream through.
/// </summary>
public static unsafe class BlockQuantGemm
{
    /// <summary>The fastest path this machine (and this binary's ISA) supports.</summary>
    public static BlockInt8Path BestPath =>
        Vector512.IsHardwareAccelerated && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.Avx512
        : Best256Path;

    /// <summary>The fastest 256-bit path (the prompt GEMM's kernel when <see cref="BlockInt8Path.Avx512"/> is asked for).</summary>
    private static BlockInt8Path Best256Path =>
        AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.AvxVnni
        : Avx2.IsSupported && Fma.IsSupported ? BlockInt8Path.Avx2
        : BlockInt8Path.Scalar;

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

    /// <summary>
    /// <see cref="MatMul(WeightFormat, byte*, sbyte*, float*, int, int, float*, int, int, int)"/> with the activations already
    /// regrouped by <see cref="Regroup"/> when <see cref="RegroupsActivations"/> (once per product instead of once per share).
    /// </summary>
    public static void MatMul(WeightFormat format, byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd, byte* regrouped) =>
        MatMul(format, w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd, BestPath, regrouped);

    /// <summary>Whether the product of these weights runs on activations regrouped by <see cref="Regroup"/> (the AVX-512 Q4_0 GEMM).</summary>
    public static bool RegroupsActivations(WeightFormat format, int n) => RegroupsOnPath(format, n, BestPath);

    private static bool RegroupsOnPath(WeightFormat format, int n, BlockInt8Path path) =>
        path == BlockInt8Path.Avx512 && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported && format == WeightFormat.Q4_0 && n % 256 == 0;

    /// <summary>Bytes <see cref="Regroup"/> writes for <paramref name="tokens"/> rows of <paramref name="n"/> activations.</summary>
    public static long RegroupedBytes(int tokens, int n) => (long)tokens * (n / 256) * BlockQuant.GroupBytes;

    /// <summary>The tokens' quantized activations regrouped for the AVX-512 Q4_0 GEMM (<see cref="BlockQuant.RegroupActivations"/>, token after token).</summary>
    public static void Regroup(sbyte* xq, float* xd, int tokens, int n, byte* dst)
    {
        int nb = n / 32, groups = nb / 8;
        for (int t = 0; t < tokens; t++) BlockQuant.RegroupActivations(xq + (long)t * n, xd + (long)t * nb, null, groups, dst + (long)t * groups * BlockQuant.GroupBytes);
    }

    /// <summary><see cref="MatMul(WeightFormat, byte*, sbyte*, float*, int, int, float*, int, int, int)"/> on a chosen path (tests run each).</summary>
    public static void MatMul(WeightFormat format, byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd, BlockInt8Path path, byte* regrouped = null)
    {
        bool q8 = format == WeightFormat.Q8_0;
        if (RegroupsOnPath(format, n, path))
        {
            if (Gfni.V512.IsSupported) RunQ4Avx512<BlockQuant.GfniNibbles>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd, regrouped);
            else RunQ4Avx512<BlockQuant.ShiftNibbles>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd, regrouped);
            return;
        }
        if (path == BlockInt8Path.Avx512 && Avx512BW.IsSupported) path = Best256Path;
        switch (path)
        {
            case BlockInt8Path.AvxVnni when AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported:
                if (q8) Run<Q8Blocks, VnniDot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                else Run<Q4Blocks, VnniDot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                return;
            case BlockInt8Path.Avx2 when Avx2.IsSupported && Fma.IsSupported:
                if (q8) Run<Q8Blocks, Avx2Dot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                else Run<Q4Blocks, Avx2Dot>(w, xq, xd, tokens, n, y, ldy, rowStart, rowEnd);
                return;
            case BlockInt8Path.Scalar:
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
        /// <summary>True when <see cref="LoadU"/> gives unsigned values w + 8 (Q4_0's nibbles): Σw·x = Σ(w+8)·x - 8·Σx.</summary>
        static abstract bool Unsigned { get; }
        static abstract Vector256<sbyte> Load(byte* blk);
        static abstract Vector256<byte> LoadU(byte* blk);
    }

    private struct Q8Blocks : IBlocks
    {
        public static int Bytes => 34;
        public static bool Unsigned => false;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> LoadU(byte* blk) => Vector256.Load(blk + 2);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<sbyte> Load(byte* blk) => Vector256.Load((sbyte*)blk + 2);
    }

    private struct Q4Blocks : IBlocks
    {
        public static int Bytes => 18;
        public static bool Unsigned => true;
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<byte> LoadU(byte* blk)
        {
            // the 16 bytes in both lanes (a load, no shuffle); the upper lane's dwords shifted right by 4 bring each byte's high
            // nibble into its low bits: & 0x0F then gives elements 0-15 (low nibbles) and 16-31 (high nibbles)
            var both = Avx2.BroadcastVector128ToVector256(blk + 2).AsUInt32();
            return Avx2.ShiftRightLogicalVariable(both, Vector256.Create(0u, 0, 0, 0, 4, 4, 4, 4)).AsByte() & Vector256.Create((byte)0x0F);
        }
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
        /// <summary>Unsigned weights (≤ 15) times signed x: no sign transfer or offset needed.</summary>
        static abstract Vector256<int> DotU(Vector256<byte> w, Vector256<sbyte> x);
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

        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> DotU(Vector256<byte> w, Vector256<sbyte> x) => AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, w, x);
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

        // |w·x| pairs ≤ 2·15·128: no int16 saturation
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector256<int> DotU(Vector256<byte> w, Vector256<sbyte> x) =>
            Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w, x), Vector256.Create((short)1));
    }

    /// <summary>
    /// The tiled product: 2 rows × 4 tokens per register tile. Per weight block, the four tokens' int32 partial sums are folded
    /// by two rounds of horizontal adds into one vector whose lanes are [t0 t1 t2 t3 | t0 t1 t2 t3], so the int→float convert,
    /// the scale product and the FMA run once per row and block for four tokens. Single rows / tokens at the edges.
    /// </summary>
    private static void Run<TB, TD>(byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd)
        where TB : struct, IBlocks where TD : struct, IDot
    {
        int nb = n / 32;
        long rowBytes = (long)nb * TB.Bytes;
        float* table = BlockQuant.HalfTable;
        // the four tokens' scales of each block side by side (one 128-bit load per block)
        float* dx4 = stackalloc float[nb * 4];
        // unsigned (Q4_0) weights: per block, the folded lanes' offset corrections [-8·Σx_t0 .. -8·Σx_t3, 0, 0, 0, 0]
        int* corr4 = stackalloc int[TB.Unsigned ? nb * 8 : 8];
        int t = 0;
        for (; t + 4 <= tokens; t += 4)
        {
            float* d0 = xd + (long)t * nb;
            sbyte* x0 = xq + (long)t * n;
            for (int b = 0; b < nb; b++)
            {
                dx4[4 * b] = d0[b]; dx4[4 * b + 1] = d0[nb + b]; dx4[4 * b + 2] = d0[2 * nb + b]; dx4[4 * b + 3] = d0[3 * nb + b];
                if (TB.Unsigned)
                    for (int k = 0; k < 8; k++)
                    {
                        int sum = 0;
                        if (k < 4)
                            for (int e = 0; e < 32; e++) sum += x0[(long)k * n + b * 32 + e];
                        corr4[8 * b + k] = -8 * sum;
                    }
            }
            int r = rowStart;
            if (Vector512.IsHardwareAccelerated && !TB.Unsigned)
            {
                // 32 vector registers: 4 rows × 4 tokens, each activation block prepared once for four rows
                for (; r + 4 <= rowEnd; r += 4)
                    Tile4x4<TB, TD>(w + r * rowBytes, rowBytes, x0, n, dx4, nb, table, y + (long)t * ldy + r, ldy);
            }
            for (; r + 2 <= rowEnd; r += 2)
            {
                byte* w0 = w + r * rowBytes, w1 = w0 + rowBytes;
                Vector256<float> a0 = default, a1 = default;
                for (int b = 0; b < nb; b++)
                {
                    byte* b0 = w0 + b * TB.Bytes, b1 = w1 + b * TB.Bytes;
                    var v = Vector128.Load(dx4 + 4 * b);
                    var dx = Vector256.Create(v, v);
                    if (TB.Unsigned)
                    {
                        var u0 = TB.LoadU(b0);
                        var u1 = TB.LoadU(b1);
                        var ya = Vector256.Load(x0 + b * 32);
                        var yb = Vector256.Load(x0 + n + b * 32);
                        var yc = Vector256.Load(x0 + 2L * n + b * 32);
                        var ye = Vector256.Load(x0 + 3L * n + b * 32);
                        var cv = Vector256.Load(corr4 + 8 * b);
                        var j0 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(TD.DotU(u0, ya), TD.DotU(u0, yb)), Avx2.HorizontalAdd(TD.DotU(u0, yc), TD.DotU(u0, ye))) + cv;
                        var j1 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(TD.DotU(u1, ya), TD.DotU(u1, yb)), Avx2.HorizontalAdd(TD.DotU(u1, yc), TD.DotU(u1, ye))) + cv;
                        a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(j0), Vector256.Create(table[*(ushort*)b0]) * dx, a0);
                        a1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(j1), Vector256.Create(table[*(ushort*)b1]) * dx, a1);
                        continue;
                    }
                    var q0 = TB.Load(b0);
                    var q1 = TB.Load(b1);
                    TD.PrepareRow(q0, out var p0, out var c0);
                    TD.PrepareRow(q1, out var p1, out var c1);
                    var xa = TD.PrepareX(Vector256.Load(x0 + b * 32));
                    var xb = TD.PrepareX(Vector256.Load(x0 + n + b * 32));
                    var xc = TD.PrepareX(Vector256.Load(x0 + 2L * n + b * 32));
                    var xe = TD.PrepareX(Vector256.Load(x0 + 3L * n + b * 32));
                    var i0 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(TD.Dot(q0, p0, c0, xa), TD.Dot(q0, p0, c0, xb)),
                        Avx2.HorizontalAdd(TD.Dot(q0, p0, c0, xc), TD.Dot(q0, p0, c0, xe)));
                    var i1 = Avx2.HorizontalAdd(Avx2.HorizontalAdd(TD.Dot(q1, p1, c1, xa), TD.Dot(q1, p1, c1, xb)),
                        Avx2.HorizontalAdd(TD.Dot(q1, p1, c1, xc), TD.Dot(q1, p1, c1, xe)));
                    a0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i0), Vector256.Create(table[*(ushort*)b0]) * dx, a0);
                    a1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(i1), Vector256.Create(table[*(ushort*)b1]) * dx, a1);
                }
                var s0 = a0.GetLower() + a0.GetUpper();
                var s1 = a1.GetLower() + a1.GetUpper();
                float* yt = y + (long)t * ldy + r;
                yt[0] = s0[0]; yt[ldy] = s0[1]; yt[2L * ldy] = s0[2]; yt[3L * ldy] = s0[3];
                yt[1] = s1[0]; yt[ldy + 1] = s1[1]; yt[2L * ldy + 1] = s1[2]; yt[3L * ldy + 1] = s1[3];
            }
            for (; r < rowEnd; r++)
                for (int k = 0; k < 4; k++)
                    y[(long)(t + k) * ldy + r] = Dot1<TB, TD>(w + r * rowBytes, xq + (long)(t + k) * n, xd + (long)(t + k) * nb, nb);
        }
        for (; t < tokens; t++)
            for (int r = rowStart; r < rowEnd; r++)
                y[(long)t * ldy + r] = Dot1<TB, TD>(w + r * rowBytes, xq + (long)t * n, xd + (long)t * nb, nb);
    }

    /// <summary>Rows w0..w0+3·rowBytes with four tokens (x0, x0+n, ...) into y (row stride ldy), lanes folded as in Run.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Tile4x4<TB, TD>(byte* w0, long rowBytes, sbyte* x0, int n, float* dx4, int nb, float* table, float* y, int ldy)
        where TB : struct, IBlocks where TD : struct, IDot
    {
        Vector256<float> a0 = default, a1 = default, a2 = default, a3 = default;
        byte* w1 = w0 + rowBytes, w2 = w1 + rowBytes, w3 = w2 + rowBytes;
        for (int b = 0; b < nb; b++)
        {
            var xa = TD.PrepareX(Vector256.Load(x0 + b * 32));
            var xb = TD.PrepareX(Vector256.Load(x0 + n + b * 32));
            var xc = TD.PrepareX(Vector256.Load(x0 + 2L * n + b * 32));
            var xe = TD.PrepareX(Vector256.Load(x0 + 3L * n + b * 32));
            var v = Vector128.Load(dx4 + 4 * b);
            var dx = Vector256.Create(v, v);
            a0 = Row4<TB, TD>(w0 + b * TB.Bytes, xa, xb, xc, xe, dx, table, a0);
            a1 = Row4<TB, TD>(w1 + b * TB.Bytes, xa, xb, xc, xe, dx, table, a1);
            a2 = Row4<TB, TD>(w2 + b * TB.Bytes, xa, xb, xc, xe, dx, table, a2);
            a3 = Row4<TB, TD>(w3 + b * TB.Bytes, xa, xb, xc, xe, dx, table, a3);
        }
        var s0 = a0.GetLower() + a0.GetUpper();
        var s1 = a1.GetLower() + a1.GetUpper();
        var s2 = a2.GetLower() + a2.GetUpper();
        var s3 = a3.GetLower() + a3.GetUpper();
        // transpose: token k's four rows are lane k of s0..s3
        for (int k = 0; k < 4; k++)
        {
            float* yt = y + (long)k * ldy;
            yt[0] = s0[k]; yt[1] = s1[k]; yt[2] = s2[k]; yt[3] = s3[k];
        }
    }

    /// <summary>One weight block against four tokens' blocks, folded to lanes [t0 t1 t2 t3 | t0 t1 t2 t3] and accumulated.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector256<float> Row4<TB, TD>(byte* blk, Vector256<sbyte> xa, Vector256<sbyte> xb, Vector256<sbyte> xc, Vector256<sbyte> xe,
        Vector256<float> dx, float* table, Vector256<float> acc) where TB : struct, IBlocks where TD : struct, IDot
    {
        var q = TB.Load(blk);
        TD.PrepareRow(q, out var p, out var c);
        var i = Avx2.HorizontalAdd(Avx2.HorizontalAdd(TD.Dot(q, p, c, xa), TD.Dot(q, p, c, xb)),
            Avx2.HorizontalAdd(TD.Dot(q, p, c, xc), TD.Dot(q, p, c, xe)));
        return Fma.MultiplyAdd(Avx.ConvertToVector256Single(i), Vector256.Create(table[*(ushort*)blk]) * dx, acc);
    }

    /// <summary>
    /// The <see cref="BlockInt8Path.Avx512"/> Q4_0 GEMM (n a multiple of 256): with the activations regrouped for all tokens,
    /// tiles of 1 row × 8 tokens (each row's group unpacked once for eight tokens; 4-6% faster than 2 × 4 on 110m prefill),
    /// then tiles of 2 rows × 4 tokens over eight-block groups. Four tokens' activations are regrouped once per tile row sweep (<see cref="BlockQuant.RegroupActivations"/>);
    /// each row's group is loaded and unpacked once (<see cref="BlockQuant.LoadGroup{TNibbles}"/>) and applied to the four tokens
    /// (<see cref="BlockQuant.AccumulateGroup"/>), so the result of every (row, token) is the one the decode kernel computes.
    /// A last odd row and the tokens beyond a multiple of four take the same steps one at a time. With <paramref name="regrouped"/>
    /// (all tokens, from <see cref="Regroup"/>) nothing is regrouped here.
    /// </summary>
    private static void RunQ4Avx512<TNibbles>(byte* w, sbyte* xq, float* xd, int tokens, int n, float* y, int ldy, int rowStart, int rowEnd, byte* regrouped)
        where TNibbles : struct, BlockQuant.INibbles
    {
        int nb = n / 32, groups = nb / 8;
        long rowBytes = (long)nb * 18;
        int stride = groups * BlockQuant.GroupBytes;
        byte* raw = stackalloc byte[regrouped == null ? 4 * stride + 64 : 64];
        byte* own = (byte*)(((nint)raw + 63) & ~(nint)63);
        var pickQuants = BlockQuant.PickQuants;
        var pickScales = BlockQuant.PickScales;
        var low = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        var signBit = Vector512.Create(0x80000000u);
        var halfScale = Vector512.Create(BlockQuant.HalfScale);
        int t = 0;
        if (regrouped != null)
            for (; t + 8 <= tokens; t += 8)
            {
                // one row × 8 tokens: each row's group is unpacked once for eight tokens
                byte* gx = regrouped + (long)t * stride;
                for (int r = rowStart; r < rowEnd; r++)
                {
                    byte* w0 = w + r * rowBytes;
                    Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default, a4 = default, a5 = default, a6 = default, a7 = default;
                    for (int g = 0; g < groups; g++)
                    {
                        BlockQuant.LoadGroup<TNibbles>(w0 + g * 144, pickQuants, pickScales, low, signBit, halfScale, out var u0, out var u1, out var u2, out var u3, out var s0);
                        byte* x0 = gx + g * BlockQuant.GroupBytes;
                        a0 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0, ones, a0);
                        a1 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + stride, ones, a1);
                        a2 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 2 * stride, ones, a2);
                        a3 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 3 * stride, ones, a3);
                        a4 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 4 * stride, ones, a4);
                        a5 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 5 * stride, ones, a5);
                        a6 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 6 * stride, ones, a6);
                        a7 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 7 * stride, ones, a7);
                    }
                    float* yt = y + (long)t * ldy + r;
                    yt[0] = Vector512.Sum(a0); yt[ldy] = Vector512.Sum(a1); yt[2L * ldy] = Vector512.Sum(a2); yt[3L * ldy] = Vector512.Sum(a3);
                    yt[4L * ldy] = Vector512.Sum(a4); yt[5L * ldy] = Vector512.Sum(a5); yt[6L * ldy] = Vector512.Sum(a6); yt[7L * ldy] = Vector512.Sum(a7);
                }
            }
        for (; t + 4 <= tokens; t += 4)
        {
            byte* gx = regrouped != null ? regrouped + (long)t * stride : own;
            if (regrouped == null)
                for (int k = 0; k < 4; k++) BlockQuant.RegroupActivations(xq + (long)(t + k) * n, xd + (long)(t + k) * nb, null, groups, gx + k * stride);
            int r = rowStart;
            for (; r + 2 <= rowEnd; r += 2)
            {
                byte* w0 = w + r * rowBytes, w1 = w0 + rowBytes;
                Vector512<float> a00 = default, a01 = default, a02 = default, a03 = default, a10 = default, a11 = default, a12 = default, a13 = default;
                for (int g = 0; g < groups; g++)
                {
                    BlockQuant.LoadGroup<TNibbles>(w0 + g * 144, pickQuants, pickScales, low, signBit, halfScale, out var u0, out var u1, out var u2, out var u3, out var s0);
                    BlockQuant.LoadGroup<TNibbles>(w1 + g * 144, pickQuants, pickScales, low, signBit, halfScale, out var q0, out var q1, out var q2, out var q3, out var s1);
                    byte* x0 = gx + g * BlockQuant.GroupBytes;
                    a00 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0, ones, a00);
                    a10 = BlockQuant.AccumulateGroup(q0, q1, q2, q3, s1, x0, ones, a10);
                    a01 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + stride, ones, a01);
                    a11 = BlockQuant.AccumulateGroup(q0, q1, q2, q3, s1, x0 + stride, ones, a11);
                    a02 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 2 * stride, ones, a02);
                    a12 = BlockQuant.AccumulateGroup(q0, q1, q2, q3, s1, x0 + 2 * stride, ones, a12);
                    a03 = BlockQuant.AccumulateGroup(u0, u1, u2, u3, s0, x0 + 3 * stride, ones, a03);
                    a13 = BlockQuant.AccumulateGroup(q0, q1, q2, q3, s1, x0 + 3 * stride, ones, a13);
                }
                float* yt = y + (long)t * ldy + r;
                yt[0] = Vector512.Sum(a00); yt[ldy] = Vector512.Sum(a01); yt[2L * ldy] = Vector512.Sum(a02); yt[3L * ldy] = Vector512.Sum(a03);
                yt[1] = Vector512.Sum(a10); yt[ldy + 1] = Vector512.Sum(a11); yt[2L * ldy + 1] = Vector512.Sum(a12); yt[3L * ldy + 1] = Vector512.Sum(a13);
            }
            for (; r < rowEnd; r++)
                for (int k = 0; k < 4; k++)
                    y[(long)(t + k) * ldy + r] = RowQ4Avx512<TNibbles>(w + r * rowBytes, gx + k * stride, groups);
        }
        for (; t < tokens; t++)
        {
            byte* gx = regrouped != null ? regrouped + (long)t * stride : own;
            if (regrouped == null) BlockQuant.RegroupActivations(xq + (long)t * n, xd + (long)t * nb, null, groups, gx);
            for (int r = rowStart; r < rowEnd; r++) y[(long)t * ldy + r] = RowQ4Avx512<TNibbles>(w + r * rowBytes, gx, groups);
        }
    }

    /// <summary>One Q4_0 row against one token's regrouped activations (the steps of <see cref="RunQ4Avx512{TNibbles}"/>).</summary>
    private static float RowQ4Avx512<TNibbles>(byte* row, byte* gx, int groups) where TNibbles : struct, BlockQuant.INibbles
    {
        var acc = Vector512<float>.Zero;
        for (int g = 0; g < groups; g++)
        {
            BlockQuant.LoadGroup<TNibbles>(row + g * 144, BlockQuant.PickQuants, BlockQuant.PickScales, Vector512.Create((byte)0x0F), Vector512.Create(0x80000000u),
                Vector512.Create(BlockQuant.HalfScale), out var v0, out var v1, out var v2, out var v3, out var s);
            acc = BlockQuant.AccumulateGroup(v0, v1, v2, v3, s, gx + g * BlockQuant.GroupBytes, Vector512.Create((short)1), acc);
        }
        return Vector512.Sum(acc);
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
