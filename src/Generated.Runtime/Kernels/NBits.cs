using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// com.microsoft MatMulNBits: y[m, n] = Σ_k a[m, k] · (q[n, k] - zp[n, block]) · scale[n, block], with B stored as
/// [N, kBlocks, blockSize·bits/8] bytes (4-bit: element 2j in the low nibble of byte j, 2j+1 in the high nibble), float scales
/// [N, kBlocks], and optional packed zero points (4-bit: two blocks per byte, low nibble first; 8-bit: one byte per block;
/// default 2^(bits-1)). The weights stay packed: 4-bit blocks are unpacked in registers against activations permuted once
/// per row so the nibble order lines up.
/// </summary>
public static unsafe class NBits
{
    /// <summary>Activations of one row reordered per 32-element group: the 16 even elements, then the 16 odd ones; zero padded to kPadded.</summary>
    public static void PermuteActivations4(float* a, float* dst, int k, int kPadded)
    {
        for (int g = 0; g < kPadded; g += 32)
            for (int j = 0; j < 16; j++)
            {
                int e = g + 2 * j, o = e + 1;
                dst[g + j] = e < k ? a[e] : 0f;
                dst[g + 16 + j] = o < k ? a[o] : 0f;
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Zero4(byte* zp, int n, int kBlocks, int b)
    {
        if (zp == null) return 8;
        int perRow = (kBlocks + 1) / 2;
        byte v = zp[n * perRow + b / 2];
        return (b & 1) == 0 ? v & 0xF : v >> 4;
    }

    /// <summary>
    /// 4-bit rows [rowStart, rowEnd) against permuted activations (block size a multiple of 32). The nibbles are unpacked
    /// in registers, never into a float copy of the weights: with AVX-512, 16 packed bytes → int32 lanes → low / high
    /// nibbles → float → FMA with 16 activations, four rows at a time sharing the activation loads; each block's partial sum
    /// is scaled into a vector accumulator (no horizontal sum per block); the zero points enter per row as Σ z·s·Σx, vectorised.
    /// </summary>
    public static void MatVec4(float* aPerm, byte* b, float* scales, byte* zp, float* y, int kBlocks, int blockSize, int rowStart, int rowEnd)
    {
        int n = rowStart;
        if (Avx512F.IsSupported && kBlocks <= 4096)
        {
            float* xs = stackalloc float[kBlocks + 32];
            BlockSums(aPerm, xs, kBlocks, blockSize);
            // The block sums split into even and odd blocks, matching the low / high nibbles of the packed zero points.
            float* xsSplit = stackalloc float[kBlocks + 32];
            for (int i = 0; i < kBlocks; i++) xsSplit[(i >> 5 << 5) + ((i & 1) << 4) + ((i & 31) >> 1)] = xs[i];
            // Zero points: the packed rows, or one shared row of the default 8 (stride 0).
            int zStride = (kBlocks + 1) / 2;
            byte* zd = stackalloc byte[zStride];
            if (zp == null) new Span<byte>(zd, zStride).Fill(0x88);
            byte* z = zp == null ? zd : zp;
            int zs = zp == null ? 0 : zStride;
            for (; n + 4 <= rowEnd; n += 4)
            {
                // Fewer than 32 blocks: the scalar zero-point terms overlap the vector work inside the block loop.
                Rows4Avx512(aPerm, b, scales, kBlocks < 32 ? z + (long)n * zs : null, zs, xs, y, kBlocks, blockSize, n);
                if (kBlocks >= 32)
                    for (int r = n; r < n + 4; r++) y[r] -= ZeroTerm(z + (long)r * zs, scales + (long)r * kBlocks, xs, xsSplit, kBlocks);
            }
            for (; n < rowEnd; n++) y[n] = Row1Avx512(aPerm, b, scales, kBlocks, blockSize, n) - ZeroTerm(z + (long)n * zs, scales + (long)n * kBlocks, xs, xsSplit, kBlocks);
            return;
        }
        int blob = blockSize / 2;
        for (; n < rowEnd; n++)
        {
            float sum = 0;
            byte* row = b + (long)n * kBlocks * blob;
            var total = Vector256<float>.Zero;
            for (int bl = 0; bl < kBlocks; bl++)
            {
                float s = scales[(long)n * kBlocks + bl];
                int z = Zero4(zp, n, kBlocks, bl);
                byte* q = row + bl * blob;
                float* x = aPerm + bl * blockSize;
                float part = 0;
                int g = 0;
                if (Vector256.IsHardwareAccelerated)
                {
                    var mask = Vector128.Create((byte)0x0F);
                    var zero = Vector128.Create((short)z);
                    var acc = Vector256<float>.Zero;
                    for (; g < blockSize; g += 32)
                    {
                        var raw = Vector128.Load(q + g / 2);
                        var lo = Vector128.WidenLower((raw & mask)).AsInt16() - zero;
                        var lo2 = Vector128.WidenUpper((raw & mask)).AsInt16() - zero;
                        var hi = Vector128.WidenLower(Vector128.ShiftRightLogical(raw, 4)).AsInt16() - zero;
                        var hi2 = Vector128.WidenUpper(Vector128.ShiftRightLogical(raw, 4)).AsInt16() - zero;
                        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenLower(Vector256.Create(lo, lo2))), Vector256.Load(x + g), acc);
                        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(Vector256.Create(lo, lo2))), Vector256.Load(x + g + 8), acc);
                        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenLower(Vector256.Create(hi, hi2))), Vector256.Load(x + g + 16), acc);
                        acc = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(Vector256.Create(hi, hi2))), Vector256.Load(x + g + 24), acc);
                    }
                    total = Vector256.FusedMultiplyAdd(acc, Vector256.Create(s), total);
                }
                for (; g < blockSize; g += 32)
                    for (int j = 0; j < 16; j++)
                    {
                        part += ((q[g / 2 + j] & 0xF) - z) * x[g + j];
                        part += ((q[g / 2 + j] >> 4) - z) * x[g + 16 + j];
                    }
                sum += part * s;
            }
            y[n] = sum + Vector256.Sum(total);
        }
    }

    /// <summary>
    /// The low and high nibbles of 16 packed bytes as two float vectors: the bytes are zero-extended to int32 lanes straight
    /// from memory (vpmovzxbd), the high nibble is a plain shift, and a 16-entry float table lookup (vpermps) converts.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<int> Bytes16(byte* q) => Avx512F.ConvertToVector512Int32(Vector128.Load(q));

    /// <summary>Low nibbles of <see cref="Bytes16"/> lanes as floats: vpermps reads only the low 4 bits of each index, so the table lookup is the mask and the conversion in one.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Lo(Vector512<int> v) => Avx512F.PermuteVar16x32(Vector512.Create(0f, 1f, 2f, 3f, 4f, 5f, 6f, 7f, 8f, 9f, 10f, 11f, 12f, 13f, 14f, 15f), v);

    /// <summary>High nibbles of <see cref="Bytes16"/> lanes as floats.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Hi(Vector512<int> v) => Lo(Vector512.ShiftRightLogical(v, 4));

    /// <summary>
    /// Σ_block z·s·Σx of one row, 32 blocks per step: 16 packed zero-point bytes → int32 lanes → low nibbles (even blocks)
    /// and high nibbles (odd blocks) as floats, the row's scales split into even / odd blocks by vpermt2ps, against the block
    /// sums pre-split the same way (<paramref name="xsSplit"/>: per 32 blocks, the 16 even then the 16 odd).
    /// </summary>
    private static float ZeroTerm(byte* zrow, float* srow, float* xs, float* xsSplit, int kBlocks)
    {
        var even = Vector512.Create(0, 2, 4, 6, 8, 10, 12, 14, 16, 18, 20, 22, 24, 26, 28, 30);
        var odd = even + Vector512<int>.One;
        var acc = Vector512<float>.Zero;
        int bl = 0;
        for (; bl + 32 <= kBlocks; bl += 32)
        {
            var v = Bytes16(zrow + bl / 2);
            var s0 = Vector512.Load(srow + bl);
            var s1 = Vector512.Load(srow + bl + 16);
            acc = Avx512F.FusedMultiplyAdd(Lo(v) * Avx512F.PermuteVar16x32x2(s0, even, s1), Vector512.Load(xsSplit + bl), acc);
            acc = Avx512F.FusedMultiplyAdd(Hi(v) * Avx512F.PermuteVar16x32x2(s0, odd, s1), Vector512.Load(xsSplit + bl + 16), acc);
        }
        float c = Vector512.Sum(acc);
        for (; bl < kBlocks; bl++) c += ((zrow[bl >> 1] >> ((bl & 1) << 2)) & 0xF) * srow[bl] * xs[bl];
        return c;
    }

    /// <summary>Σ of each block's activations, for the zero-point term z·s·Σx.</summary>
    private static void BlockSums(float* aPerm, float* sums, int kBlocks, int blockSize)
    {
        for (int bl = 0; bl < kBlocks; bl++)
        {
            var acc = Vector512<float>.Zero;
            for (int g = 0; g < blockSize; g += 16) acc += Vector512.Load(aPerm + bl * blockSize + g);
            sums[bl] = Vector512.Sum(acc);
        }
    }

    /// <summary>
    /// Four rows of Σ_block s·Σ q·x, minus the zero-point terms z·s·Σx when <paramref name="z0p"/> is given (else the caller
    /// subtracts <see cref="ZeroTerm"/>). The nibble products accumulate per block
    /// in vectors (one chain per row, the activation loads shared), each block's vector is scaled into the row's total.
    /// </summary>
    private static void Rows4Avx512(float* aPerm, byte* b, float* scales, byte* z0p, int zStride, float* xs, float* y, int kBlocks, int blockSize, int n)
    {
        byte* z1p = z0p + zStride, z2p = z1p + zStride, z3p = z2p + zStride;
        float c0 = 0, c1 = 0, c2 = 0, c3 = 0;
        int blob = blockSize / 2;
        long rowBytes = (long)kBlocks * blob;
        byte* r0 = b + n * rowBytes, r1 = r0 + rowBytes, r2 = r1 + rowBytes, r3 = r2 + rowBytes;
        float* s0 = scales + (long)n * kBlocks, s1 = s0 + kBlocks, s2 = s1 + kBlocks, s3 = s2 + kBlocks;
        Vector512<float> t0 = default, t1 = default, t2 = default, t3 = default;
        for (int bl = 0; bl < kBlocks; bl++)
        {
            Vector512<float> a0 = default, a1 = default, a2 = default, a3 = default;
            float* x = aPerm + bl * blockSize;
            int off = bl * blob;
            for (int g = 0; g < blockSize; g += 32, off += 16)
            {
                var xl = Vector512.Load(x + g);
                var xh = Vector512.Load(x + g + 16);
                var v0 = Bytes16(r0 + off);
                var v1 = Bytes16(r1 + off);
                var v2 = Bytes16(r2 + off);
                var v3 = Bytes16(r3 + off);
                a0 = Avx512F.FusedMultiplyAdd(Hi(v0), xh, Avx512F.FusedMultiplyAdd(Lo(v0), xl, a0));
                a1 = Avx512F.FusedMultiplyAdd(Hi(v1), xh, Avx512F.FusedMultiplyAdd(Lo(v1), xl, a1));
                a2 = Avx512F.FusedMultiplyAdd(Hi(v2), xh, Avx512F.FusedMultiplyAdd(Lo(v2), xl, a2));
                a3 = Avx512F.FusedMultiplyAdd(Hi(v3), xh, Avx512F.FusedMultiplyAdd(Lo(v3), xl, a3));
            }
            float sc0 = s0[bl], sc1 = s1[bl], sc2 = s2[bl], sc3 = s3[bl];
            t0 = Avx512F.FusedMultiplyAdd(a0, Vector512.Create(sc0), t0);
            t1 = Avx512F.FusedMultiplyAdd(a1, Vector512.Create(sc1), t1);
            t2 = Avx512F.FusedMultiplyAdd(a2, Vector512.Create(sc2), t2);
            t3 = Avx512F.FusedMultiplyAdd(a3, Vector512.Create(sc3), t3);
            if (z0p != null)
            {
                int shift = (bl & 1) << 2, zb = bl >> 1;
                float xsum = xs[bl];
                c0 += ((z0p[zb] >> shift) & 0xF) * sc0 * xsum;
                c1 += ((z1p[zb] >> shift) & 0xF) * sc1 * xsum;
                c2 += ((z2p[zb] >> shift) & 0xF) * sc2 * xsum;
                c3 += ((z3p[zb] >> shift) & 0xF) * sc3 * xsum;
            }
        }
        y[n] = Vector512.Sum(t0) - c0;
        y[n + 1] = Vector512.Sum(t1) - c1;
        y[n + 2] = Vector512.Sum(t2) - c2;
        y[n + 3] = Vector512.Sum(t3) - c3;
    }

    private static float Row1Avx512(float* aPerm, byte* b, float* scales, int kBlocks, int blockSize, int n)
    {
        int blob = blockSize / 2;
        byte* r0 = b + (long)n * kBlocks * blob;
        var t0 = Vector512<float>.Zero;
        for (int bl = 0; bl < kBlocks; bl++)
        {
            var a0 = Vector512<float>.Zero;
            float* x = aPerm + bl * blockSize;
            int off = bl * blob;
            for (int g = 0; g < blockSize; g += 32, off += 16)
            {
                var v0 = Bytes16(r0 + off);
                a0 = Avx512F.FusedMultiplyAdd(Hi(v0), Vector512.Load(x + g + 16), Avx512F.FusedMultiplyAdd(Lo(v0), Vector512.Load(x + g), a0));
            }
            t0 = Avx512F.FusedMultiplyAdd(a0, Vector512.Create(scales[(long)n * kBlocks + bl]), t0);
        }
        return Vector512.Sum(t0);
    }

    /// <summary>Scalar reference of the 4-bit product on activations in their natural order.</summary>
    internal static void MatVec4Scalar(float* a, byte* b, float* scales, byte* zp, float* y, int k, int n, int blockSize)
    {
        int kBlocks = (k + blockSize - 1) / blockSize, blob = blockSize / 2;
        for (int r = 0; r < n; r++)
        {
            double sum = 0;
            for (int i = 0; i < k; i++)
            {
                int bl = i / blockSize, j = i % blockSize;
                byte v = b[((long)r * kBlocks + bl) * blob + j / 2];
                int q = (j & 1) == 0 ? v & 0xF : v >> 4;
                sum += (double)(q - Zero4(zp, r, kBlocks, bl)) * scales[(long)r * kBlocks + bl] * a[i];
            }
            y[r] = (float)sum;
        }
    }

    /// <summary>8-bit rows: value = (q - zp) · scale, zp one byte per block (default 128).</summary>
    public static void MatVec8(float* a, byte* b, float* scales, byte* zp, float* y, int k, int kBlocks, int blockSize, int rowStart, int rowEnd)
    {
        for (int n = rowStart; n < rowEnd; n++)
        {
            float sum = 0;
            for (int bl = 0; bl < kBlocks; bl++)
            {
                int z = zp == null ? 128 : zp[(long)n * kBlocks + bl];
                byte* q = b + ((long)n * kBlocks + bl) * blockSize;
                float part = 0;
                int end = Math.Min(blockSize, k - bl * blockSize);
                for (int j = 0; j < end; j++) part += (q[j] - z) * a[bl * blockSize + j];
                sum += part * scales[(long)n * kBlocks + bl];
            }
            y[n] = sum;
        }
    }

    /// <summary>
    /// Rows [rowStart, rowEnd) of a decoder weight in <see cref="ElementType.MatMulNBits4"/> layout ([rows, ceil(k/32)] blocks of
    /// 16 bytes, then [rows, ceil(k/32)] float scales, zero point 8) against activations permuted by <see cref="PermuteActivations4"/>.
    /// </summary>
    public static void MatVecRows4(byte* w, float* aPerm, float* y, int k, int rows, int rowStart, int rowEnd)
    {
        int kBlocks = (k + 31) / 32;
        float* scales = (float*)(w + (long)rows * kBlocks * 16);
        if (!Vector256.IsHardwareAccelerated)
        {
            MatVec4(aPerm, w, scales, null, y, kBlocks, 32, rowStart, rowEnd);
            return;
        }
        // blocks of 32 with zero point 8: each block's products are scaled into one vector accumulator, summed once per row
        var mask = Vector128.Create((byte)0x0F);
        var eight = Vector128.Create((short)8);
        for (int n = rowStart; n < rowEnd; n++)
        {
            byte* row = w + (long)n * kBlocks * 16;
            float* s = scales + (long)n * kBlocks;
            var acc = Vector256<float>.Zero;
            for (int bl = 0; bl < kBlocks; bl++)
            {
                var raw = Vector128.Load(row + bl * 16);
                float* x = aPerm + bl * 32;
                var lo = Vector256.Create(Vector128.WidenLower(raw & mask).AsInt16() - eight, Vector128.WidenUpper(raw & mask).AsInt16() - eight);
                var hi = Vector256.Create(Vector128.WidenLower(Vector128.ShiftRightLogical(raw, 4)).AsInt16() - eight, Vector128.WidenUpper(Vector128.ShiftRightLogical(raw, 4)).AsInt16() - eight);
                var part = Vector256.ConvertToSingle(Vector256.WidenLower(lo)) * Vector256.Load(x);
                part = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(lo)), Vector256.Load(x + 8), part);
                part = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenLower(hi)), Vector256.Load(x + 16), part);
                part = Vector256.FusedMultiplyAdd(Vector256.ConvertToSingle(Vector256.WidenUpper(hi)), Vector256.Load(x + 24), part);
                acc = Vector256.FusedMultiplyAdd(part, Vector256.Create(s[bl]), acc);
            }
            y[n] = Vector256.Sum(acc);
        }
    }

    /// <summary>Widens rows [rowStart, rowEnd) of a <see cref="ElementType.MatMulNBits4"/> weight to floats dst[(row - rowStart)·k + i].</summary>
    public static void DequantizeRows4(byte* w, float* dst, int k, int rows, int rowStart, int rowEnd)
    {
        int kBlocks = (k + 31) / 32;
        float* scales = (float*)(w + (long)rows * kBlocks * 16);
        for (int r = rowStart; r < rowEnd; r++)
        {
            byte* row = w + (long)r * kBlocks * 16;
            float* o = dst + (long)(r - rowStart) * k;
            for (int i = 0; i < k; i++)
            {
                byte v = row[(i >> 5) * 16 + ((i & 31) >> 1)];
                int q = (i & 1) == 0 ? v & 0xF : v >> 4;
                o[i] = (q - 8) * scales[(long)r * kBlocks + (i >> 5)];
            }
        }
    }
}
