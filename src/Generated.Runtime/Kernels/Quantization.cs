using System.Numerics;
using System.Runtime.CompilerServices;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// How one quantized integer type is stored: its range, and how element <c>i</c> is read and written.
/// Sub-byte types (int4, uint4, int2, uint2) pack elements low bits first, as ONNX does.
/// </summary>
public unsafe interface IQuantType
{
    /// <summary>Bits per element (8 / Bits elements share a byte for the sub-byte types).</summary>
    static abstract int Bits { get; }
    static abstract int Min { get; }
    static abstract int Max { get; }
    static abstract int Load(byte* p, long i);
    static abstract void Store(byte* p, long i, int v);
}

#pragma warning disable CS1591 // each struct is the storage rule its name says
public unsafe struct QInt8 : IQuantType
{
    public static int Bits => 8;
    public static int Min => sbyte.MinValue;
    public static int Max => sbyte.MaxValue;
    public static int Load(byte* p, long i) => (sbyte)p[i];
    public static void Store(byte* p, long i, int v) => p[i] = (byte)(sbyte)v;
}

public unsafe struct QUInt8 : IQuantType
{
    public static int Bits => 8;
    public static int Min => 0;
    public static int Max => byte.MaxValue;
    public static int Load(byte* p, long i) => p[i];
    public static void Store(byte* p, long i, int v) => p[i] = (byte)v;
}

public unsafe struct QInt16 : IQuantType
{
    public static int Bits => 16;
    public static int Min => short.MinValue;
    public static int Max => short.MaxValue;
    public static int Load(byte* p, long i) => ((short*)p)[i];
    public static void Store(byte* p, long i, int v) => ((short*)p)[i] = (short)v;
}

public unsafe struct QUInt16 : IQuantType
{
    public static int Bits => 16;
    public static int Min => 0;
    public static int Max => ushort.MaxValue;
    public static int Load(byte* p, long i) => ((ushort*)p)[i];
    public static void Store(byte* p, long i, int v) => ((ushort*)p)[i] = (ushort)v;
}

public unsafe struct QInt32 : IQuantType
{
    public static int Bits => 32;
    public static int Min => int.MinValue;
    public static int Max => int.MaxValue;
    public static int Load(byte* p, long i) => ((int*)p)[i];
    public static void Store(byte* p, long i, int v) => ((int*)p)[i] = v;
}

public unsafe struct QInt4 : IQuantType
{
    public static int Bits => 4;
    public static int Min => -8;
    public static int Max => 7;
    public static int Load(byte* p, long i) => ((sbyte)(p[i >> 1] << (int)(4 - 4 * (i & 1)))) >> 4;
    public static void Store(byte* p, long i, int v)
    {
        int shift = (int)(4 * (i & 1));
        p[i >> 1] = (byte)((p[i >> 1] & ~(0xF << shift)) | ((v & 0xF) << shift));
    }
}

public unsafe struct QUInt4 : IQuantType
{
    public static int Bits => 4;
    public static int Min => 0;
    public static int Max => 15;
    public static int Load(byte* p, long i) => (p[i >> 1] >> (int)(4 * (i & 1))) & 0xF;
    public static void Store(byte* p, long i, int v) => QInt4.Store(p, i, v);
}

public unsafe struct QInt2 : IQuantType
{
    public static int Bits => 2;
    public static int Min => -2;
    public static int Max => 1;
    public static int Load(byte* p, long i) => ((sbyte)(p[i >> 2] << (int)(6 - 2 * (i & 3)))) >> 6;
    public static void Store(byte* p, long i, int v)
    {
        int shift = (int)(2 * (i & 3));
        p[i >> 2] = (byte)((p[i >> 2] & ~(0x3 << shift)) | ((v & 0x3) << shift));
    }
}

public unsafe struct QUInt2 : IQuantType
{
    public static int Bits => 2;
    public static int Min => 0;
    public static int Max => 3;
    public static int Load(byte* p, long i) => (p[i >> 2] >> (int)(2 * (i & 3))) & 0x3;
    public static void Store(byte* p, long i, int v) => QInt2.Store(p, i, v);
}
#pragma warning restore CS1591

/// <summary>
/// Where the scale and zero point of element (o, a, j) are, for x viewed as [outer, axisDim, inner]:
/// per tensor (one value), per axis (one per a), or blocked (one per (o, a / blockSize, j)).
/// </summary>
public readonly record struct QuantLayout(long Outer, long AxisDim, long Inner, int BlockSize, bool PerTensor)
{
    /// <summary>Number of blocks along the axis.</summary>
    public long Blocks => BlockSize <= 0 ? AxisDim : (AxisDim + BlockSize - 1) / BlockSize;

    /// <summary>Index of the scale for element (o, a, j).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ScaleIndex(long o, long a, long j) =>
        PerTensor ? 0 : BlockSize <= 0 ? a : (o * Blocks + a / BlockSize) * Inner + j;
}

