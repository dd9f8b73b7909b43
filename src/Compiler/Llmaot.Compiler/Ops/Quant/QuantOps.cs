using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Passes;
using Llmaot.Runtime;
using Int8Conv = Llmaot.Runtime.Kernels.Int8Conv;
using Int8Gemm = Llmaot.Runtime.Kernels.Int8Gemm;

namespace Llmaot.Ops;

/// <summary>The family of quantization ops: QuantizeLinear, DequantizeLinear, DynamicQuantizeLinear, MatMulInteger, QLinearMatMul, ConvInteger, QLinearConv.</summary>
public static class QuantOps
{
    public static IEnumerable<OpDef> All() =>
    [
        new QuantizeLinearOp(), new DequantizeLinearOp(), new DynamicQuantizeLinearOp(),
        new MatMulIntegerOp(), new QLinearMatMulOp(), new ConvIntegerOp(), new QLinearConvOp(),
    ];

    /// <summary>The runtime storage struct of a quantized integer type (Kernels/Quantization.cs).</summary>
    internal static string QType(Node n, ElementType t) => t switch
    {
        ElementType.Int8 => "QInt8", ElementType.UInt8 => "QUInt8", ElementType.Int16 => "QInt16", ElementType.UInt16 => "QUInt16",
        ElementType.Int32 => "QInt32", ElementType.Int4 => "QInt4", ElementType.UInt4 => "QUInt4", ElementType.Int2 => "QInt2", ElementType.UInt2 => "QUInt2",
        _ => throw new LlmaotException(Codes.UnsupportedType, n, $"{ElementTypes.Name(t)} is not a supported quantized integer type"
            + (IsFloatQ(t) ? $" (float8/float4 quantized values are supported by QuantizeLinear and DequantizeLinear only)" : "")),
    };

    /// <summary>Float quantized types of QuantizeLinear/DequantizeLinear: float8 E4M3FN, E4M3FNUZ, E5M2, E5M2FNUZ and float4 E2M1.</summary>
    internal static bool IsFloatQ(ElementType t) => t is ElementType.Float8E4M3FN or ElementType.Float8E4M3FNUZ
        or ElementType.Float8E5M2 or ElementType.Float8E5M2FNUZ or ElementType.Float4E2M1;

    /// <summary>The C# float type of a scale: float or Half.</summary>
    internal static string FType(Node n, ElementType t) => t switch
    {
        ElementType.Float => "float",
        ElementType.Float16 => "Half",
        _ => throw new LlmaotException(Codes.UnsupportedType, n, $"scales of type {ElementTypes.Name(t)} are not supported (float32 and float16 are)"),
    };

    /// <summary>A value's pointer as byte*, or null when the optional input is absent.</summary>
    internal static string BytesOrNull(EmitContext e, Value? v) => v == null ? "null" : e.Bytes(v);

    /// <summary>"((float)p[0])" for a scalar scale of type float or Half.</summary>
    internal static string Scalar(EmitContext e, Value v) => v.Elem == ElementType.Float ? $"{e.P(v)}[0]" : $"(float){e.P(v)}[0]";
}

/// <summary>
/// Shared layout rule of QuantizeLinear/DequantizeLinear (opsets 10, 13, 19, 21): scale and zero point are per tensor
/// (one element), per axis (1-D of x.shape[axis]), or blocked (same rank as x, dim[axis] = ceil(x.shape[axis] / block_size)).
/// </summary>
internal static class QuantLayoutRule
{
    public static string Layout(Node n, Shape x, Shape scale)
    {
        var xs = x.ToLongs();
        long block = n.Int("block_size", 0);
        bool perTensor = scale.Rank == 0 || block == 0 && scale.Rank == 1 && scale.Count == 1;
        if (perTensor)
            return $"new QuantLayout(Outer: 1, AxisDim: {x.Count}, Inner: 1, BlockSize: 0, PerTensor: true)";
        long axisAttr = n.Int("axis", 1);
        int axis = (int)(axisAttr < 0 ? axisAttr + xs.Length : axisAttr);
        if (axis < 0 || axis >= xs.Length) throw new LlmaotException(Codes.BadAttribute, n, $"axis {axisAttr} is out of range for rank {xs.Length}");
        long outer = xs.Take(axis).Aggregate(1L, (a, b) => a * b);
        long axisDim = xs[axis];
        long inner = xs.Skip(axis + 1).Aggregate(1L, (a, b) => a * b);
        if (block == 0 && (scale.Rank != 1 || scale[0].Value != axisDim))
            throw new LlmaotException(Codes.ShapeMismatch, n, $"per-axis scale {scale} must have {axisDim} elements (axis {axis} of {x})");
        if (block > 0)
        {
            var ss = scale.ToLongs();
            if (ss.Length != xs.Length || ss[axis] != (axisDim + block - 1) / block)
                throw new LlmaotException(Codes.ShapeMismatch, n, $"blocked scale {scale} does not fit {x} with block_size {block} on axis {axis}");
        }
        return $"new QuantLayout(Outer: {outer}, AxisDim: {axisDim}, Inner: {inner}, BlockSize: {block}, PerTensor: false)";
    }
}

