using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Passes;

/// <summary>
/// QDQ fusion: the pattern QuantizeLinear(Conv(DequantizeLinear(x), DequantizeLinear(w), DequantizeLinear(b)?)) — what ONNX
/// Runtime's quantizer writes — becomes one QLinearConv on the integer tensors, with int32 accumulation and a single
/// requantization, which is what ONNX Runtime runs too. Likewise Q(MatMul(DQ(a), DQ(b))) becomes QLinearMatMul.
/// Conditions: per-tensor activation scales, constant weights with per-tensor or per-output-channel scales, the bias
/// quantized as int32 with zero point 0, and the float intermediate read only by the QuantizeLinear. The DequantizeLinear
/// nodes stay for their other readers (dead-code elimination drops them otherwise).
/// </summary>
public static class QdqFusion
{
    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        var users = g.Users();
        var outputs = new HashSet<Value>(g.Outputs);
        for (int i = 0; i < g.Nodes.Count; i++)
        {
            var op = g.Nodes[i];
            if (op.Domain != "" || op.Op is not ("Conv" or "MatMul")) continue;
            var y = op.Outputs[0];
            if (outputs.Contains(y) || !users.TryGetValue(y, out var us) || us.Count != 1) continue;
            var q = us[0];
            if (q.Op != "QuantizeLinear" || q.Domain != "" || q.Inputs[0] != y || !PerTensor(q)) continue;
            var dx = Dq(op.In(0));
            var dw = Dq(op.In(1));
            if (dx == null || dw == null || !PerTensor(dx) || !dw.Inputs[0]!.IsConst) continue;
            if (op.Op == "MatMul" && !PerTensor(dw)) continue;
            if (op.Op == "Conv" && dw.Int("axis", 1) != 0 && !PerTensor(dw)) continue;
            Value? bias = null;
            if (op.Op == "Conv" && op.In(2) is { } bv)
            {
                var db = Dq(bv);
                if (db == null || db.Inputs[0]!.Elem != ElementType.Int32 || !db.Inputs[0]!.IsConst || db.In(2) is { } bz && (!bz.IsConst || bz.Const!.Span.IndexOfAnyExcept((byte)0) >= 0)) continue;
                bias = db.Inputs[0];
            }
            var fused = new Node(m.NextNodeId++, op.Name + "/qlinear", op.Op == "Conv" ? "QLinearConv" : "QLinearMatMul", "", 10);
            fused.Inputs.AddRange([dx.Inputs[0], dx.Inputs[1], dx.In(2) ?? Zero(m, dx.Inputs[0]!.Elem), dw.Inputs[0], dw.Inputs[1], dw.In(2) ?? Zero(m, dw.Inputs[0]!.Elem), q.Inputs[1], q.In(2) ?? Zero(m, q.Outputs[0].Elem)]);
            if (bias != null) fused.Inputs.Add(bias);
            if (op.Op == "Conv") foreach (var (k, a) in op.Attrs) fused.Attrs[k] = a;
            var qy = q.Outputs[0];
            fused.Outputs.Add(qy);
            qy.Producer = fused;
            fused.Fused.Add($"{dx.Op} '{dx.Name}'");
            fused.Fused.Add($"{op.Op} '{op.Name}'");
            fused.Fused.Add($"{q.Op} '{q.Name}'");
            g.Nodes[i] = fused;
            g.Nodes.Remove(q);
            ShapeInference.InferNode(fused);
            users = g.Users();
        }
    }

    private static Node? Dq(Value? v) => v?.Producer is { Op: "DequantizeLinear", Domain: "" } n && n.Inputs[1]!.IsConst && (n.In(2) == null || n.In(2)!.IsConst) && n.Int("block_size", 0) == 0 ? n : null;

    private static bool PerTensor(Node n) => n.Inputs[1]!.Type.Shape is { } s && s.IsStatic && s.Count == 1 && (n.In(2) == null || n.In(2)!.Shape.Count == 1);

    private static Value Zero(Model m, ElementType t)
    {
        var v = m.NewValue("qdq/zero_point", new TensorType(t, Shape.Scalar));
        v.Const = TensorData.Of(new byte[ElementTypes.BlockBytes(t)]);
        m.Graph.Constants.Add(v);
        return v;
    }
}