/// <summary>QuantizeLinear, DequantizeLinear and DynamicQuantizeLinear (scalar reference kernels).</summary>
public static unsafe class Quantization
{
    /// <summary>y = saturate(round_half_even(x / scale) + zero_point), x and scale of type TF (float or Half).</summary>
    public static void Quantize<TQ, TF>(TF* x, TF* scale, byte* zeroPoint, byte* y, QuantLayout l)
        where TQ : IQuantType where TF : unmanaged, INumberBase<TF>
    {
        long i = 0;
        for (long o = 0; o < l.Outer; o++)
            for (long a = 0; a < l.AxisDim; a++)
                for (long j = 0; j < l.Inner; j++, i++)
                {
                    long s = l.ScaleIndex(o, a, j);
                    float v = MathF.Round(float.CreateTruncating(x[i]) / float.CreateTruncating(scale[s]), MidpointRounding.ToEven);
                    float q = v + (zeroPoint == null ? 0 : TQ.Load(zeroPoint, s));
                    TQ.Store(y, i, q <= TQ.Min ? TQ.Min : q >= TQ.Max ? TQ.Max : (int)q);
                }
    }

    /// <summary>y = (x - zero_point) * scale, y and scale of type TF.</summary>
    public static void Dequantize<TQ, TF>(byte* x, TF* scale, byte* zeroPoint, TF* y, QuantLayout l)
        where TQ : IQuantType where TF : unmanaged, INumberBase<TF>
    {
        long i = 0;
        for (long o = 0; o < l.Outer; o++)
            for (long a = 0; a < l.AxisDim; a++)
                for (long j = 0; j < l.Inner; j++, i++)
                {
                    long s = l.ScaleIndex(o, a, j);
                    int zp = zeroPoint == null ? 0 : TQ.Load(zeroPoint, s);
                    y[i] = TF.CreateTruncating((float)((long)TQ.Load(x, i) - zp) * float.CreateTruncating(scale[s]));
                }
    }

    /// <summary>Element <paramref name="i"/> of float8 (one byte each) or packed float4 E2M1 storage, decoded exactly.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float LoadFloat(byte* p, long i, ElementType type) =>
        (float)(type == ElementType.Float4E2M1 ? Float4.Load(p, i) : Float8.Decode(p[i], type));

    /// <summary>
    /// QuantizeLinear to a float type (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ, or float4 E2M1 packed):
    /// y = convert(x / scale + zero_point), rounding to nearest even; float8 saturates to +-max when
    /// <paramref name="saturate"/> (else infinity/NaN as in Cast), float4 always saturates.
    /// </summary>
    public static void QuantizeFloat<TF>(TF* x, TF* scale, byte* zeroPoint, byte* y, QuantLayout l, ElementType type, bool saturate)
        where TF : unmanaged, INumberBase<TF>
    {
        bool f4 = type == ElementType.Float4E2M1;
        long i = 0;
        for (long o = 0; o < l.Outer; o++)
            for (long a = 0; a < l.AxisDim; a++)
                for (long j = 0; j < l.Inner; j++, i++)
                {
                    long s = l.ScaleIndex(o, a, j);
                    float v = float.CreateTruncating(x[i]) / float.CreateTruncating(scale[s]);
                    if (zeroPoint != null) v += LoadFloat(zeroPoint, s, type);
                    if (f4) Float4.Store(y, i, Float4.Encode(v));
                    else y[i] = Float8.Encode(v, type, saturate);
                }
    }

    /// <summary>DequantizeLinear from a float type (float8, or float4 E2M1 packed): y = (x - zero_point) * scale, in TF.</summary>
    public static void DequantizeFloat<TF>(byte* x, TF* scale, byte* zeroPoint, TF* y, QuantLayout l, ElementType type)
        where TF : unmanaged, INumberBase<TF>
    {
        long i = 0;
        for (long o = 0; o < l.Outer; o++)
            for (long a = 0; a < l.AxisDim; a++)
                for (long j = 0; j < l.Inner; j++, i++)
                {
                    long s = l.ScaleIndex(o, a, j);
                    float zp = zeroPoint == null ? 0 : LoadFloat(zeroPoint, s, type);
                    y[i] = TF.CreateTruncating((LoadFloat(x, i, type) - zp) * float.CreateTruncating(scale[s]));
                }
    }