/// <summary>
/// QuantizeLinear (opsets 10, 13, 19, 21, 23, 24, 25): integer targets y = saturate(round_half_even(x / y_scale) + y_zero_point);
/// float targets (float8 E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ, opset 19+; float4 E2M1, opset 23+) y = convert(x / y_scale + y_zero_point),
/// rounding to nearest even, float8 saturating per 'saturate' (default 1), float4 always. The output type is the zero
/// point's, else output_dtype, else uint8.
/// </summary>
public sealed class QuantizeLinearOp : OpDef
{
    public override string Op => "QuantizeLinear";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var t = n.In(2)?.Elem ?? (n.Attrs.TryGetValue("output_dtype", out var od) && od.I != 0 ? (ElementType)od.I : ElementType.UInt8);
        if (!QuantOps.IsFloatQ(t)) QuantOps.QType(n, t);
        QuantOps.FType(n, x.Elem);
        Set(n, 0, t, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = QuantOps.IsFloatQ(n.Outputs[0].Elem)
        ? "Quantization.QuantizeFloat"
        : $"Quantization.Quantize<{QuantOps.QType(n, n.Outputs[0].Elem)}>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var s = n.Inputs[1]!;
        var y = n.Outputs[0];
        if (s.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "x and y_scale must have the same type");
        if (QuantOps.IsFloatQ(y.Elem))
            e.W.Line($"Quantization.QuantizeFloat<{QuantOps.FType(n, x.Elem)}>({e.P(x)}, {e.P(s)}, {QuantOps.BytesOrNull(e, n.In(2))}, {e.Bytes(y)},");
        else
            e.W.Line($"Quantization.Quantize<{QuantOps.QType(n, y.Elem)}, {QuantOps.FType(n, x.Elem)}>({e.P(x)}, {e.P(s)}, {QuantOps.BytesOrNull(e, n.In(2))}, {e.Bytes(y)},");
        string layout = QuantLayoutRule.Layout(n, x.Shape, s.Shape);
        e.W.Line(QuantOps.IsFloatQ(y.Elem)
            ? $"    {layout}, ElementType.{y.Elem}, saturate: {Lit.B(n.Int("saturate", 1) != 0)});"
            : $"    {layout});");
    }
}

/// <summary>
/// DequantizeLinear (opsets 10, 13, 19, 21, 23, 24, 25): y = (x - x_zero_point) * x_scale, in the scale's type; x is an
/// integer type (int2..int32, packed sub-byte ones included), float8 (E4M3FN/E4M3FNUZ/E5M2/E5M2FNUZ) or float4 E2M1,
/// decoded exactly.
/// </summary>
public sealed class DequantizeLinearOp : OpDef
{
    public override string Op => "DequantizeLinear";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var s = Input(n, 1);
        if (!QuantOps.IsFloatQ(x.Elem)) QuantOps.QType(n, x.Elem);
        if (n.In(2) is { } z && z.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "x and x_zero_point must have the same type");
        QuantOps.FType(n, s.Elem);
        Set(n, 0, s.Elem, InShape(n, 0));
    }

    public override void Select(Node n) => n.Kernel = QuantOps.IsFloatQ(n.Inputs[0]!.Elem)
        ? "Quantization.DequantizeFloat"
        : $"Quantization.Dequantize<{QuantOps.QType(n, n.Inputs[0]!.Elem)}>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var s = n.Inputs[1]!;
        string layout = QuantLayoutRule.Layout(n, x.Shape, s.Shape);
        if (QuantOps.IsFloatQ(x.Elem))
        {
            e.W.Line($"Quantization.DequantizeFloat<{QuantOps.FType(n, s.Elem)}>({e.Bytes(x)}, {e.P(s)}, {QuantOps.BytesOrNull(e, n.In(2))}, {e.P(n.Outputs[0])},");
            e.W.Line($"    {layout}, ElementType.{x.Elem});");
            return;
        }
        e.W.Line($"Quantization.Dequantize<{QuantOps.QType(n, x.Elem)}, {QuantOps.FType(n, s.Elem)}>({e.Bytes(x)}, {e.P(s)}, {QuantOps.BytesOrNull(e, n.In(2))}, {e.P(n.Outputs[0])},");
        e.W.Line($"    {layout});");
    }
}

