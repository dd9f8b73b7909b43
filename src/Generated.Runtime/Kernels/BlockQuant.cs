using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.Arm;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>ggml Q8_0: 32 int8 values sharing one fp16 scale; value = d · q. 34 bytes, 8.5 bits per weight.</summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ8_0
{
    public const int Size = 32;
    public Half D;
    public fixed sbyte Qs[Size];
}

/// <summary>
/// ggml Q4_0: 32 4-bit values sharing one fp16 scale; element i &lt; 16 is the low nibble of byte i, element i ≥ 16 the high
/// nibble of byte i-16; value = d · (q - 8). 18 bytes, 4.5 bits per weight.
/// </summary>
[StructLayout(LayoutKind.Sequential, Pack = 1)]
public unsafe struct BlockQ4_0
{
    public const int Size = 32;
    public Half D;
    public fixed byte Qs[Size / 2];
}

/// <summary>
/// Matrix-vector products over ggml block formats: the weight rows stay quantized; each block is widened to float in
/// registers and multiplied with x (float). Also quantizers (used by the compiler's --quantize and the synthetic GGUF
/// writer) and scalar references.
/// </summary>
public static unsafe class BlockQuant
{
    /// <summary>y[i] = Σ_j W[i, j]·x[j], W rows in Q8_0 (n a multiple of 32), for rows [rowStart, rowEnd).</summary>
    public static void MatVecQ8_0(byte* w, float* x, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / BlockQ8_0.Size;
        for (int i = rowStart; i < rowEnd; i++)
        {
            var row = (BlockQ8_0*)(w + (long)i * nb * sizeof(BlockQ8_0));
            float sum = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    sbyte* q = row[b].Qs;
                    float* xb = x + b * 32;
                    var d = Vector256.Create((float)row[b].D);
                    var q16 = Vector256.WidenLower(Vector256.Create(Vector128.Load(q), Vector128<sbyte>.Zero));
                    var q16b = Vector256.WidenLower(Vector256.Create(Vector128.Load(q + 16), Vector128<sbyte>.Zero));
                    var p0 = Vector256.ConvertToSingle(Vector256.WidenLower(q16)) * Vector256.Load(xb);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(q16)), Vector256.Load(xb + 8), p0);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenLower(q16b)), Vector256.Load(xb + 16), p0);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(q16b)), Vector256.Load(xb + 24), p0);
                    acc = Vector256.FusedMultiplyAdd(p0, d, acc);
                }
                sum = Vector256.Sum(acc);
            }
            else
            {
                for (int b = 0; b < nb; b++)
                {
                    float s = 0;
                    for (int k = 0; k < 32; k++) s += row[b].Qs[k] * x[b * 32 + k];
                    sum += s * (float)row[b].D;
                }
            }
            y[i] = sum;
        }
    }

    /// <summary>y[i] = Σ_j W[i, j]·x[j], W rows in Q4_0 (n a multiple of 32), for rows [rowStart, rowEnd).</summary>
    public static void MatVecQ4_0(byte* w, float* x, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / BlockQ4_0.Size;
        for (int i = rowStart; i < rowEnd; i++)
        {
            var row = (BlockQ4_0*)(w + (long)i * nb * sizeof(BlockQ4_0));
            float sum = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var acc = Vector256<float>.Zero;
                var mask = Vector128.Create((byte)0x0F);
                var eight = Vector128.Create((sbyte)8);
                for (int b = 0; b < nb; b++)
                {
                    var raw = Vector128.Load(row[b].Qs);   // 16 bytes: reads 16 of Qs
                    var lo = ((raw & mask).AsSByte() - eight);
                    var hi = ((Vector128.ShiftRightLogical(raw, 4) & mask).AsSByte() - eight);
                    float* xb = x + b * 32;
                    var l16 = Vector256.WidenLower(Vector256.Create(lo, Vector128<sbyte>.Zero));
                    var h16 = Vector256.WidenLower(Vector256.Create(hi, Vector128<sbyte>.Zero));
                    var p0 = Vector256.ConvertToSingle(Vector256.WidenLower(l16)) * Vector256.Load(xb);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(l16)), Vector256.Load(xb + 8), p0);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenLower(h16)), Vector256.Load(xb + 16), p0);
                    p0 = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(h16)), Vector256.Load(xb + 24), p0);
                    acc = Vector256.FusedMultiplyAdd(p0, Vector256.Create((float)row[b].D), acc);
                }
                sum = Vector256.Sum(acc);
            }
            else
            {
                for (int b = 0; b < nb; b++)
                {
                    float s = 0;
                    for (int k = 0; k < 16; k++)
                    {
                        s += ((row[b].Qs[k] & 0xF) - 8) * x[b * 32 + k];
                        s += ((row[b].Qs[k] >> 4) - 8) * x[b * 32 + 16 + k];
                    }
                    sum += s * (float)row[b].D;
                }
            }
            y[i] = sum;
        }
    }

    // ---- int8 activations: x quantized per 32-block (ggml's q8_0 partner format), integer dot products ----

    /// <summary>2^112: scales a float whose bits are a half's magnitude bits shifted left by 13 to the half's value.</summary>
    internal const float HalfScale = 5.192296858534828e33f;

    /// <summary>
    /// An fp16 value widened to float, exactly for every finite half (normal and subnormal): the magnitude bits move into a
    /// float's exponent/mantissa and a multiply by 2^112 rebiases the exponent; the sign is or-ed back. Branch-free.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float HalfToFloat(Half h)
    {
        uint b = BitConverter.HalfToUInt16Bits(h);
        float m = BitConverter.UInt32BitsToSingle((b & 0x7FFFu) << 13) * HalfScale;
        return BitConverter.UInt32BitsToSingle(BitConverter.SingleToUInt32Bits(m) | ((b & 0x8000u) << 16));
    }

    /// <summary>All 65536 fp16 bit patterns widened to float (256 KB, built once): one load per block scale in the hot loops.</summary>
    internal static readonly float* HalfTable = BuildHalfTable();

    private static float* BuildHalfTable()
    {
        var t = (float*)NativeMemory.AlignedAlloc(65536 * 4, 64);
        for (int i = 0; i < 65536; i++) t[i] = HalfToFloat(BitConverter.UInt16BitsToHalf((ushort)i));
        return t;
    }

    /// <summary>
    /// Quantizes n activations (a multiple of 32) to int8 per 32-block: d[b] = max|x| / 127, q = round(x / d) (float scales,
    /// so the only rounding is the int8 one). The partner of the weight formats in the integer dot products below.
    /// <paramref name="q"/> needs 2·n bytes: the int8 values, then per block the Q4_0 offset correction.
    /// </summary>
    public static void QuantizeActivations(float* x, sbyte* q, float* d, int n)
    {
        QuantizeBlocks(x, q, d, n);
        // After the n quantized bytes: per block, 8 ints [-8·Σq, 0, ..., 0] (the Q4_0 offset correction, see MatVecQ4_0Q8).
        int* sums = (int*)(q + n);
        for (int b = 0; b < n / 32; b++)
        {
            int s = 0;
            if (Avx2.IsSupported)
            {
                // Σq = Σ(q + 128) - 32·128: vpsadbw against zero sums the biased bytes in four 64-bit lanes
                var sad = Avx2.SumAbsoluteDifferences(Vector256.Load((byte*)q + b * 32) ^ Vector256.Create((byte)0x80), Vector256<byte>.Zero).AsInt64();
                s = (int)(sad.GetElement(0) + sad.GetElement(1) + sad.GetElement(2) + sad.GetElement(3)) - 32 * 128;
                Vector256.Store(Vector256.CreateScalar(-8 * s), sums + b * 8);
                continue;
            }
            for (int k = 0; k < 32; k++) s += q[b * 32 + k];
            sums[b * 8] = -8 * s;
            for (int k = 1; k < 8; k++) sums[b * 8 + k] = 0;
        }
    }

    internal static void QuantizeBlocks(float* x, sbyte* q, float* d, int n)
    {
        for (int b = 0; b < n / 32; b++)
        {
            float* xb = x + b * 32;
            float amax;
            if (Vector256.IsHardwareAccelerated)
            {
                var m = Vector256.Max(Vector256.Max(Vector256.Abs(Vector256.Load(xb)), Vector256.Abs(Vector256.Load(xb + 8))),
                    Vector256.Max(Vector256.Abs(Vector256.Load(xb + 16)), Vector256.Abs(Vector256.Load(xb + 24))));
                var h = Vector128.Max(m.GetLower(), m.GetUpper());
                amax = MathF.Max(MathF.Max(h[0], h[1]), MathF.Max(h[2], h[3]));
            }
            else
            {
                amax = 0;
                for (int k = 0; k < 32; k++) amax = MathF.Max(amax, MathF.Abs(xb[k]));
            }
            float scale = amax / 127f;
            float id = scale != 0 ? 1f / scale : 0;
            d[b] = scale;
            sbyte* qb = q + b * 32;
            if (Avx2.IsSupported)
            {
                var vid = Vector256.Create(id);
                var i0 = Avx.ConvertToVector256Int32(Vector256.Load(xb) * vid);        // round to nearest even (MXCSR default)
                var i1 = Avx.ConvertToVector256Int32(Vector256.Load(xb + 8) * vid);
                var i2 = Avx.ConvertToVector256Int32(Vector256.Load(xb + 16) * vid);
                var i3 = Avx.ConvertToVector256Int32(Vector256.Load(xb + 24) * vid);
                var s01 = Avx2.PackSignedSaturate(i0, i1);                              // lanes: 0-3 4-7 | 8-11 12-15 interleaved per 128
                var s23 = Avx2.PackSignedSaturate(i2, i3);
                var b8 = Avx2.PackSignedSaturate(s01, s23);
                // undo the per-128-bit-lane interleave of the two packs: dword order 0 4 1 5 2 6 3 7 -> 0..7
                b8 = Avx2.PermuteVar8x32(b8.AsInt32(), Vector256.Create(0, 4, 1, 5, 2, 6, 3, 7)).AsSByte();
                Vector256.Store(b8, qb);
            }
            else
            {
                for (int k = 0; k < 32; k++) qb[k] = (sbyte)MathF.Round(xb[k] * id, MidpointRounding.ToEven);
            }
        }
    }

    /// <summary>
    /// y[i] = Σ_b d_w[i,b]·d_x[b]·Σ_k q_w[i,b,k]·q_x[b,k]: Q8_0 weights times int8 activations (<see cref="QuantizeActivations"/>),
    /// rows [rowStart, rowEnd). AVX2: vpmaddubsw on |w| and sign-transferred x, then vpmaddwd; arm64: sdot (Dp, armv8.2-a+dotprod),
    /// else smull + sadalp (AdvSimd, armv8-a); else scalar.
    /// </summary>
    public static void MatVecQ8_0Q8(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd) =>
        MatVecQ8_0Q8(w, xq, xd, y, n, rowStart, rowEnd, BlockQuantGemm.BestPath);

    /// <summary><see cref="MatVecQ8_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/> on a chosen x86 path (tests run each); arm64 uses sdot.</summary>
    public static void MatVecQ8_0Q8(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd, BlockInt8Path path)
    {
        int nb = n / 32;
        // Q8_0 has no 512-bit kernel (it reads 34 bytes per block and is bound by memory bandwidth, not by the dot products):
        // the AVX-512 path runs the 256-bit vpdpbusd one where the machine has it.
        if (path == BlockInt8Path.Avx512) path = AvxVnni.IsSupported ? BlockInt8Path.AvxVnni : BlockInt8Path.Avx2;
        if (path == BlockInt8Path.AvxVnni && AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported)
        {
            // vpdpbusd on |w| (unsigned) and x with w's sign: one instruction per block for the int32 partial sums
            float* table = HalfTable;
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 34;
                PrefetchAhead(row, nb * 34);
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                int b = 0;
                for (; b + 2 <= nb; b += 2)
                {
                    byte* blk = row + b * 34;
                    var w0 = Vector256.Load((sbyte*)blk + 2);
                    var w1 = Vector256.Load((sbyte*)blk + 36);
                    var p0 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0));
                    var p1 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Avx2.Abs(w1), Avx2.Sign(Vector256.Load(xq + b * 32 + 32), w1));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk]) * Vector256.Create(xd[b]), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p1), Vector256.Create(table[*(ushort*)(blk + 34)]) * Vector256.Create(xd[b + 1]), acc1);
                }
                for (; b < nb; b++)
                {
                    byte* blk = row + b * 34;
                    var w0 = Vector256.Load((sbyte*)blk + 2);
                    var p0 = AvxVnni.MultiplyWideningAndAdd(Vector256<int>.Zero, Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk]) * Vector256.Create(xd[b]), acc0);
                }
                y[i] = Vector256.Sum(acc0 + acc1);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && Avx2.IsSupported && Fma.IsSupported)
        {
            var ones = Vector256.Create((short)1);
            float* table = HalfTable;
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 34;
                PrefetchAhead(row, nb * 34);
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                int b = 0;
                for (; b + 2 <= nb; b += 2)
                {
                    byte* blk = row + b * 34;
                    var w0 = Vector256.Load((sbyte*)blk + 2);
                    var w1 = Vector256.Load((sbyte*)blk + 36);
                    var p0 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0)), ones);
                    var p1 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w1), Avx2.Sign(Vector256.Load(xq + b * 32 + 32), w1)), ones);
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk] * xd[b]), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p1), Vector256.Create(table[*(ushort*)(blk + 34)] * xd[b + 1]), acc1);
                }
                for (; b < nb; b++)
                {
                    byte* blk = row + b * 34;
                    var w0 = Vector256.Load((sbyte*)blk + 2);
                    var p0 = Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(Avx2.Abs(w0), Avx2.Sign(Vector256.Load(xq + b * 32), w0)), ones);
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk] * xd[b]), acc0);
                }
                y[i] = Vector256.Sum(acc0 + acc1);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && Dp.IsSupported)
        {
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 34;
                var acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* blk = row + b * 34;
                    var s = Dp.DotProduct(Dp.DotProduct(Vector128<int>.Zero, Vector128.Load((sbyte*)blk + 2), Vector128.Load(xq + b * 32)),
                        Vector128.Load((sbyte*)blk + 18), Vector128.Load(xq + b * 32 + 16));
                    acc = AdvSimd.FusedMultiplyAdd(acc, AdvSimd.ConvertToSingle(s), Vector128.Create(HalfToFloat(*(Half*)blk) * xd[b]));
                }
                y[i] = Vector128.Sum(acc);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && AdvSimd.IsSupported)
        {
            // armv8.0 without the dot-product extension: smull/smull2 to int16 products, sadalp into int32 lanes (exact).
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 34;
                var acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* blk = row + b * 34;
                    var s = DotBlockAdvSimd(Vector128.Load((sbyte*)blk + 2), Vector128.Load((sbyte*)blk + 18), Vector128.Load(xq + b * 32), Vector128.Load(xq + b * 32 + 16));
                    acc = AdvSimd.FusedMultiplyAdd(acc, AdvSimd.ConvertToSingle(s), Vector128.Create(HalfToFloat(*(Half*)blk) * xd[b]));
                }
                y[i] = Vector128.Sum(acc);
            }
            return;
        }
        MatVecQ8_0Q8Scalar(w, xq, xd, y, n, rowStart, rowEnd);
    }

    /// <summary>Scalar reference of <see cref="MatVecQ8_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/>: exact int32 block sums, then the scales.</summary>
    public static void MatVecQ8_0Q8Scalar(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            var row = (BlockQ8_0*)(w + (long)i * nb * 34);
            float sum = 0;
            for (int b = 0; b < nb; b++)
            {
                int s = 0;
                for (int k = 0; k < 32; k++) s += row[b].Qs[k] * xq[b * 32 + k];
                sum += s * ((float)row[b].D * xd[b]);
            }
            y[i] = sum;
        }
    }

    /// <summary>
    /// y[i] = Σ_b d_w[i,b]·d_x[b]·Σ_k (q_w[i,b,k] - 8)·q_x[b,k]: Q4_0 weights times int8 activations, rows [rowStart, rowEnd).
    /// The nibbles are unpacked to signed bytes in registers; then the same integer dot product as <see cref="MatVecQ8_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/>.
    /// </summary>
    public static void MatVecQ4_0Q8(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd) =>
        MatVecQ4_0Q8(w, xq, xd, y, n, rowStart, rowEnd, BlockQuantGemm.BestPath);

    /// <summary><see cref="MatVecQ4_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/> on a chosen x86 path (tests run each); arm64 uses sdot.</summary>
    public static void MatVecQ4_0Q8(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd, BlockInt8Path path)
    {
        int nb = n / 32;
        if (path == BlockInt8Path.Avx512 && Avx512BW.IsSupported && Avx2.IsSupported && Fma.IsSupported)
        {
            if (Gfni.V512.IsSupported) MatVecQ4_0Q8Avx512<GfniNibbles>(w, xq, xd, y, n, rowStart, rowEnd);
            else MatVecQ4_0Q8Avx512<ShiftNibbles>(w, xq, xd, y, n, rowStart, rowEnd);
            return;
        }
        if (path == BlockInt8Path.AvxVnni && AvxVnni.IsSupported && Avx2.IsSupported && Fma.IsSupported)
        {
            // vpdpbusd straight on the unsigned nibbles and signed x, accumulating onto the block's -8·Σx: Σ(q-8)·x = Σq·x - 8·Σx
            var mask = Vector256.Create((byte)0x0F);
            var sums = (int*)(xq + n);
            float* table = HalfTable;
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 18;
                PrefetchAhead(row, nb * 18);
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                var acc2 = Vector256<float>.Zero;
                var acc3 = Vector256<float>.Zero;
                int b = 0;
                for (; b + 4 <= nb; b += 4)
                {
                    byte* blk = row + b * 18;
                    var r0 = Vector128.Load(blk + 2);
                    var r1 = Vector128.Load(blk + 20);
                    var r2 = Vector128.Load(blk + 38);
                    var r3 = Vector128.Load(blk + 56);
                    var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask;
                    var w1 = Vector256.Create(r1, Vector128.ShiftRightLogical(r1.AsUInt16(), 4).AsByte()) & mask;
                    var w2 = Vector256.Create(r2, Vector128.ShiftRightLogical(r2.AsUInt16(), 4).AsByte()) & mask;
                    var w3 = Vector256.Create(r3, Vector128.ShiftRightLogical(r3.AsUInt16(), 4).AsByte()) & mask;
                    var p0 = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(sums + b * 8), w0, Vector256.Load(xq + b * 32));
                    var p1 = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(sums + b * 8 + 8), w1, Vector256.Load(xq + b * 32 + 32));
                    var p2 = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(sums + b * 8 + 16), w2, Vector256.Load(xq + b * 32 + 64));
                    var p3 = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(sums + b * 8 + 24), w3, Vector256.Load(xq + b * 32 + 96));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk]) * Vector256.Create(xd[b]), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p1), Vector256.Create(table[*(ushort*)(blk + 18)]) * Vector256.Create(xd[b + 1]), acc1);
                    acc2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p2), Vector256.Create(table[*(ushort*)(blk + 36)]) * Vector256.Create(xd[b + 2]), acc2);
                    acc3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p3), Vector256.Create(table[*(ushort*)(blk + 54)]) * Vector256.Create(xd[b + 3]), acc3);
                }
                acc0 += acc2;
                acc1 += acc3;
                for (; b < nb; b++)
                {
                    byte* blk = row + b * 18;
                    var r0 = Vector128.Load(blk + 2);
                    var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask;
                    var p0 = AvxVnni.MultiplyWideningAndAdd(Vector256.Load(sums + b * 8), w0, Vector256.Load(xq + b * 32));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk]) * Vector256.Create(xd[b]), acc0);
                }
                y[i] = Vector256.Sum(acc0 + acc1);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && Avx2.IsSupported && Fma.IsSupported)
        {
            // Unsigned nibbles (0..15) go straight into vpmaddubsw against signed x; Σ(q-8)·x = Σq·x - 8·Σx, and the 8·Σx of
            // each block was stored (negated) by QuantizeActivations after the int8 values, shaped as a vector to add.
            var ones = Vector256.Create((short)1);
            var mask = Vector256.Create((byte)0x0F);
            var sums = (int*)(xq + n);
            float* table = HalfTable;
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 18;
                PrefetchAhead(row, nb * 18);
                var acc0 = Vector256<float>.Zero;
                var acc1 = Vector256<float>.Zero;
                var acc2 = Vector256<float>.Zero;
                var acc3 = Vector256<float>.Zero;
                int b = 0;
                for (; b + 4 <= nb; b += 4)
                {
                    byte* blk = row + b * 18;
                    var r0 = Vector128.Load(blk + 2);
                    var r1 = Vector128.Load(blk + 20);
                    var r2 = Vector128.Load(blk + 38);
                    var r3 = Vector128.Load(blk + 56);
                    var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask;
                    var w1 = Vector256.Create(r1, Vector128.ShiftRightLogical(r1.AsUInt16(), 4).AsByte()) & mask;
                    var w2 = Vector256.Create(r2, Vector128.ShiftRightLogical(r2.AsUInt16(), 4).AsByte()) & mask;
                    var w3 = Vector256.Create(r3, Vector128.ShiftRightLogical(r3.AsUInt16(), 4).AsByte()) & mask;
                    var p0 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w0, Vector256.Load(xq + b * 32)), ones), Vector256.Load(sums + b * 8));
                    var p1 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w1, Vector256.Load(xq + b * 32 + 32)), ones), Vector256.Load(sums + b * 8 + 8));
                    var p2 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w2, Vector256.Load(xq + b * 32 + 64)), ones), Vector256.Load(sums + b * 8 + 16));
                    var p3 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w3, Vector256.Load(xq + b * 32 + 96)), ones), Vector256.Load(sums + b * 8 + 24));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk] * xd[b]), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p1), Vector256.Create(table[*(ushort*)(blk + 18)] * xd[b + 1]), acc1);
                    acc2 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p2), Vector256.Create(table[*(ushort*)(blk + 36)] * xd[b + 2]), acc2);
                    acc3 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p3), Vector256.Create(table[*(ushort*)(blk + 54)] * xd[b + 3]), acc3);
                }
                acc0 += acc2;
                acc1 += acc3;
                for (; b + 2 <= nb; b += 2)
                {
                    byte* blk = row + b * 18;
                    var r0 = Vector128.Load(blk + 2);
                    var r1 = Vector128.Load(blk + 20);
                    var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask;
                    var w1 = Vector256.Create(r1, Vector128.ShiftRightLogical(r1.AsUInt16(), 4).AsByte()) & mask;
                    var p0 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w0, Vector256.Load(xq + b * 32)), ones), Vector256.Load(sums + b * 8));
                    var p1 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w1, Vector256.Load(xq + b * 32 + 32)), ones), Vector256.Load(sums + b * 8 + 8));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk] * xd[b]), acc0);
                    acc1 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p1), Vector256.Create(table[*(ushort*)(blk + 18)] * xd[b + 1]), acc1);
                }
                for (; b < nb; b++)
                {
                    byte* blk = row + b * 18;
                    var r0 = Vector128.Load(blk + 2);
                    var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask;
                    var p0 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w0, Vector256.Load(xq + b * 32)), ones), Vector256.Load(sums + b * 8));
                    acc0 = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(table[*(ushort*)blk] * xd[b]), acc0);
                }
                y[i] = Vector256.Sum(acc0 + acc1);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && Dp.IsSupported)
        {
            var mask = Vector128.Create((byte)0x0F);
            var eight = Vector128.Create((sbyte)8);
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 18;
                var acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* blk = row + b * 18;
                    var raw = Vector128.Load(blk + 2);
                    var lo = (raw & mask).AsSByte() - eight;
                    var hi = Vector128.ShiftRightLogical(raw, 4).AsSByte() - eight;
                    var s = Dp.DotProduct(Dp.DotProduct(Vector128<int>.Zero, lo, Vector128.Load(xq + b * 32)), hi, Vector128.Load(xq + b * 32 + 16));
                    acc = AdvSimd.FusedMultiplyAdd(acc, AdvSimd.ConvertToSingle(s), Vector128.Create(HalfToFloat(*(Half*)blk) * xd[b]));
                }
                y[i] = Vector128.Sum(acc);
            }
            return;
        }
        if (path != BlockInt8Path.Scalar && AdvSimd.IsSupported)
        {
            var mask = Vector128.Create((byte)0x0F);
            var eight = Vector128.Create((sbyte)8);
            for (int i = rowStart; i < rowEnd; i++)
            {
                byte* row = w + (long)i * nb * 18;
                var acc = Vector128<float>.Zero;
                for (int b = 0; b < nb; b++)
                {
                    byte* blk = row + b * 18;
                    var raw = Vector128.Load(blk + 2);
                    var s = DotBlockAdvSimd((raw & mask).AsSByte() - eight, Vector128.ShiftRightLogical(raw, 4).AsSByte() - eight,
                        Vector128.Load(xq + b * 32), Vector128.Load(xq + b * 32 + 16));
                    acc = AdvSimd.FusedMultiplyAdd(acc, AdvSimd.ConvertToSingle(s), Vector128.Create(HalfToFloat(*(Half*)blk) * xd[b]));
                }
                y[i] = Vector128.Sum(acc);
            }
            return;
        }
        MatVecQ4_0Q8Scalar(w, xq, xd, y, n, rowStart, rowEnd);
    }

    /// <summary>Bytes ahead of the current weight row that the x86 decode products prefetch (<see cref="PrefetchAhead"/>).</summary>
    public const int PrefetchDistance = 4096;

    /// <summary>
    /// Prefetches the <paramref name="rowBytes"/> bytes <see cref="PrefetchDistance"/> past <paramref name="row"/>: each thread of a
    /// decode product streams one contiguous share of rows, and loads issued this far ahead keep more misses in flight than the
    /// hardware prefetchers, which also stop at each 4 KiB boundary. Measured on 110m Q4_0 decode with 2 threads (medians of 7
    /// alternating runs): 624 → 665 tok/s at 4 KiB; 1 KiB and 2 KiB gain less, 8 KiB the same, 16 KiB less. A prefetch past the
    /// share (or the matrix) is harmless: it never faults, and the next share or product reads those bytes soon.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PrefetchAhead(byte* row, int rowBytes)
    {
        if (!Sse.IsSupported) return;
        for (int o = 0; o < rowBytes; o += 64) Sse.Prefetch0(row + PrefetchDistance + o);
    }

    /// <summary>
    /// The <see cref="BlockInt8Path.Avx512"/> path of <see cref="MatVecQ4_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/>:
    /// x is regrouped once per call (<see cref="RegroupActivations"/>) so that every int32 lane of a vector belongs to one block
    /// of eight; then each row takes eight blocks (144 bytes) per step (<see cref="GroupStep{TNibbles}"/>): no per-block scale
    /// spreading, one convert and one FMA per step. Two rows per iteration share x's loads. The last n/32 mod 8 blocks of a
    /// row: one four-block step (two blocks per vector) if four are left, then 256-bit steps (<see cref="RowTail{TNibbles}"/>).
    /// L2-resident 768×768 on this machine's AVX-512: 59 → 67 Gweights/s against the earlier two-blocks-per-vector kernel.
    /// </summary>
    internal static void MatVecQ4_0Q8Avx512<TNibbles>(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
        where TNibbles : struct, INibbles
    {
        int nb = n / 32, groups = nb / 8;
        var sums = (int*)(xq + n);
        // x regrouped once per call for the eight-block steps (see RegroupActivations): per group four 64-byte vectors, the
        // offset correction (16 ints) and x's scales twice (16 floats), 384 bytes
        byte* raw = stackalloc byte[groups * GroupBytes + 64];
        byte* gx = (byte*)(((nint)raw + 63) & ~(nint)63);
        RegroupActivations(xq, xd, sums, groups, gx);
        var pickQuants = PickQuants;
        var pickScales = PickScales;
        var low = Vector512.Create((byte)0x0F);
        var ones = Vector512.Create((short)1);
        var signBit = Vector512.Create(0x80000000u);
        var halfScale = Vector512.Create(HalfScale);
        long rowBytes = nb * 18;
        int i = rowStart;
        // two rows at a time: they share x's loads, and their independent chains fill the pipelines
        for (; i + 2 <= rowEnd; i += 2)
        {
            byte* rowA = w + i * rowBytes, rowB = rowA + rowBytes;
            PrefetchAhead(rowA, (int)(2 * rowBytes));
            var accA = Vector512<float>.Zero;
            var accB = Vector512<float>.Zero;
            for (int g = 0; g < groups; g++)
            {
                byte* gxg = gx + g * GroupBytes;
                accA = GroupStep<TNibbles>(rowA + g * 144, gxg, accA, pickQuants, pickScales, low, ones, signBit, halfScale);
                accB = GroupStep<TNibbles>(rowB + g * 144, gxg, accB, pickQuants, pickScales, low, ones, signBit, halfScale);
            }
            y[i] = groups * 8 < nb ? RowTail<TNibbles>(rowA, groups * 8, nb, xq, xd, sums, accA) : Vector512.Sum(accA);
            y[i + 1] = groups * 8 < nb ? RowTail<TNibbles>(rowB, groups * 8, nb, xq, xd, sums, accB) : Vector512.Sum(accB);
        }
        if (i < rowEnd)
        {
            byte* row = w + i * rowBytes;
            var acc = Vector512<float>.Zero;
            for (int g = 0; g < groups; g++)
                acc = GroupStep<TNibbles>(row + g * 144, gx + g * GroupBytes, acc, pickQuants, pickScales, low, ones, signBit, halfScale);
            y[i] = groups * 8 < nb ? RowTail<TNibbles>(row, groups * 8, nb, xq, xd, sums, acc) : Vector512.Sum(acc);
        }
    }

    /// <summary>
    /// One eight-block step of a row (<see cref="MatVecQ4_0Q8Avx512{TNibbles}"/>): four 64-byte loads at +0, +8, +72, +80 (never
    /// past the 144 bytes); one vpermt2w picks the eight fp16 scales into int32 lanes j and j + 8 for block j (widened by the
    /// <see cref="HalfToFloat"/> bit trick, exact, times x's scales); two more pick quant bytes 0-7 and 8-15 of every block so
    /// that int32 lane b holds block b's bytes and lane b + 8 the next four; their low and high nibbles meet x regrouped the
    /// same way (<see cref="RegroupActivations"/>) in four vpmaddubsw, summed as int16 and widened once by vpmaddwd, plus the
    /// stored -8·Σx; one convert and one FMA with the scales.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> GroupStep<TNibbles>(byte* blk, byte* gxg, Vector512<float> acc, Vector512<ushort> pickQuants, Vector512<ushort> pickScales,
        Vector512<byte> low, Vector512<short> ones, Vector512<uint> signBit, Vector512<float> halfScale)
        where TNibbles : struct, INibbles
    {
        LoadGroup<TNibbles>(blk, pickQuants, pickScales, low, signBit, halfScale, out var v0, out var v1, out var v2, out var v3, out var s);
        return AccumulateGroup(v0, v1, v2, v3, s, gxg, ones, acc);
    }

    /// <summary>
    /// The weight side of an eight-block Q4_0 group at <paramref name="blk"/> (<see cref="GroupStep{TNibbles}"/>): the four
    /// nibble vectors (int32 lane b / b + 8 = block b's weights 0-3 / 4-7, 8-11 / 12-15, 16-19 / 20-23, 24-27 / 28-31) and the
    /// fp16 scales widened into lanes b and b + 8. Shared with the prompt GEMM, which applies one group to several tokens.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void LoadGroup<TNibbles>(byte* blk, Vector512<ushort> pickQuants, Vector512<ushort> pickScales, Vector512<byte> low,
        Vector512<uint> signBit, Vector512<float> halfScale,
        out Vector512<byte> v0, out Vector512<byte> v1, out Vector512<byte> v2, out Vector512<byte> v3, out Vector512<float> scales)
        where TNibbles : struct, INibbles
    {
        var z0 = Vector512.Load((ushort*)blk);
        var z1 = Vector512.Load((ushort*)(blk + 8));
        var z2 = Vector512.Load((ushort*)(blk + 72));
        var z3 = Vector512.Load((ushort*)(blk + 80));
        scales = Scales8(Avx512BW.PermuteVar32x16x2(z0, pickScales, z2).AsUInt32(), signBit, halfScale);
        var g0 = Avx512BW.PermuteVar32x16x2(z0, pickQuants, z2).AsByte();
        var g1 = Avx512BW.PermuteVar32x16x2(z1, pickQuants, z3).AsByte();
        v0 = g0 & low;
        v1 = g1 & low;
        v2 = TNibbles.HighNibbles(g0);
        v3 = TNibbles.HighNibbles(g1);
    }

    /// <summary>
    /// acc + (Σ nibbles·x + the -8·Σx correction) · weight scales · x scales for one group of one token's regrouped x at
    /// <paramref name="gxg"/> (<see cref="RegroupActivations"/>): the four vpmaddubsw sums add as int16 (each |·| ≤ 2·15·127, so
    /// the sum of four fits), one vpmaddwd widens them, one convert and one FMA.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> AccumulateGroup(Vector512<byte> v0, Vector512<byte> v1, Vector512<byte> v2, Vector512<byte> v3, Vector512<float> scales,
        byte* gxg, Vector512<short> ones, Vector512<float> acc)
    {
        var p16 = Avx512BW.MultiplyAddAdjacent(v0, Vector512.Load((sbyte*)gxg))
            + Avx512BW.MultiplyAddAdjacent(v1, Vector512.Load((sbyte*)gxg + 64))
            + Avx512BW.MultiplyAddAdjacent(v2, Vector512.Load((sbyte*)gxg + 128))
            + Avx512BW.MultiplyAddAdjacent(v3, Vector512.Load((sbyte*)gxg + 192));
        var p = Avx512BW.MultiplyAddAdjacent(p16, ones) + Vector512.Load((int*)(gxg + 256));
        return Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p), scales * Vector512.Load((float*)(gxg + 320)), acc);
    }

    /// <summary>vpermt2w indices (loads at +0 / +72, or +8 / +80, of a group) putting block b's quant bytes 0-3 (8-11) in int32 lane b and 4-7 (12-15) in lane b + 8.</summary>
    internal static Vector512<ushort> PickQuants =>
        Vector512.Create((ushort)1, 2, 10, 11, 19, 20, 28, 29, 33, 34, 42, 43, 51, 52, 60, 61, 3, 4, 12, 13, 21, 22, 30, 31, 35, 36, 44, 45, 53, 54, 62, 63);

    /// <summary>vpermt2w indices (loads at +0 / +72 of a group): int32 lanes b and b + 8 = block b's fp16 scale in both halves.</summary>
    internal static Vector512<ushort> PickScales =>
        Vector512.Create((ushort)0, 0, 9, 9, 18, 18, 27, 27, 32, 32, 41, 41, 50, 50, 59, 59, 0, 0, 9, 9, 18, 18, 27, 27, 32, 32, 41, 41, 50, 50, 59, 59);

    /// <summary>
    /// The blocks of a row after its eight-block steps (from block <paramref name="b"/>, fewer than eight): one four-block step
    /// (two blocks per vector, scales spread by vpermps) if four are left, then 256-bit steps; returns the row's sum with
    /// <paramref name="acc"/>.
    /// </summary>
    private static float RowTail<TNibbles>(byte* row, int b, int nb, sbyte* xq, float* xd, int* sums, Vector512<float> acc)
        where TNibbles : struct, INibbles
    {
        var ones = Vector512.Create((short)1);
        if (b + 4 <= nb)
        {
            // words of a 64-byte load at a block holding blocks 0 and 1's nibbles, each twice; of one at +8, blocks 2 and 3's
            var pick01 = Vector512.Create((ushort)1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12, 13, 14, 15, 16, 17);
            var pick23 = Vector512.Create((ushort)15, 16, 17, 18, 19, 20, 21, 22, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 24, 25, 26, 27, 28, 29, 30, 31);
            // int32 lane j < 4 = block j's fp16 scale in both halves (lanes 4-7 pick words of the load too; their products are never spread)
            var pickScales4 = Vector512.Create((ushort)0, 0, 9, 9, 18, 18, 27, 27, 32, 32, 41, 41, 50, 50, 59, 59, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
            var unpack = TNibbles.Constant;
            byte* blk = row + b * 18;
            var z0 = Vector512.Load((ushort*)blk);
            var z1 = Vector512.Load((ushort*)(blk + 8));
            var s = Scales8(Avx512BW.PermuteVar32x16(z0, pickScales4).AsUInt32(), Vector512.Create(0x80000000u), Vector512.Create(HalfScale))
                * Vector128.Load(xd + b).ToVector256().ToVector512();
            // each vector: two blocks' nibbles in x's order (low nibbles of the first copy, high of the second)
            var w01 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z0, pick01), unpack);
            var w23 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z1, pick23), unpack);
            var p01 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w01, Vector512.Load(xq + b * 32)), ones) + Vector512.Load(sums + b * 8);
            var p23 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w23, Vector512.Load(xq + b * 32 + 64)), ones) + Vector512.Load(sums + b * 8 + 16);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p01), Avx512F.PermuteVar16x32(s, Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1)), acc);
            acc = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p23), Avx512F.PermuteVar16x32(s, Vector512.Create(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3)), acc);
            b += 4;
        }
        float sum = Vector512.Sum(acc);
        if (b < nb)
        {
            var mask256 = Vector256.Create((byte)0x0F);
            var ones256 = Vector256.Create((short)1);
            var tail = Vector256<float>.Zero;
            for (; b < nb; b++)
            {
                byte* blk = row + b * 18;
                var r0 = Vector128.Load(blk + 2);
                var w0 = Vector256.Create(r0, Vector128.ShiftRightLogical(r0.AsUInt16(), 4).AsByte()) & mask256;
                var p0 = Avx2.Add(Avx2.MultiplyAddAdjacent(Avx2.MultiplyAddAdjacent(w0, Vector256.Load(xq + b * 32)), ones256), Vector256.Load(sums + b * 8));
                tail = Fma.MultiplyAdd(Avx.ConvertToVector256Single(p0), Vector256.Create(HalfTable[*(ushort*)blk] * xd[b]), tail);
            }
            sum += Vector256.Sum(tail);
        }
        return sum;
    }

    /// <summary>Bytes per eight-block group of <see cref="RegroupActivations"/>.</summary>
    internal const int GroupBytes = 384;

    /// <summary>
    /// x for the eight-block steps of <see cref="MatVecQ4_0Q8Avx512{TNibbles}"/>, per group of eight blocks (256 values):
    /// four 64-byte vectors X0-X3 where int32 lane b of Xk holds block b's values 8k..8k+3 and lane b + 8 its values 8k+4..8k+7
    /// (the order the weights' nibbles take after two vpermt2w and the low/high split); then 16 ints, lane b the block's
    /// -8·Σq offset correction (lanes 8-15 zero; from <paramref name="sums"/>, the decode layout of <see cref="QuantizeActivations"/>,
    /// or summed here when it is null); then 16 floats, lanes b and b + 8 the block's scale.
    /// </summary>
    internal static void RegroupActivations(sbyte* xq, float* xd, int* sums, int groups, byte* gx)
    {
        if (Avx512F.IsSupported && Avx512BW.IsSupported)
        {
            // X_k lane j: dword 8(b mod 4) + 2k (+1 for j >= 8) of the first two loads (b = j mod 8 < 4) or of the last two
            var i0 = Vector512.Create(0, 8, 16, 24, 0, 8, 16, 24, 1, 9, 17, 25, 1, 9, 17, 25);
            var fromHigh = Vector512.Create(0, 0, 0, 0, -1, -1, -1, -1, 0, 0, 0, 0, -1, -1, -1, -1);
            var two = Vector512.Create(2);
            var bias = Vector512.Create((byte)0x80);
            long* sad = stackalloc long[32];
            for (int g = 0; g < groups; g++)
            {
                int* src = (int*)(xq + g * 256);
                int* dst = (int*)(gx + g * GroupBytes);
                var a0 = Vector512.Load(src);
                var a1 = Vector512.Load(src + 16);
                var a2 = Vector512.Load(src + 32);
                var a3 = Vector512.Load(src + 48);
                var idx = i0;
                for (int k = 0; k < 4; k++, idx += two)
                    Vector512.Store(Vector512.ConditionalSelect(fromHigh, Avx512F.PermuteVar16x32x2(a2, idx, a3), Avx512F.PermuteVar16x32x2(a0, idx, a1)), dst + k * 16);
                if (sums == null)
                {
                    // Σq per block = Σ(q + 128) - 32·128: vpsadbw sums each 8 bytes; a block is four of them
                    Vector512.Store(Avx512BW.SumAbsoluteDifferences(a0.AsByte() ^ bias, Vector512<byte>.Zero).AsInt64(), sad);
                    Vector512.Store(Avx512BW.SumAbsoluteDifferences(a1.AsByte() ^ bias, Vector512<byte>.Zero).AsInt64(), sad + 8);
                    Vector512.Store(Avx512BW.SumAbsoluteDifferences(a2.AsByte() ^ bias, Vector512<byte>.Zero).AsInt64(), sad + 16);
                    Vector512.Store(Avx512BW.SumAbsoluteDifferences(a3.AsByte() ^ bias, Vector512<byte>.Zero).AsInt64(), sad + 24);
                }
                for (int b = 0; b < 8; b++)
                {
                    dst[64 + b] = sums != null ? sums[(g * 8 + b) * 8] : -8 * (int)(sad[4 * b] + sad[4 * b + 1] + sad[4 * b + 2] + sad[4 * b + 3] - 32 * 128);
                    dst[64 + 8 + b] = 0;
                }
                var d = Vector256.Load(xd + g * 8);
                Vector512.Store(Vector512.Create(d, d), (float*)dst + 80);
            }
            return;
        }
        for (int g = 0; g < groups; g++)
        {
            int* src = (int*)(xq + g * 256);
            int* dst = (int*)(gx + g * GroupBytes);
            for (int k = 0; k < 4; k++)
                for (int b = 0; b < 8; b++)
                {
                    dst[k * 16 + b] = src[8 * b + 2 * k];
                    dst[k * 16 + 8 + b] = src[8 * b + 2 * k + 1];
                }
            for (int b = 0; b < 8; b++)
            {
                if (sums != null) dst[64 + b] = sums[(g * 8 + b) * 8];
                else
                {
                    int sum = 0;
                    for (int k = 0; k < 32; k++) sum += xq[(g * 8 + b) * 32 + k];
                    dst[64 + b] = -8 * sum;
                }
                dst[64 + 8 + b] = 0;
                ((float*)dst)[80 + b] = xd[g * 8 + b];
                ((float*)dst)[80 + 8 + b] = xd[g * 8 + b];
            }
        }
    }

    /// <summary>
    /// Sixteen fp16 values, each in both halves of an int32 lane, widened to float exactly as <see cref="HalfToFloat"/> does:
    /// the magnitude bits shifted to bits 13-27 times 2^112, or-ed with the sign (already bit 31, from the high copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector512<float> Scales8(Vector512<uint> h, Vector512<uint> signBit, Vector512<float> halfScale) =>
        ((Vector512.ShiftRightLogical(Vector512.ShiftLeft(h, 17), 4).AsSingle() * halfScale).AsUInt32() | (h & signBit)).AsSingle();

    /// <summary>
    /// Unpacks Q4_0 nibbles for <see cref="MatVecQ4_0Q8Avx512{TNibbles}"/>: of 32 words holding each block's 16 bytes twice per
    /// 256-bit half, the low nibbles of the first 128-bit copy and the high nibbles of the second, as bytes 0-15.
    /// </summary>
    internal interface INibbles
    {
        /// <summary>The constant operand of <see cref="Unpack"/>.</summary>
        static abstract Vector512<byte> Constant { get; }
        /// <summary>The unsigned nibbles of <paramref name="words"/>.</summary>
        static abstract Vector512<byte> Unpack(Vector512<ushort> words, Vector512<byte> constant);
        /// <summary>The high nibble of every byte, as bytes 0-15.</summary>
        static abstract Vector512<byte> HighNibbles(Vector512<byte> bytes);
    }

    /// <summary>One GFNI affine transform per vector: per qword a bit matrix selecting bits 0-3 (low copies) or 4-7 (high copies) into bits 0-3.</summary>
    internal struct GfniNibbles : INibbles
    {
        // gf2p8affineqb: result bit j of a byte = parity(matrix byte 7-j AND source byte); byte 7-j = 1 << j (low) or 1 << (j+4) (high), j < 4
        private const ulong Low = 0x0102040800000000UL, High = 0x1020408000000000UL;
        public static Vector512<byte> Constant => Vector512.Create(Low, Low, High, High, Low, Low, High, High).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> Unpack(Vector512<ushort> words, Vector512<byte> constant) =>
            Gfni.V512.GaloisFieldAffineTransform(words.AsByte(), constant, 0);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> HighNibbles(Vector512<byte> bytes) => Gfni.V512.GaloisFieldAffineTransform(bytes, Vector512.Create(High).AsByte(), 0);
    }

    /// <summary>vpsrlvw (0 for the low copies, 4 for the high ones), then and 0x0F: AVX-512 BW without GFNI.</summary>
    internal struct ShiftNibbles : INibbles
    {
        public static Vector512<byte> Constant =>
            Vector512.Create((ushort)0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> Unpack(Vector512<ushort> words, Vector512<byte> constant) =>
            Avx512BW.ShiftRightLogicalVariable(words, constant.AsUInt16()).AsByte() & Vector512.Create((byte)0x0F);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> HighNibbles(Vector512<byte> bytes) => Vector512.ShiftRightLogical(bytes.AsUInt16(), 4).AsByte() & Vector512.Create((byte)0x0F);
    }

    /// <summary>
    /// Σ w·x over one block of 32 int8 pairs (w0/x0 the first 16, w1/x1 the rest) as four int32 partial sums, with plain
    /// AdvSimd: each smull/smull2 gives eight int16 products (|w·x| ≤ 16384 fits), sadalp adds neighbouring pairs into int32.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector128<int> DotBlockAdvSimd(Vector128<sbyte> w0, Vector128<sbyte> w1, Vector128<sbyte> x0, Vector128<sbyte> x1)
    {
        var s = AdvSimd.AddPairwiseWidening(AdvSimd.MultiplyWideningLower(w0.GetLower(), x0.GetLower()));
        s = AdvSimd.AddPairwiseWideningAndAdd(s, AdvSimd.MultiplyWideningUpper(w0, x0));
        s = AdvSimd.AddPairwiseWideningAndAdd(s, AdvSimd.MultiplyWideningLower(w1.GetLower(), x1.GetLower()));
        return AdvSimd.AddPairwiseWideningAndAdd(s, AdvSimd.MultiplyWideningUpper(w1, x1));
    }

    /// <summary>Scalar reference of <see cref="MatVecQ4_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/>.</summary>
    public static void MatVecQ4_0Q8Scalar(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            var row = (BlockQ4_0*)(w + (long)i * nb * 18);
            float sum = 0;
            for (int b = 0; b < nb; b++)
            {
                int s = 0;
                for (int k = 0; k < 16; k++)
                {
                    s += ((row[b].Qs[k] & 0xF) - 8) * xq[b * 32 + k];
                    s += ((row[b].Qs[k] >> 4) - 8) * xq[b * 32 + 16 + k];
                }
                sum += s * ((float)row[b].D * xd[b]);
            }
            y[i] = sum;
        }
    }

    /// <summary>Rows [rowStart, rowEnd) of a Q8_0 matrix [rows, n] dequantized to float rows (dst row r-rowStart), vectorized per block.</summary>
    public static void DequantizeRowsQ8_0(byte* w, float* dst, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        for (int i = rowStart; i < rowEnd; i++)
        {
            byte* row = w + (long)i * nb * 34;
            float* o = dst + (long)(i - rowStart) * n;
            for (int b = 0; b < nb; b++)
            {
                byte* blk = row + b * 34;
                float d = HalfToFloat(*(Half*)blk);
                sbyte* q = (sbyte*)blk + 2;
                if (Vector256.IsHardwareAccelerated)
                {
                    var vd = Vector256.Create(d);
                    var q16 = Vector256.WidenLower(Vector256.Create(Vector128.Load(q), Vector128<sbyte>.Zero));
                    var q16b = Vector256.WidenLower(Vector256.Create(Vector128.Load(q + 16), Vector128<sbyte>.Zero));
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenLower(q16)) * vd, o + b * 32);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenUpper(q16)) * vd, o + b * 32 + 8);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenLower(q16b)) * vd, o + b * 32 + 16);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenUpper(q16b)) * vd, o + b * 32 + 24);
                }
                else
                {
                    for (int k = 0; k < 32; k++) o[b * 32 + k] = d * q[k];
                }
            }
        }
    }

    /// <summary>Rows [rowStart, rowEnd) of a Q4_0 matrix [rows, n] dequantized to float rows, vectorized per block.</summary>
    public static void DequantizeRowsQ4_0(byte* w, float* dst, int n, int rowStart, int rowEnd)
    {
        int nb = n / 32;
        var mask = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((sbyte)8);
        for (int i = rowStart; i < rowEnd; i++)
        {
            byte* row = w + (long)i * nb * 18;
            float* o = dst + (long)(i - rowStart) * n;
            for (int b = 0; b < nb; b++)
            {
                byte* blk = row + b * 18;
                float d = HalfToFloat(*(Half*)blk);
                if (Vector256.IsHardwareAccelerated)
                {
                    var raw = Vector128.Load(blk + 2);
                    var lo = (raw & mask).AsSByte() - eight;
                    var hi = (Vector128.ShiftRightLogical(raw, 4) & mask).AsSByte() - eight;
                    var vd = Vector256.Create(d);
                    var l16 = Vector256.WidenLower(Vector256.Create(lo, Vector128<sbyte>.Zero));
                    var h16 = Vector256.WidenLower(Vector256.Create(hi, Vector128<sbyte>.Zero));
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenLower(l16)) * vd, o + b * 32);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenUpper(l16)) * vd, o + b * 32 + 8);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenLower(h16)) * vd, o + b * 32 + 16);
                    Vector256.Store(Vector256.ConvertToSingle(Vector256.WidenUpper(h16)) * vd, o + b * 32 + 24);
                }
                else
                {
                    byte* q = blk + 2;
                    for (int k = 0; k < 16; k++)
                    {
                        o[b * 32 + k] = d * ((q[k] & 0xF) - 8);
                        o[b * 32 + 16 + k] = d * ((q[k] >> 4) - 8);
                    }
                }
            }
        }
    }

    /// <summary>Scalar reference dequantization of n Q8_0 values.</summary>
    public static void DequantizeQ8_0(byte* src, float* dst, long n)
    {
        var blocks = (BlockQ8_0*)src;
        for (long i = 0; i < n; i++) dst[i] = (float)blocks[i / 32].D * blocks[i / 32].Qs[i % 32];
    }

    /// <summary>Scalar reference dequantization of n Q4_0 values.</summary>
    public static void DequantizeQ4_0(byte* src, float* dst, long n)
    {
        var blocks = (BlockQ4_0*)src;
        for (long i = 0; i < n; i++)
        {
            long b = i / 32;
            int k = (int)(i % 32);
            int q = k < 16 ? blocks[b].Qs[k] & 0xF : blocks[b].Qs[k - 16] >> 4;
            dst[i] = (float)blocks[b].D * (q - 8);
        }
    }

    /// <summary>Quantizes n floats (a multiple of 32) to Q8_0: d = max|x| / 127, q = round(x / d), as ggml does.</summary>
    public static void QuantizeQ8_0(float* src, byte* dst, long n)
    {
        var blocks = (BlockQ8_0*)dst;
        for (long b = 0; b < n / 32; b++)
        {
            float amax = 0;
            for (int k = 0; k < 32; k++) amax = MathF.Max(amax, MathF.Abs(src[b * 32 + k]));
            float d = amax / 127f;
            float id = d != 0 ? 1f / d : 0;
            blocks[b].D = (Half)d;
            for (int k = 0; k < 32; k++) blocks[b].Qs[k] = (sbyte)MathF.Round(src[b * 32 + k] * id);
        }
    }

    /// <summary>
    /// Quantizes n floats (a multiple of 32) to Q4_0 as ggml does: d = m / -8 where m is the value of largest magnitude
    /// (sign kept), q = min(15, (int)(x / d + 8.5)).
    /// </summary>
    public static void QuantizeQ4_0(float* src, byte* dst, long n)
    {
        var blocks = (BlockQ4_0*)dst;
        for (long b = 0; b < n / 32; b++)
        {
            float amax = 0, max = 0;
            for (int k = 0; k < 32; k++)
            {
                float v = src[b * 32 + k];
                if (MathF.Abs(v) > amax) { amax = MathF.Abs(v); max = v; }
            }
            float d = max / -8f;
            float id = d != 0 ? 1f / d : 0;
            blocks[b].D = (Half)d;
            for (int k = 0; k < 16; k++)
            {
                int q0 = Math.Min(15, (int)(src[b * 32 + k] * id + 8.5f));
                int q1 = Math.Min(15, (int)(src[b * 32 + 16 + k] * id + 8.5f));
                blocks[b].Qs[k] = (byte)(q0 | (q1 << 4));
            }
        }
    }
}
