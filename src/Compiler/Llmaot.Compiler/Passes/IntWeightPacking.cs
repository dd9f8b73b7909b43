using System.Globalization;
using Llmaot.Ir;
using Llmaot.Ops;
using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Passes;

/// <summary>
/// Packs the constant 8-bit weights of MatMulInteger, QLinearMatMul, ConvInteger and QLinearConv (including those QDQ
/// fusion produced), and of the com.microsoft DynamicQuantizeMatMul, MatMulIntegerToFloat and QGemm, once at compile time into the <see cref="Int8Gemm"/> panel layout, so the SIMD int8 kernels read them
/// directly. The weight input is replaced by a 1-D uint8 constant; the facts <see cref="PackedFact"/> (the original
/// element type, "Int8" or "UInt8") and <see cref="ShapeFact"/> (its shape) record it for shape rules and emission.
/// Both operands must be int8 or uint8, matmul weights 2-D, convolutions 2-D (any group count).
/// </summary>
public static class IntWeightPacking
{
    public const string PackedFact = "int8PackedWeights";
    public const string ShapeFact = "int8WeightShape";

    /// <summary>Index of the weight input of the integer op, or -1 for other ops.</summary>
    public static int WeightIndex(Node n) => n.Domain switch
    {
        "" => n.Op switch
        {
            "MatMulInteger" or "ConvInteger" => 1,
            "QLinearMatMul" or "QLinearConv" => 3,
            _ => -1,
        },
        ContribOps.Domain => n.Op switch
        {
            "DynamicQuantizeMatMul" or "MatMulIntegerToFloat" => 1,
            "QGemm" => 3,
            _ => -1,
        },
        _ => -1,
    };

    /// <summary>The weight's logical shape (its original shape when packed).</summary>
    public static Shape WeightShape(Node n, int index) =>
        n.Facts.TryGetValue(ShapeFact, out var s) && index == WeightIndex(n)
            ? new Shape(s.Split(',').Select(v => long.Parse(v, CultureInfo.InvariantCulture)).ToArray())
            : n.Inputs[index]!.Shape;

    /// <summary>The weight's logical element type (its original type when packed).</summary>
    public static ElementType WeightType(Node n, int index) =>
        n.Facts.TryGetValue(PackedFact, out var t) && index == WeightIndex(n) ? Enum.Parse<ElementType>(t) : n.Inputs[index]!.Elem;

    private static bool Is8(ElementType t) => t is ElementType.Int8 or ElementType.UInt8;

    public static unsafe void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        foreach (var n in ControlFlow.AllNodes(g).ToList())
        {
            int wi = WeightIndex(n);
            if (wi < 0 || n.Facts.ContainsKey(PackedFact)) continue;
            var w = n.Inputs[wi]!;
            // DynamicQuantizeMatMul's float A is quantized to uint8 at run time.
            bool a8 = Is8(n.Inputs[0]!.Elem) || n.Op == "DynamicQuantizeMatMul";
            if (!w.IsConst || !Is8(w.Elem) || !a8 || w.Shape is not { IsStatic: true } ws) continue;
            bool conv = n.Op.EndsWith("Conv", StringComparison.Ordinal);
            var d = ws.ToInts();
            byte[] packed;
            bool unsigned = w.Elem == ElementType.UInt8;
            if (conv)
            {
                if (d.Length != 4 || n.Inputs[0]!.Shape.Rank != 4) continue;
                int group = (int)n.Int("group", 1);
                if (group <= 0 || d[0] % group != 0) continue;
                packed = new byte[Int8Conv.PackedBytes(d[0], d[1], d[2], d[3], group)];
                fixed (byte* src = w.Const!.Span, dst = packed) Int8Conv.PackWeights(src, unsigned, dst, d[0], d[1], d[2], d[3], group);
            }
            else
            {
                if (d.Length != 2) continue;
                // QGemm with transB stores B as [N, K].
                bool transB = n.Op == "QGemm" && n.Int("transB", 0) != 0;
                int nn = transB ? d[0] : d[1], k = transB ? d[1] : d[0];
                packed = new byte[Int8Gemm.PackedBytes(nn, k)];
                fixed (byte* src = w.Const!.Span, dst = packed) Int8Gemm.Pack(src, unsigned, transB, dst, nn, k);
            }
            var pv = m.NewValue(w.Name + "/int8packed", new TensorType(ElementType.UInt8, new Shape([packed.Length])));
            pv.Const = TensorData.Of<byte>(packed);
            g.Constants.Add(pv);
            n.Facts[PackedFact] = w.Elem.ToString();
            n.Facts[ShapeFact] = string.Join(",", d.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            n.Inputs[wi] = pv;
            bool stillUsed = ControlFlow.AllGraphs(g).Any(b => b.Outputs.Contains(w)) || ControlFlow.AllNodes(g).Any(u => u.Inputs.Contains(w));
            if (!stillUsed) g.Constants.Remove(w);
        }
    }
}
