using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Passes;
using Llmaot.Runtime;
using Int8Gemm = Llmaot.Runtime.Kernels.Int8Gemm;

namespace Llmaot.Ops;

/// <summary>
/// Shared rules of the com.microsoft integer matmuls (DynamicQuantizeMatMul, MatMulIntegerToFloat, QGemm): A's rows
/// [.., K] times a 2-D B on <see cref="Int8Gemm"/> (B packed at compile time when constant, by <see cref="IntWeightPacking"/>).
/// </summary>
internal static class IntContrib
{
    public static bool Is8(ElementType t) => t is ElementType.Int8 or ElementType.UInt8;

    /// <summary>B's logical [K, N] (transB: stored [N, K]).</summary>
    public static (int K, int N) BDims(Node n, int bi, bool transB)
    {
        var s = IntWeightPacking.WeightShape(n, bi);
        if (s.Rank != 2 || !s.IsStatic) throw new LlmaotException(Codes.UnsupportedOp, n, $"B {s} must be a 2-D tensor of known shape");
        var d = s.ToInts();
        return transB ? (d[1], d[0]) : (d[0], d[1]);
    }

    public static void Require8(Node n, ElementType t, string what)
    {
        if (!Is8(t)) throw new LlmaotException(Codes.UnsupportedType, n, $"{what} must be int8 or uint8, not {ElementTypes.Name(t)}");
    }

    /// <summary>The output shape of A [.., K] times B (input 1) [K, N]: A's shape with its last dim N; checks K.</summary>
    public static Shape RowsOut(Node n)
    {
        var (k, nn) = BDims(n, 1, false);
        var s = n.Inputs[0]!.Shape;
        if (s.Rank < 1 || s[s.Rank - 1].IsKnown && s[s.Rank - 1].Value != k) throw new LlmaotException(Codes.ShapeMismatch, n, $"A {s} must end in K = {k}");
        return new Shape(s.Dims.Take(s.Rank - 1).Append(Dim.Of(nn)).ToArray());
    }

    /// <summary>A's rows (all leading dims), K and N for A [.., K] times B (input 1) [K, N].</summary>
    public static (int Rows, int K, int N) RowDims(Node n)
    {
        var (k, nn) = BDims(n, 1, false);
        return ((int)(n.Inputs[0]!.Shape.Count / k), k, nn);
    }

    /// <summary>Bytes to pack a non-constant B per call (0 when packed at compile time).</summary>
    public static long PackScratch(Node n, int k, int nn) => n.Facts.ContainsKey(IntWeightPacking.PackedFact) ? 0 : Int8Gemm.PackedBytes(nn, k);

    /// <summary>Emits y (int32 [rows, N]) = (a - za) · (B - zb) with a an 8-bit [rows, K] pointer expression.</summary>
    public static void EmitProduct(Node n, EmitContext e, string a, bool aSigned, string aZero, int bi, bool transB, Value? zb, string y, string packScratch, int rows, int k, int nn)
    {
        var b = n.Inputs[bi]!;
        bool bUnsigned = IntWeightPacking.WeightType(n, bi) == ElementType.UInt8;
        string packed = e.Bytes(b);
        if (!n.Facts.ContainsKey(IntWeightPacking.PackedFact))
        {
            e.W.Line($"Int8Gemm.Pack({e.Bytes(b)}, bUnsigned: {Lit.B(bUnsigned)}, transposed: {Lit.B(transB)}, {packScratch}, n: {nn}, k: {k});");
            packed = packScratch;
        }
        bool perCol = zb != null && zb.Shape.Count > 1;
        e.W.Line($"Int8Gemm.Run({a}, lda: {k}, aSigned: {Lit.B(aSigned)}, {aZero}, false, {packed}, bUnsigned: {Lit.B(bUnsigned)}, {QuantOps.BytesOrNull(e, zb)}, {Lit.B(perCol)}, {y}, ldy: {nn}, m: {rows}, n: {nn}, k: {k});");
    }

    /// <summary>A scale that must be one value (per tensor).</summary>
    public static void RequireScalar(Node n, Value? v, string what)
    {
        if (v != null && v.Shape.Count != 1) throw new LlmaotException(Codes.UnsupportedOp, n, $"{what} {v.Shape} must be a scalar (per-tensor)");
    }

    /// <summary>A per-column operand (b_scale, b_zero_point, bias): one value or N.</summary>
    public static void RequireColumns(Node n, Value? v, int nn, string what)
    {
        if (v != null && v.Shape.Count != 1 && (v.Shape.Count != nn || v.Shape.Rank != 1))
            throw new LlmaotException(Codes.ShapeMismatch, n, $"{what} {v.Shape} must have 1 or {nn} elements");
    }

