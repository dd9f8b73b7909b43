using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Epilogues of the integer products: int32 accumulators to float, and int32 bias addition.</summary>
public static unsafe class IntEpilogue
{
    /// <summary>
    /// y[i, j] = acc[i, j] · scale · colScale[j or 0] (+ bias[j] when bias is not null), float; the MatMulIntegerToFloat /
    /// DynamicQuantizeMatMul / QGemm float output.
    /// </summary>
    public static void ToFloat(int* acc, float scale, float* colScale, bool perColumn, float* bias, float* y, int m, int n)
    {
        for (int i = 0; i < m; i++)
        {
            int* a = acc + (long)i * n;
            float* yr = y + (long)i * n;
            int j = 0;
            if (Vector256.IsHardwareAccelerated)
            {
                var s = Vector256.Create(scale);
                var cs = Vector256.Create(colScale[0]);
                for (; j + 8 <= n; j += 8)
                {
                    var v = Vector256.ConvertToSingle(Vector256.Load(a + j)) * s * (perColumn ? Vector256.Load(colScale + j) : cs);
                    if (bias != null) v += Vector256.Load(bias + j);
                    v.Store(yr + j);
                }
            }
            for (; j < n; j++)
            {
                float v = a[j] * scale * colScale[perColumn ? j : 0];
                yr[j] = bias != null ? v + bias[j] : v;
            }
        }
    }

    /// <summary>acc[i, j] += c[i % cRows, j % cCols] for an int32 bias broadcast from [cRows, cCols] (each 1 or the full size).</summary>
    public static void AddBias(int* acc, int* c, int cRows, int cCols, int m, int n)
    {
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++) acc[(long)i * n + j] += c[(long)(i % cRows) * cCols + j % cCols];
    }

    /// <summary>Transposes a [rows, cols] byte matrix into dst [cols, rows].</summary>
    public static void Transpose8(byte* src, byte* dst, int rows, int cols)
    {
        for (int i = 0; i < rows; i++)
            for (int j = 0; j < cols; j++) dst[(long)j * rows + i] = src[(long)i * cols + j];
    }
}

/// <summary>
/// com.microsoft QLinearAdd and QLinearMul on 8-bit tensors with numpy broadcasting (scalar reference):
/// Add: c = saturate(round_half_even((sa·(a - za) + sb·(b - zb)) / sc) + zc); Mul: c = saturate(round_half_even(sa·(a - za) · sb·(b - zb) / sc) + zc).
/// </summary>
public static unsafe class QLinearBinary
{
    /// <summary>Element-wise over the contiguous output <paramref name="shape"/>; a and b are read with element strides (0 where broadcast). Rank at most 8.</summary>
    public static void Run<TQ>(bool mul, byte* a, float sa, int za, byte* b, float sb, int zb, float sc, int zc, byte* y,
        ReadOnlySpan<int> shape, ReadOnlySpan<int> aStrides, ReadOnlySpan<int> bStrides) where TQ : IQuantType
    {
        int rank = shape.Length;
        if (rank == 0)
        {
            TQ.Store(y, 0, One(mul, TQ.Load(a, 0), sa, za, TQ.Load(b, 0), sb, zb, sc, zc, TQ.Min, TQ.Max));
            return;
        }
        int inner = shape[rank - 1];
        long strideA = aStrides[rank - 1], strideB = bStrides[rank - 1];
        var rows = new BroadcastRows(shape, aStrides, bStrides);
        for (long o = 0; o < rows.Count; o++, rows.Next())
            for (int i = 0; i < inner; i++)
                TQ.Store(y, o * inner + i, One(mul, TQ.Load(a, rows.A + i * strideA), sa, za, TQ.Load(b, rows.B + i * strideB), sb, zb, sc, zc, TQ.Min, TQ.Max));
    }

    private static int One(bool mul, int a, float sa, int za, int b, float sb, int zb, float sc, int zc, int min, int max)
    {
        float va = sa * (a - za), vb = sb * (b - zb);
        float v = MathF.Round((mul ? va * vb : va + vb) / sc, MidpointRounding.ToEven) + zc;
        return v <= min ? min : v >= max ? max : (int)v;
    }
}