/// <summary>DynamicQuantizeLinear (opset 11): uint8 y, float scale and uint8 zero point computed from x's range (which always includes 0).</summary>
public sealed class DynamicQuantizeLinearOp : OpDef
{
    public override string Op => "DynamicQuantizeLinear";

    public override void Infer(Node n)
    {
        RequireFloat(n, Input(n, 0));
        Set(n, 0, ElementType.UInt8, InShape(n, 0));
        Set(n, 1, ElementType.Float, Shape.Scalar);
        Set(n, 2, ElementType.UInt8, Shape.Scalar);
    }

    public override void Select(Node n) => n.Kernel = "Quantization.DynamicUInt8";

    public override void Emit(Node n, EmitContext e) =>
        e.W.Line($"Quantization.DynamicUInt8({e.P(n.Inputs[0]!)}, {n.Inputs[0]!.Shape.Count}, {e.P(n.Outputs[0])}, {e.P(n.Outputs[1])}, {e.P(n.Outputs[2])});");
}

/// <summary>Batch plan shared by MatMulInteger and QLinearMatMul: numpy matmul broadcasting over leading dims.</summary>
internal sealed record IntMatMulPlan(int M, int N, int K, long[] AOff, long[] BOff)
{
    public static IntMatMulPlan Make(Node n, Shape a, Shape b)
    {
        var ad = a.ToLongs();
        var bd = b.ToLongs();
        if (ad.Length < 2 || bd.Length < 2) throw new LlmaotException(Codes.UnsupportedOp, n, "1-D operands are not supported for integer matmul yet");
        int M = (int)ad[^2], K = (int)ad[^1], N = (int)bd[^1];
        if (bd[^2] != K) throw new LlmaotException(Codes.ShapeMismatch, n, $"inner dims differ: {a} x {b}");
        long[] ab = ad[..^2], bb = bd[..^2];
        int r = Math.Max(ab.Length, bb.Length);
        var pa = Enumerable.Repeat(1L, r - ab.Length).Concat(ab).ToArray();
        var pb = Enumerable.Repeat(1L, r - bb.Length).Concat(bb).ToArray();
        var outB = pa.Zip(pb, Math.Max).ToArray();
        long count = outB.Aggregate(1L, (x, y) => x * y);
        var ao = new long[count];
        var bo = new long[count];
        for (long i = 0; i < count; i++)
        {
            ao[i] = ConstEval.BroadcastIndex(i, outB, pa) * M * K;
            bo[i] = ConstEval.BroadcastIndex(i, outB, pb) * K * N;
        }
        return new IntMatMulPlan(M, N, K, ao, bo);
    }

    /// <summary>Whether operands a and b (input indices) are both 8-bit, which the SIMD <see cref="Int8Gemm"/> runs.</summary>
    public static bool Int8(Node n, int ai, int bi) =>
        n.Inputs[ai]!.Elem is ElementType.Int8 or ElementType.UInt8 && IntWeightPacking.WeightType(n, bi) is ElementType.Int8 or ElementType.UInt8;

