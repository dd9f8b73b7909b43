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
    private const float HalfScale = 5.192296858534828e33f;

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
    /// The <see cref="BlockInt8Path.Avx512"/> path of <see cref="MatVecQ4_0Q8(byte*, sbyte*, float*, float*, int, int, int)"/>: eight
    /// blocks (144 bytes) per step, read as four 64-byte loads at +0, +8, +72, +80 (never past the eight blocks). vpermw places a
    /// block's 16 nibble bytes twice in a 256-bit half; <typeparamref name="TNibbles"/> keeps the low nibbles of the first copy and
    /// the high nibbles of the second (one GFNI affine transform, else vpsrlvw + and), which leaves the unsigned nibbles in x's
    /// order: two blocks per vector for vpmaddubsw + vpmaddwd, plus the stored -8·Σx. The eight fp16 scales are picked by
    /// one vpermi2w into eight int32 lanes and widened together (the <see cref="HalfToFloat"/> bit trick, exact), multiplied by
    /// x's eight scales, then spread over each block's eight lanes (vpermps). Then one four-block step if four are left, and
    /// 256-bit steps for the last n/32 mod 4 blocks.
    /// </summary>
    internal static void MatVecQ4_0Q8Avx512<TNibbles>(byte* w, sbyte* xq, float* xd, float* y, int n, int rowStart, int rowEnd)
        where TNibbles : struct, INibbles
    {
        int nb = n / 32;
        var sums = (int*)(xq + n);
        // words of a 64-byte load at a block holding blocks 0 and 1's nibbles, each twice; of one at +8, blocks 2 and 3's
        var pick01 = Vector512.Create((ushort)1, 2, 3, 4, 5, 6, 7, 8, 1, 2, 3, 4, 5, 6, 7, 8, 10, 11, 12, 13, 14, 15, 16, 17, 10, 11, 12, 13, 14, 15, 16, 17);
        var pick23 = Vector512.Create((ushort)15, 16, 17, 18, 19, 20, 21, 22, 15, 16, 17, 18, 19, 20, 21, 22, 24, 25, 26, 27, 28, 29, 30, 31, 24, 25, 26, 27, 28, 29, 30, 31);
        var unpack = TNibbles.Constant;
        // int32 lane j < 8 = block j's fp16 scale in both halves: word 9j of the loads at +0 (j < 4) and +72 (index 32 + 9(j-4))
        var pickScales8 = Vector512.Create((ushort)0, 0, 9, 9, 18, 18, 27, 27, 32, 32, 41, 41, 50, 50, 59, 59, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0);
        var spread01 = Vector512.Create(0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1);
        var spread23 = Vector512.Create(2, 2, 2, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3);
        var spread45 = Vector512.Create(4, 4, 4, 4, 4, 4, 4, 4, 5, 5, 5, 5, 5, 5, 5, 5);
        var spread67 = Vector512.Create(6, 6, 6, 6, 6, 6, 6, 6, 7, 7, 7, 7, 7, 7, 7, 7);
        var ones = Vector512.Create((short)1);
        var signBit = Vector512.Create(0x80000000u);
        var halfScale = Vector512.Create(HalfScale);
        for (int i = rowStart; i < rowEnd; i++)
        {
            byte* row = w + (long)i * nb * 18;
            PrefetchAhead(row, nb * 18);
            var acc0 = Vector512<float>.Zero;
            var acc1 = Vector512<float>.Zero;
            int b = 0;
            for (; b + 8 <= nb; b += 8)
            {
                byte* blk = row + b * 18;
                var z0 = Vector512.Load((ushort*)blk);
                var z1 = Vector512.Load((ushort*)(blk + 8));
                var z2 = Vector512.Load((ushort*)(blk + 72));
                var z3 = Vector512.Load((ushort*)(blk + 80));
                var s = Scales8(Avx512BW.PermuteVar32x16x2(z0, pickScales8, z2).AsUInt32(), signBit, halfScale) * Vector256.Load(xd + b).ToVector512();
                var w01 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z0, pick01), unpack);
                var w23 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z1, pick23), unpack);
                var w45 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z2, pick01), unpack);
                var w67 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z3, pick23), unpack);
                var p01 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w01, Vector512.Load(xq + b * 32)), ones) + Vector512.Load(sums + b * 8);
                var p23 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w23, Vector512.Load(xq + b * 32 + 64)), ones) + Vector512.Load(sums + b * 8 + 16);
                var p45 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w45, Vector512.Load(xq + b * 32 + 128)), ones) + Vector512.Load(sums + b * 8 + 32);
                var p67 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w67, Vector512.Load(xq + b * 32 + 192)), ones) + Vector512.Load(sums + b * 8 + 48);
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p01), Avx512F.PermuteVar16x32(s, spread01), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p23), Avx512F.PermuteVar16x32(s, spread23), acc1);
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p45), Avx512F.PermuteVar16x32(s, spread45), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p67), Avx512F.PermuteVar16x32(s, spread67), acc1);
            }
            if (b + 4 <= nb)
            {
                byte* blk = row + b * 18;
                var z0 = Vector512.Load((ushort*)blk);
                var z1 = Vector512.Load((ushort*)(blk + 8));
                // the four scales from the first load only (lanes 4-7 pick words of it too; their products are never spread)
                var s = Scales8(Avx512BW.PermuteVar32x16(z0, pickScales8).AsUInt32(), signBit, halfScale) * Vector128.Load(xd + b).ToVector256().ToVector512();
                var w01 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z0, pick01), unpack);
                var w23 = TNibbles.Unpack(Avx512BW.PermuteVar32x16(z1, pick23), unpack);
                var p01 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w01, Vector512.Load(xq + b * 32)), ones) + Vector512.Load(sums + b * 8);
                var p23 = Avx512BW.MultiplyAddAdjacent(Avx512BW.MultiplyAddAdjacent(w23, Vector512.Load(xq + b * 32 + 64)), ones) + Vector512.Load(sums + b * 8 + 16);
                acc0 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p01), Avx512F.PermuteVar16x32(s, spread01), acc0);
                acc1 = Avx512F.FusedMultiplyAdd(Avx512F.ConvertToVector512Single(p23), Avx512F.PermuteVar16x32(s, spread23), acc1);
                b += 4;
            }
            float sum = Vector512.Sum(acc0 + acc1);
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
            y[i] = sum;
        }
    }

    /// <summary>
    /// Sixteen fp16 values, each in both halves of an int32 lane, widened to float exactly as <see cref="HalfToFloat"/> does:
    /// the magnitude bits shifted to bits 13-27 times 2^112, or-ed with the sign (already bit 31, from the high copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Scales8(Vector512<uint> h, Vector512<uint> signBit, Vector512<float> halfScale) =>
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
    }

    /// <summary>vpsrlvw (0 for the low copies, 4 for the high ones), then and 0x0F: AVX-512 BW without GFNI.</summary>
    internal struct ShiftNibbles : INibbles
    {
        public static Vector512<byte> Constant =>
            Vector512.Create((ushort)0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4, 0, 0, 0, 0, 0, 0, 0, 0, 4, 4, 4, 4, 4, 4, 4, 4).AsByte();
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<byte> Unpack(Vector512<ushort> words, Vector512<byte> constant) =>
            Avx512BW.ShiftRightLogicalVariable(words, constant.AsUInt16()).AsByte() & Vector512.Create((byte)0x0F);
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