    /// <summary>"scalePtr" for a float scale value, failing for other types.</summary>
    public static void RequireFloatScale(Node n, Value v, string what)
    {
        if (v.Elem != ElementType.Float) throw new LlmaotException(Codes.UnsupportedType, n, $"{what} must be float32");
    }
}

/// <summary>
/// com.microsoft DynamicQuantizeMatMul(A, B, b_scale, b_zero_point?, bias?): A (float) is quantized to uint8 per tensor as
/// DynamicQuantizeLinear does, multiplied by the 8-bit B in int32, and y = acc · a_scale · b_scale[j] (+ bias[j]).
/// b_scale / b_zero_point are per tensor or per column of B.
/// </summary>
public sealed class DynamicQuantizeMatMulOp : OpDef
{
    public override string Domain => ContribOps.Domain;
    public override string Op => "DynamicQuantizeMatMul";

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        if (a.Elem != ElementType.Float) throw Error(n, Codes.UnsupportedType, "A must be float32");
        IntContrib.Require8(n, IntWeightPacking.WeightType(n, 1), "B");
        IntContrib.RequireFloatScale(n, Input(n, 2), "b_scale");
        Set(n, 0, ElementType.Float, IntContrib.RowsOut(n));
    }

    private static (int Rows, int K, int N) Dims(Node n) => IntContrib.RowDims(n);

    public override void Select(Node n)
    {
        var (rows, k, nn) = Dims(n);
        IntContrib.RequireColumns(n, n.Inputs[2], nn, "b_scale");
        IntContrib.RequireColumns(n, n.In(3), nn, "b_zero_point");
        IntContrib.RequireColumns(n, n.In(4), nn, "bias");
        long aq = ((long)rows * k + 63) / 64 * 64;
        n.ScratchBytes = aq + (long)rows * nn * 4 + 64 + IntContrib.PackScratch(n, k, nn);
        n.Kernel = "DynamicUInt8+Int8Gemm.Run+ToFloat";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (rows, k, nn) = Dims(n);
        long aq = ((long)rows * k + 63) / 64 * 64;
        string s = EmitContext.Scratch(n, "byte");
        string acc = $"((int*)({s} + {aq}))";
        string qp = $"({s} + {aq + (long)rows * nn * 4})";
        string pack = $"({s} + {aq + (long)rows * nn * 4 + 64})";
        var bs = n.Inputs[2]!;
        e.W.Line($"Quantization.DynamicUInt8({e.P(n.Inputs[0]!)}, {(long)rows * k}, {s}, (float*){qp}, {qp} + 4);");
        IntContrib.EmitProduct(n, e, s, false, $"{qp} + 4", 1, false, n.In(3), acc, pack, rows, k, nn);
        e.W.Line($"IntEpilogue.ToFloat({acc}, *(float*){qp}, {e.P(bs)}, {Lit.B(bs.Shape.Count > 1)}, {(n.In(4) is { } bias ? BiasPtr(n, e, bias, nn) : "null")}, {e.P(n.Outputs[0])}, m: {rows}, n: {nn});");
    }

    /// <summary>The bias pointer; a one-element bias is not supported by the vector epilogue (it reads N values).</summary>
    internal static string BiasPtr(Node n, EmitContext e, Value bias, int nn)
    {
        if (bias.Shape.Count != nn) throw Error(n, Codes.UnsupportedOp, $"bias {bias.Shape} must have N = {nn} elements");
        if (bias.Elem != ElementType.Float) throw Error(n, Codes.UnsupportedType, "bias must be float32");
        return e.P(bias);
    }
}