    /// <summary>
    /// Emits one batch of an 8-bit product on <see cref="Int8Gemm"/> into int32 <paramref name="y"/>: B packed at compile time,
    /// or packed here into <paramref name="packScratch"/> (bytes) when it is not constant.
    /// </summary>
    public static void EmitInt8(Node n, EmitContext e, int ai, int bi, IntMatMulPlan p, int batch, Value? za, bool aRow, Value? zb, bool bCol, string y, string packScratch)
    {
        var a = n.Inputs[ai]!;
        var b = n.Inputs[bi]!;
        bool aSigned = a.Elem == ElementType.Int8, bUnsigned = IntWeightPacking.WeightType(n, bi) == ElementType.UInt8;
        string packed = e.Bytes(b);
        if (!n.Facts.ContainsKey(IntWeightPacking.PackedFact))
        {
            e.W.Line($"Int8Gemm.Pack({e.Bytes(b)} + {p.BOff[batch]}, bUnsigned: {Lit.B(bUnsigned)}, transposed: false, {packScratch}, n: {p.N}, k: {p.K});");
            packed = packScratch;
        }
        e.W.Line($"Int8Gemm.Run({e.Bytes(a)} + {p.AOff[batch]}, lda: {p.K}, aSigned: {Lit.B(aSigned)}, {QuantOps.BytesOrNull(e, za)}, {Lit.B(aRow)}, {packed}, bUnsigned: {Lit.B(bUnsigned)}, {QuantOps.BytesOrNull(e, zb)}, {Lit.B(bCol)}, {y}, ldy: {p.N}, m: {p.M}, n: {p.N}, k: {p.K});");
    }

    public static Shape OutShape(Node n, Shape a, Shape b)
    {
        var batch = OpDefAccess.Broadcast(n, new Shape(a.Dims.Take(a.Rank - 2).ToArray()), new Shape(b.Dims.Take(b.Rank - 2).ToArray()));
        return new Shape(batch.Dims.Concat([a[a.Rank - 2], b[b.Rank - 1]]).ToArray());
    }
}

/// <summary>Access to OpDef's protected helpers for the plan record.</summary>
internal sealed class OpDefAccess : OpDef
{
    public override string Op => "";
    public override void Infer(Node n) { }
    public override void Emit(Node n, EmitContext e) { }
    public static new Shape Broadcast(Node n, Shape a, Shape b) => OpDef.Broadcast(n, a, b);
}

/// <summary>
/// MatMulInteger (opset 10): int32 y = (A - a_zero_point) · (B - b_zero_point); zero points scalar, per row of A, or per column of B.
/// 8-bit operands run on the SIMD <see cref="Runtime.Kernels.Int8Gemm"/> (constant B packed at compile time by
/// <see cref="Passes.IntWeightPacking"/>, other B packed per call into scratch); other types on the scalar reference.
/// </summary>
public sealed class MatMulIntegerOp : OpDef
{
    public override string Op => "MatMulInteger";

    public override void Infer(Node n)
    {
        QuantOps.QType(n, Input(n, 0).Elem);
        QuantOps.QType(n, IntWeightPacking.WeightType(n, 1));
        Set(n, 0, ElementType.Int32, IntMatMulPlan.OutShape(n, InShape(n, 0), IntWeightPacking.WeightShape(n, 1)));
    }

    public override void Select(Node n)
    {
        var p = IntMatMulPlan.Make(n, n.Inputs[0]!.Shape, IntWeightPacking.WeightShape(n, 1));
        bool int8 = IntMatMulPlan.Int8(n, 0, 1);
        n.ScratchBytes = int8 && !n.Facts.ContainsKey(IntWeightPacking.PackedFact) ? Int8Gemm.PackedBytes(p.N, p.K) : 0;
        n.Kernel = int8 ? (n.Facts.ContainsKey(IntWeightPacking.PackedFact) ? "Int8Gemm.Run[packed]" : "Int8Gemm.Pack+Run") : "IntegerGemm.Run";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[1]!;
        var p = IntMatMulPlan.Make(n, a.Shape, IntWeightPacking.WeightShape(n, 1));
        bool aRow = n.In(2) is { } za && za.Shape.Count > 1, bCol = n.In(3) is { } zb && zb.Shape.Count > 1;
        if (IntMatMulPlan.Int8(n, 0, 1))
        {
            for (int i = 0; i < p.AOff.Length; i++)
                IntMatMulPlan.EmitInt8(n, e, 0, 1, p, i, n.In(2), aRow, n.In(3), bCol, $"{e.P(n.Outputs[0])} + {(long)i * p.M * p.N}", EmitContext.Scratch(n, "byte"));
            return;
        }
        int ea = ElementTypes.BlockBytes(a.Elem), eb = ElementTypes.BlockBytes(b.Elem);
        for (int i = 0; i < p.AOff.Length; i++)
            e.W.Line($"IntegerGemm.Run<{QuantOps.QType(n, a.Elem)}, {QuantOps.QType(n, b.Elem)}>({e.Bytes(a)} + {p.AOff[i] * ea}, {e.Bytes(b)} + {p.BOff[i] * eb}, {QuantOps.BytesOrNull(e, n.In(2))}, {Lit.B(aRow)}, {QuantOps.BytesOrNull(e, n.In(3))}, {Lit.B(bCol)}, {e.P(n.Outputs[0])} + {(long)i * p.M * p.N}, m: {p.M}, n: {p.N}, k: {p.K});");
    }
}