    /// <summary>
    /// DynamicQuantizeLinear: scale = (max(x, 0) - min(x, 0)) / 255, zero_point = saturate(round(-min / scale)),
    /// y = saturate(round(x / scale) + zero_point) as uint8.
    /// </summary>
    public static void DynamicUInt8(float* x, long n, byte* y, float* scale, byte* zeroPoint)
    {
        float lo = 0, hi = 0;
        for (long i = 0; i < n; i++)
        {
            lo = MathF.Min(lo, x[i]);
            hi = MathF.Max(hi, x[i]);
        }
        float s = (hi - lo) / 255f;
        float zpf = s == 0 ? 0 : MathF.Round(-lo / s, MidpointRounding.ToEven);
        byte zp = (byte)Math.Clamp(zpf, 0, 255);
        *scale = s;
        *zeroPoint = zp;
        for (long i = 0; i < n; i++)
        {
            float q = (s == 0 ? 0 : MathF.Round(x[i] / s, MidpointRounding.ToEven)) + zp;
            y[i] = (byte)Math.Clamp(q, 0, 255);
        }
    }
}

/// <summary>Integer matrix products: MatMulInteger and the core of QLinearMatMul.</summary>
public static unsafe class IntegerGemm
{
    /// <summary>
    /// y[i, j] = sum_p (a[i, p] - aZero[i or 0]) * (b[p, j] - bZero[j or 0]) in int32; a is [m, k], b is [k, n], row-major.
    /// aZeroPerRow/bZeroPerCol select per-row / per-column zero points (else one value, or none when null).
    /// </summary>
    public static void Run<TA, TB>(byte* a, byte* b, byte* aZero, bool aZeroPerRow, byte* bZero, bool bZeroPerCol, int* y, int m, int n, int k)
        where TA : IQuantType where TB : IQuantType
    {
        for (int i = 0; i < m; i++)
        {
            int za = aZero == null ? 0 : TA.Load(aZero, aZeroPerRow ? i : 0);
            for (int j = 0; j < n; j++)
            {
                int zb = bZero == null ? 0 : TB.Load(bZero, bZeroPerCol ? j : 0);
                int acc = 0;
                for (int p = 0; p < k; p++) acc += (TA.Load(a, (long)i * k + p) - za) * (TB.Load(b, (long)p * n + j) - zb);
                y[(long)i * n + j] = acc;
            }
        }
    }

    /// <summary>Requantizes int32 accumulators: y = saturate(round(acc * multiplier[col or 0]) + zero).</summary>
    public static void Requantize<TY>(int* acc, float* multiplier, bool perColumn, int zero, byte* y, int m, int n) where TY : IQuantType
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float v = MathF.Round(acc[(long)i * n + j] * multiplier[perColumn ? j : 0], MidpointRounding.ToEven) + zero;
                TY.Store(y, (long)i * n + j, v <= TY.Min ? TY.Min : v >= TY.Max ? TY.Max : (int)v);
            }
    }

    /// <summary>
    /// Integer 2-D convolution, NCHW: y[n, m, oy, ox] = sum (x - xZero) * (w - wZero[m or 0]) over the window, int32.
    /// Positions outside the input contribute 0 (they are the zero point after subtraction).
    /// </summary>
    public static void Conv2D<TX, TW>(byte* x, byte* w, byte* xZero, byte* wZero, bool wZeroPerChannel, int* y,
        int n, int c, int h, int wIn, int m, int kh, int kw, int oh, int ow, int strideH, int strideW, int padTop, int padLeft, int dilH, int dilW, int group)
        where TX : IQuantType where TW : IQuantType
    {
        int cg = c / group, mg = m / group;
        int zx = xZero == null ? 0 : TX.Load(xZero, 0);
        for (int b = 0; b < n; b++)
            for (int oc = 0; oc < m; oc++)
            {
                int g = oc / mg;
                int zw = wZero == null ? 0 : TW.Load(wZero, wZeroPerChannel ? oc : 0);
                for (int oy = 0; oy < oh; oy++)
                    for (int ox = 0; ox < ow; ox++)
                    {
                        int acc = 0;
                        for (int ic = 0; ic < cg; ic++)
                            for (int ky = 0; ky < kh; ky++)
                            {
                                int iy = oy * strideH - padTop + ky * dilH;
                                if ((uint)iy >= (uint)h) continue;
                                for (int kx = 0; kx < kw; kx++)
                                {
                                    int ix = ox * strideW - padLeft + kx * dilW;
                                    if ((uint)ix >= (uint)wIn) continue;
                                    long xi = (((long)b * c + g * cg + ic) * h + iy) * wIn + ix;
                                    long wi = (((long)oc * cg + ic) * kh + ky) * kw + kx;
                                    acc += (TX.Load(x, xi) - zx) * (TW.Load(w, wi) - zw);
                                }
                            }
                        y[(((long)b * m + oc) * oh + oy) * ow + ox] = acc;
                    }
            }
    }
}