/// <summary>
/// com.microsoft MatMulIntegerToFloat(A, B, a_scale, b_scale, a_zero_point?, b_zero_point?, bias?): y = (A - a_zp)·(B - b_zp) in
/// int32, then · a_scale · b_scale[j] (+ bias[j]) as float; A and B int8 or uint8, a_scale/a_zero_point per tensor,
/// b_scale/b_zero_point per tensor or per column.
/// </summary>
public sealed class MatMulIntegerToFloatOp : OpDef
{
    public override string Domain => ContribOps.Domain;
    public override string Op => "MatMulIntegerToFloat";

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        IntContrib.Require8(n, a.Elem, "A");
        IntContrib.Require8(n, IntWeightPacking.WeightType(n, 1), "B");
        IntContrib.RequireFloatScale(n, Input(n, 2), "a_scale");
        IntContrib.RequireFloatScale(n, Input(n, 3), "b_scale");
        Set(n, 0, ElementType.Float, IntContrib.RowsOut(n));
    }

    private static (int Rows, int K, int N) Dims(Node n) => IntContrib.RowDims(n);

    public override void Select(Node n)
    {
        var (rows, k, nn) = Dims(n);
        IntContrib.RequireScalar(n, n.Inputs[2], "a_scale");
        IntContrib.RequireScalar(n, n.In(4), "a_zero_point");
        IntContrib.RequireColumns(n, n.Inputs[3], nn, "b_scale");
        IntContrib.RequireColumns(n, n.In(5), nn, "b_zero_point");
        n.ScratchBytes = (long)rows * nn * 4 + IntContrib.PackScratch(n, k, nn);
        n.Kernel = "Int8Gemm.Run+ToFloat";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (rows, k, nn) = Dims(n);
        string acc = EmitContext.Scratch(n, "int");
        string pack = $"((byte*){acc} + {(long)rows * nn * 4})";
        var a = n.Inputs[0]!;
        var bs = n.Inputs[3]!;
        IntContrib.EmitProduct(n, e, e.Bytes(a), a.Elem == ElementType.Int8, QuantOps.BytesOrNull(e, n.In(4)), 1, false, n.In(5), acc, pack, rows, k, nn);
        e.W.Line($"IntEpilogue.ToFloat({acc}, {e.P(n.Inputs[2]!)}[0], {e.P(bs)}, {Lit.B(bs.Shape.Count > 1)}, {(n.In(6) is { } bias ? DynamicQuantizeMatMulOp.BiasPtr(n, e, bias, nn) : "null")}, {e.P(n.Outputs[0])}, m: {rows}, n: {nn});");
    }
}

/// <summary>
/// com.microsoft QGemm(A, a_scale, a_zero_point, B, b_scale, b_zero_point, C?, y_scale?, y_zero_point?; alpha, transA, transB):
/// acc = (A - a_zp)·(B - b_zp) (+ C, int32 broadcast to [M, N]) in int32; with y_scale the output is
/// saturate(round(acc · alpha·a_scale·b_scale[j] / y_scale) + y_zp) in y_zero_point's type, else float acc · alpha·a_scale·b_scale[j].
/// </summary>
public sealed class QGemmOp : OpDef
{
    public override string Domain => ContribOps.Domain;
    public override string Op => "QGemm";

    private static (int M, int K, int N, bool TransA, bool TransB) Dims(Node n)
    {
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        var a = InShape(n, 0);
        if (a.Rank != 2 || !a.IsStatic) throw Error(n, Codes.UnsupportedOp, $"A {a} must be a 2-D tensor of known shape");
        var ad = a.ToInts();
        int m = ta ? ad[1] : ad[0], k = ta ? ad[0] : ad[1];
        var (kb, nn) = IntContrib.BDims(n, 3, tb);
        if (kb != k) throw Error(n, Codes.ShapeMismatch, $"inner dims differ: A {a} (transA={ta}) and B (transB={tb}) give K {k} vs {kb}");
        return (m, k, nn, ta, tb);
    }

    public override void Infer(Node n)
    {
        IntContrib.Require8(n, Input(n, 0).Elem, "A");
        IntContrib.Require8(n, IntWeightPacking.WeightType(n, 3), "B");
        var (m, _, nn, _, _) = Dims(n);
        var yt = ElementType.Float;
        if (n.In(7) != null)
        {
            yt = n.In(8)?.Elem ?? ElementType.UInt8;
            IntContrib.Require8(n, yt, "y_zero_point");
        }
        Set(n, 0, yt, new Shape([m, nn]));
    }

    public override void Select(Node n)
    {
        var (m, k, nn, ta, _) = Dims(n);
        IntContrib.RequireScalar(n, n.Inputs[1], "a_scale");
        IntContrib.RequireScalar(n, n.In(2), "a_zero_point");
        IntContrib.RequireColumns(n, n.Inputs[4], nn, "b_scale");
        IntContrib.RequireColumns(n, n.In(5), nn, "b_zero_point");
        IntContrib.RequireScalar(n, n.In(7), "y_scale");
        if (n.In(6) is { } c)
        {
            if (c.Elem != ElementType.Int32) throw Error(n, Codes.UnsupportedType, "C must be int32");
            CDims(n, c, m, nn);
        }
        n.ScratchBytes = (long)m * nn * 4 + (long)nn * 4 + (ta ? ((long)m * k + 63) / 64 * 64 : 0) + IntContrib.PackScratch(n, k, nn);
        n.Kernel = "Int8Gemm.Run+" + (n.In(7) != null ? "Requantize" : "ToFloat");
    }