/// <summary>
/// QLinearMatMul (opset 10, 21): y = saturate(round((a - a_zp)·(b - b_zp) · a_scale·b_scale / y_scale) + y_zp), per-tensor scales
/// (b_scale may be per column).
/// </summary>
public sealed class QLinearMatMulOp : OpDef
{
    public override string Op => "QLinearMatMul";

    public override void Infer(Node n)
    {
        QuantOps.QType(n, Input(n, 0).Elem);
        QuantOps.QType(n, IntWeightPacking.WeightType(n, 3));
        var yt = Input(n, 7).Elem;
        QuantOps.QType(n, yt);
        Set(n, 0, yt, IntMatMulPlan.OutShape(n, InShape(n, 0), IntWeightPacking.WeightShape(n, 3)));
    }

    public override void Select(Node n)
    {
        var p = IntMatMulPlan.Make(n, n.Inputs[0]!.Shape, IntWeightPacking.WeightShape(n, 3));
        bool int8 = IntMatMulPlan.Int8(n, 0, 3), packed = n.Facts.ContainsKey(IntWeightPacking.PackedFact);
        n.ScratchBytes = (long)p.M * p.N * 4 + p.N * 4 + (int8 && !packed ? Int8Gemm.PackedBytes(p.N, p.K) : 0);
        n.Kernel = (int8 ? packed ? "Int8Gemm.Run[packed]" : "Int8Gemm.Pack+Run" : "IntegerGemm.Run") + "+Requantize";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[3]!;
        var y = n.Outputs[0];
        var p = IntMatMulPlan.Make(n, a.Shape, IntWeightPacking.WeightShape(n, 3));
        bool bCol = n.Inputs[4]!.Shape.Count > 1;
        string acc = $"({EmitContext.Scratch(n, "int")})";
        string mult = $"((float*)({acc} + {(long)p.M * p.N}))";
        string sa = QuantOps.Scalar(e, n.Inputs[1]!), sy = QuantOps.Scalar(e, n.Inputs[6]!);
        var bs = n.Inputs[4]!;
        string bsi = bs.Elem == ElementType.Float ? $"{e.P(bs)}[j]" : $"(float){e.P(bs)}[j]";
        e.W.Line($"for (int j = 0; j < {(bCol ? p.N : 1)}; j++) {mult}[j] = {sa} * {bsi} / {sy};");
        int ea = ElementTypes.BlockBytes(a.Elem), eb = ElementTypes.BlockBytes(b.Elem), ey = ElementTypes.BlockBytes(y.Elem);
        string yzp = n.In(7) is { } z ? $"{QuantOps.QType(n, z.Elem)}.Load({e.Bytes(z)}, 0)" : "0";
        bool int8 = IntMatMulPlan.Int8(n, 0, 3);
        string pack = $"((byte*)({mult} + {p.N}))";
        for (int i = 0; i < p.AOff.Length; i++)
        {
            if (int8)
                IntMatMulPlan.EmitInt8(n, e, 0, 3, p, i, n.In(2), false, n.In(5), n.In(5) is { } zb8 && zb8.Shape.Count > 1, acc, pack);
            else
                e.W.Line($"IntegerGemm.Run<{QuantOps.QType(n, a.Elem)}, {QuantOps.QType(n, b.Elem)}>({e.Bytes(a)} + {p.AOff[i] * ea}, {e.Bytes(b)} + {p.BOff[i] * eb}, {QuantOps.BytesOrNull(e, n.In(2))}, false, {QuantOps.BytesOrNull(e, n.In(5))}, {Lit.B(n.In(5) is { } zb && zb.Shape.Count > 1)}, {acc}, m: {p.M}, n: {p.N}, k: {p.K});");
            e.W.Line($"IntegerGemm.Requantize<{QuantOps.QType(n, y.Elem)}>({acc}, {mult}, {Lit.B(bCol)}, {yzp}, {e.Bytes(y)} + {(long)i * p.M * p.N * ey}, m: {p.M}, n: {p.N});");
        }
    }
}

