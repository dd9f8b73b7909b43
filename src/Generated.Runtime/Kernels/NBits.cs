using System.Runtime.Intrinsics;

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

    private static int Zero4(byte* zp, int n, int kBlocks, int b)
    {
        if (zp == null) return 8;
        int perRow = (kBlocks + 1) / 2;
        byte v = zp[n * perRow + b / 2];
        return (b & 1) == 0 ? v & 0xF : v >> 4;
    }

    /// <summary>4-bit rows [rowStart, rowEnd) against permuted activations (block size a multiple of 32).</summary>
    public static void MatVec4(float* aPerm, byte* b, float* scales, byte* zp, float* y, int kBlocks, int blockSize, int rowStart, int rowEnd)
    {
        int blob = blockSize / 2;
        for (int n = rowStart; n < rowEnd; n++)
        {
            float sum = 0;
            byte* row = b + (long)n * kBlocks * blob;
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
                    part = Vector256.Sum(acc);
                }
                for (; g < blockSize; g += 32)
                    for (int j = 0; j < 16; j++)
                    {
                        part += ((q[g / 2 + j] & 0xF) - z) * x[g + j];
                        part += ((q[g / 2 + j] >> 4) - z) * x[g + 16 + j];
                    }
                sum += part * s;
            }
            y[n] = sum;
        }
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