    /// <summary>C's [rows, cols] with each 1 or the full size (unidirectional broadcast to [M, N]).</summary>
    private static (int Rows, int Cols) CDims(Node n, Value c, int m, int nn)
    {
        var d = c.Shape.ToInts();
        int rows = d.Length == 2 ? d[0] : 1, cols = d.Length >= 1 ? d[^1] : 1;
        if (d.Length > 2 || rows != 1 && rows != m || cols != 1 && cols != nn) throw Error(n, Codes.ShapeMismatch, $"C {c.Shape} does not broadcast to [{m}, {nn}]");
        return (rows, cols);
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (m, k, nn, ta, tb) = Dims(n);
        string acc = EmitContext.Scratch(n, "int");
        string mult = $"((float*)({acc} + {(long)m * nn}))";
        string at = $"((byte*)({mult} + {nn}))";
        long atBytes = ta ? ((long)m * k + 63) / 64 * 64 : 0;
        string pack = $"({at} + {atBytes})";
        var a = n.Inputs[0]!;
        string aPtr = e.Bytes(a);
        if (ta)
        {
            e.W.Line($"IntEpilogue.Transpose8({e.Bytes(a)}, {at}, rows: {k}, cols: {m});");
            aPtr = at;
        }
        IntContrib.EmitProduct(n, e, aPtr, a.Elem == ElementType.Int8, QuantOps.BytesOrNull(e, n.In(2)), 3, tb, n.In(5), acc, pack, m, k, nn);
        if (n.In(6) is { } c)
        {
            var (cr, cc) = CDims(n, c, m, nn);
            e.W.Line($"IntEpilogue.AddBias({acc}, {e.P(c)}, cRows: {cr}, cCols: {cc}, m: {m}, n: {nn});");
        }
        var bs = n.Inputs[4]!;
        bool perCol = bs.Shape.Count > 1;
        string alpha = Lit.F(n.Float("alpha", 1f));
        var y = n.Outputs[0];
        if (n.In(7) is { } ys)
        {
            e.W.Line($"for (int j = 0; j < {(perCol ? nn : 1)}; j++) {mult}[j] = {alpha} * {e.P(n.Inputs[1]!)}[0] * {e.P(bs)}[j] / {e.P(ys)}[0];");
            string yzp = n.In(8) is { } z ? $"{QuantOps.QType(n, z.Elem)}.Load({e.Bytes(z)}, 0)" : "0";
            e.W.Line($"IntegerGemm.Requantize<{QuantOps.QType(n, y.Elem)}>({acc}, {mult}, {Lit.B(perCol)}, {yzp}, {e.Bytes(y)}, m: {m}, n: {nn});");
        }
        else
            e.W.Line($"IntEpilogue.ToFloat({acc}, {alpha} * {e.P(n.Inputs[1]!)}[0], {e.P(bs)}, {Lit.B(perCol)}, null, {e.P(y)}, m: {m}, n: {nn});");
    }
}

/// <summary>
/// com.microsoft QLinearAdd / QLinearMul(A, A_scale, A_zero_point?, B, B_scale, B_zero_point?, C_scale, C_zero_point?): the
/// dequantized sum / product requantized to C's scale and zero point, with numpy broadcasting; 8-bit A, B and C of one type,
/// per-tensor scales and zero points.
/// </summary>
public sealed class QLinearBinaryOp(string op, bool mul) : OpDef
{
    public override string Domain => ContribOps.Domain;
    public override string Op => op;

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        IntContrib.Require8(n, a.Elem, "A");
        if (Input(n, 3).Elem != a.Elem) throw Error(n, Codes.UnsupportedType, "A and B must have the same type");
        Set(n, 0, a.Elem, Broadcast(n, InShape(n, 0), InShape(n, 3)));
    }

    public override void Select(Node n)
    {
        foreach (int i in new[] { 1, 2, 4, 5, 6, 7 }) IntContrib.RequireScalar(n, n.In(i), "scales and zero points");
        n.Kernel = $"QLinearBinary.Run[{(mul ? "mul" : "add")}]";
    }

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[3]!;
        var y = n.Outputs[0];
        string q = QuantOps.QType(n, a.Elem);
        string Zero(Value? z) => z == null ? "0" : $"{q}.Load({e.Bytes(z)}, 0)";
        var (shape, s) = Ew.Collapse(y.Shape.ToLongs(), a.Shape.ToLongs(), b.Shape.ToLongs());
        e.W.Line($"QLinearBinary.Run<{q}>(mul: {Lit.B(mul)}, {e.Bytes(a)}, {e.P(n.Inputs[1]!)}[0], {Zero(n.In(2))}, {e.Bytes(b)}, {e.P(n.Inputs[4]!)}[0], {Zero(n.In(5))}, {e.P(n.Inputs[6]!)}[0], {Zero(n.In(7))}, {e.Bytes(y)},");
        e.W.Line($"    {EmitContext.Ints(shape)}, {EmitContext.Ints(s[0])}, {EmitContext.Ints(s[1])});");
    }
}