/// <summary>ConvInteger (opset 10): int32 convolution of (x - x_zero_point) and (w - w_zero_point), w zero point scalar or per output channel.</summary>
public sealed class ConvIntegerOp : OpDef
{
    public override string Op => "ConvInteger";

    internal static (ConvGeometry G, int[] X, int[] W) Geometry(Node n, int xIndex, int wIndex)
    {
        var xs = InShape(n, xIndex);
        var ws = IntWeightPacking.WeightShape(n, wIndex);
        if (xs.Rank != 4) throw Error(n, Codes.UnsupportedOp, $"only 2-D integer convolution is supported, input is {xs}");
        var ks = n.Ints("kernel_shape");
        int[] kernel = ks is { Length: > 0 } ? ks.Select(k => (int)k).ToArray() : [(int)ws[2].Value, (int)ws[3].Value];
        return (ConvGeometry.From(n, xs, kernel), xs.ToInts(), ws.ToInts());
    }

    public override void Infer(Node n)
    {
        QuantOps.QType(n, Input(n, 0).Elem);
        QuantOps.QType(n, IntWeightPacking.WeightType(n, 1));
        var (g, x, w) = Geometry(n, 0, 1);
        Set(n, 0, ElementType.Int32, new Shape([x[0], w[0], g.Out[0], g.Out[1]]));
    }

    public override void Select(Node n)
    {
        n.ScratchBytes = Int8Scratch(n, 0, 1);
        n.Kernel = n.Facts.ContainsKey(IntWeightPacking.PackedFact) ? "Int8Conv.Run[packed]" : "IntegerGemm.Conv2D";
    }

    /// <summary>Scratch bytes of the SIMD int8 convolution when the weights were packed (else 0: the scalar reference needs none).</summary>
    internal static long Int8Scratch(Node n, int xIndex, int wIndex)
    {
        if (!n.Facts.ContainsKey(IntWeightPacking.PackedFact)) return 0;
        var (g, _, ws) = Geometry(n, xIndex, wIndex);
        return Int8Conv.ScratchBytes(ws[0], ws[1], g.Kernel[0], g.Kernel[1], g.Out[0], g.Out[1], (int)n.Int("group", 1));
    }

    /// <summary>The convolution call writing int32 NCHW into <paramref name="y"/>; <paramref name="scratch"/> (bytes) serves the packed int8 path.</summary>
    internal static string Call(Node n, EmitContext e, Value x, Value w, Value? xz, Value? wz, string y, string scratch)
    {
        var (g, xs, ws) = Geometry(n, n.Inputs.IndexOf(x), n.Inputs.IndexOf(w));
        if (n.Facts.ContainsKey(IntWeightPacking.PackedFact))
            return $"Int8Conv.Run({e.Bytes(x)}, xSigned: {Lit.B(x.Elem == ElementType.Int8)}, {QuantOps.BytesOrNull(e, xz)}, {e.Bytes(w)}, wUnsigned: {Lit.B(IntWeightPacking.WeightType(n, n.Inputs.IndexOf(w)) == ElementType.UInt8)}, {QuantOps.BytesOrNull(e, wz)}, {Lit.B(wz != null && wz.Shape.Count > 1)}, {y}, {scratch},\n" +
                $"    n: {xs[0]}, c: {xs[1]}, h: {xs[2]}, wIn: {xs[3]}, m: {ws[0]}, kh: {g.Kernel[0]}, kw: {g.Kernel[1]}, oh: {g.Out[0]}, ow: {g.Out[1]},\n" +
                $"    strideH: {g.Strides[0]}, strideW: {g.Strides[1]}, padTop: {g.PadsBegin[0]}, padLeft: {g.PadsBegin[1]}, dilH: {g.Dilations[0]}, dilW: {g.Dilations[1]}, group: {n.Int("group", 1)});";
        return $"IntegerGemm.Conv2D<{QuantOps.QType(n, x.Elem)}, {QuantOps.QType(n, w.Elem)}>({e.Bytes(x)}, {e.Bytes(w)}, {QuantOps.BytesOrNull(e, xz)}, {QuantOps.BytesOrNull(e, wz)}, {Lit.B(wz != null && wz.Shape.Count > 1)}, {y},\n" +
            $"    n: {xs[0]}, c: {xs[1]}, h: {xs[2]}, wIn: {xs[3]}, m: {ws[0]}, kh: {g.Kernel[0]}, kw: {g.Kernel[1]}, oh: {g.Out[0]}, ow: {g.Out[1]},\n" +
            $"    strideH: {g.Strides[0]}, strideW: {g.Strides[1]}, padTop: {g.PadsBegin[0]}, padLeft: {g.PadsBegin[1]}, dilH: {g.Dilations[0]}, dilW: {g.Dilations[1]}, group: {n.Int("group", 1)});";
    }

