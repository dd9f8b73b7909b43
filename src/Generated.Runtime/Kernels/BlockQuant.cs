using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;

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
