using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Compile-time evaluation helpers for constant folding. Values travel as double (floating types) or long
/// (integer types); folding is limited to small tensors (shape arithmetic and small parameter math).
/// </summary>
public static class ConstEval
{
    /// <summary>Tensors larger than this many elements are not folded.</summary>
    public const long MaxFoldElements = 1 << 16;

    public static bool IsFloat(ElementType t) => t is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16;

    public static bool IsInt(ElementType t) => t is ElementType.Int8 or ElementType.Int16 or ElementType.Int32 or ElementType.Int64
        or ElementType.UInt8 or ElementType.UInt16 or ElementType.UInt32 or ElementType.UInt64 or ElementType.Bool;

    public static bool Foldable(Value v) => v.IsConst && v.Type.Shape is { IsStatic: true } s && s.Count <= MaxFoldElements && (IsFloat(v.Elem) || IsInt(v.Elem));

    public static TensorData FromDoubles(ElementType t, double[] v) => t switch
    {
        ElementType.Float => TensorData.Of<float>(Array.ConvertAll(v, x => (float)x)),
        ElementType.Double => TensorData.Of<double>(v),
        ElementType.Float16 => TensorData.Of<Half>(Array.ConvertAll(v, x => (Half)x)),
        ElementType.BFloat16 => TensorData.Of<BFloat16>(Array.ConvertAll(v, x => (BFloat16)(float)x)),
        _ => FromLongs(t, Array.ConvertAll(v, x => (long)x)),
    };

    public static TensorData FromLongs(ElementType t, long[] v) => t switch
    {
        ElementType.Int64 => TensorData.Of<long>(v),
        ElementType.Int32 => TensorData.Of<int>(Array.ConvertAll(v, x => (int)x)),
        ElementType.Int16 => TensorData.Of<short>(Array.ConvertAll(v, x => (short)x)),
        ElementType.Int8 => TensorData.Of<sbyte>(Array.ConvertAll(v, x => (sbyte)x)),
        ElementType.UInt8 => TensorData.Of<byte>(Array.ConvertAll(v, x => (byte)x)),
        ElementType.Bool => TensorData.Of<byte>(Array.ConvertAll(v, x => (byte)(x != 0 ? 1 : 0))),
        ElementType.UInt16 => TensorData.Of<ushort>(Array.ConvertAll(v, x => (ushort)x)),
        ElementType.UInt32 => TensorData.Of<uint>(Array.ConvertAll(v, x => (uint)x)),
        ElementType.UInt64 => TensorData.Of<ulong>(Array.ConvertAll(v, x => (ulong)x)),
        _ => FromDoubles(t, Array.ConvertAll(v, x => (double)x)),
    };

    /// <summary>Index of the element of a broadcast input for a flat output index.</summary>
    public static long BroadcastIndex(long flat, long[] outShape, long[] inShape)
    {
        long idx = 0, stride = 1, rem = flat;
        int off = outShape.Length - inShape.Length;
        for (int d = outShape.Length - 1; d >= 0; d--)
        {
            long i = rem % outShape[d];
            rem /= outShape[d];
            int di = d - off;
            if (di >= 0)
            {
                if (inShape[di] != 1) idx += i * stride;
                stride *= inShape[di];
            }
        }
        return idx;
    }
}