    public override void Emit(Node n, EmitContext e)
    {
        foreach (var line in Call(n, e, n.Inputs[0]!, n.Inputs[1]!, n.In(2), n.In(3), e.P(n.Outputs[0]), EmitContext.Scratch(n, "byte")).Split('\n')) e.W.Line(line);
    }
}

/// <summary>QLinearConv (opset 10): integer convolution, plus int32 bias, requantized with x_scale·w_scale / y_scale (w_scale per tensor or per channel).</summary>
public sealed class QLinearConvOp : OpDef
{
    public override string Op => "QLinearConv";

    public override void Infer(Node n)
    {
        QuantOps.QType(n, Input(n, 0).Elem);
        QuantOps.QType(n, IntWeightPacking.WeightType(n, 3));
        var yt = Input(n, 7).Elem;
        var (g, x, w) = ConvIntegerOp.Geometry(n, 0, 3);
        Set(n, 0, yt, new Shape([x[0], w[0], g.Out[0], g.Out[1]]));
    }

    public override void Select(Node n)
    {
        var y = n.Outputs[0].Shape.ToLongs();
        n.ScratchBytes = y.Aggregate(1L, (a, b) => a * b) * 4 + y[1] * 4 + ConvIntegerOp.Int8Scratch(n, 0, 3);
        n.Kernel = (n.Facts.ContainsKey(IntWeightPacking.PackedFact) ? "Int8Conv.Run[packed]" : "IntegerGemm.Conv2D") + "+Requantize";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        var ys = y.Shape.ToLongs();
        long spatial = ys[2] * ys[3];
        string acc = $"({EmitContext.Scratch(n, "int")})";
        string mult = $"((float*)({acc} + {ys.Aggregate(1L, (a, b) => a * b)}))";
        foreach (var line in ConvIntegerOp.Call(n, e, n.Inputs[0]!, n.Inputs[3]!, n.In(2), n.In(5), acc, $"((byte*)({mult} + {ys[1]}))").Split('\n')) e.W.Line(line);
        var ws = n.Inputs[4]!;
        bool perChannel = ws.Shape.Count > 1;
        string wsi = ws.Elem == ElementType.Float ? $"{e.P(ws)}[{(perChannel ? "c" : "0")}]" : $"(float){e.P(ws)}[{(perChannel ? "c" : "0")}]";
        e.W.Line($"for (int c = 0; c < {ys[1]}; c++) {mult}[c] = {QuantOps.Scalar(e, n.Inputs[1]!)} * {wsi} / {QuantOps.Scalar(e, n.Inputs[6]!)};");
        if (n.In(8) is { } bias)
            e.W.Line($"for (long i = 0; i < {ys.Aggregate(1L, (a, b) => a * b)}; i++) {acc}[i] += {e.P(bias)}[i / {spatial} % {ys[1]}];");
        string yzp = n.In(7) is { } z ? $"{QuantOps.QType(n, z.Elem)}.Load({e.Bytes(z)}, 0)" : "0";
        // Requantize per channel: view [n*m, spatial] rows with one multiplier per channel row.
        e.W.Line($"for (int r = 0; r < {ys[0] * ys[1]}; r++)");
        e.W.Line($"    IntegerGemm.Requantize<{QuantOps.QType(n, y.Elem)}>({acc} + (long)r * {spatial}, {mult} + r % {ys[1]}, false, {yzp}, {e.Bytes(y)} + (long)r * {spatial * ElementTypes.BlockBytes(y.Elem)}, m: 1, n: {spatial});");
    }
}
