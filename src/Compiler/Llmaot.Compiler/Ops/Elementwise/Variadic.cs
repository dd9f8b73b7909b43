using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Variadic Max, Min (6/8/12/13), Sum (6/8/13) and Mean (6/8/13) with multidirectional broadcasting of all inputs:
/// y = op(x0, x1) written at the full output shape, then y = op(y, xi) in place; Mean divides by the count at the end.
/// One input: a copy.
/// </summary>
public sealed class VariadicOp(string op, string structName, Func<double, double, double> fd, Func<long, long, long>? fl) : OpDef
{
    public override string Op => op;

    private IEnumerable<int> Present(Node n) => Enumerable.Range(0, n.Inputs.Count).Where(i => n.Inputs[i] != null);

    public override void Infer(Node n)
    {
        var ins = Present(n).Select(i => n.Inputs[i]!).ToList();
        if (ins.Count == 0) throw Error(n, Codes.BadGraph, $"{op} needs at least one input");
        foreach (var v in ins)
        {
            if (v.Elem != ins[0].Elem) throw Error(n, Codes.UnsupportedType, $"inputs are {ElementTypes.Name(ins[0].Elem)} and {ElementTypes.Name(v.Elem)}; ONNX requires one type");
            Ew.Require(n, v, op is "Mean" ? Types.Float : Types.Numeric);
        }
        Set(n, 0, ins[0].Elem, Ew.BroadcastAll(n, Present(n)));
    }

    public override TensorData[]? Fold(Node n)
    {
        int k = Present(n).Count();
        return Ew.FoldN(n, n.Outputs[0].Elem,
            v => { double r = v[0]; for (int i = 1; i < v.Length; i++) r = fd(r, v[i]); return op == "Mean" ? r / k : r; },
            fl == null ? null : v => { long r = v[0]; for (int i = 1; i < v.Length; i++) r = fl(r, v[i]); return r; });
    }

    public override void Select(Node n) => n.Kernel = Present(n).Count() == 1 ? "copy" : $"Elementwise.BinaryBroadcast<{structName}>";

    public override void Emit(Node n, EmitContext e)
    {
        var ins = Present(n).Select(i => n.Inputs[i]!).ToList();
        var y = n.Outputs[0];
        string t = EmitContext.T(y);
        if (ins.Count == 1)
        {
            e.W.Line($"DataMovement.Copy({e.P(ins[0])}, {e.P(y)}, {y.Bytes});");
            return;
        }
        var ys = y.Shape.ToLongs();
        for (int i = 1; i < ins.Count; i++)
        {
            // The first step reads x0, later steps accumulate in y (y's own elements: the same index, so in place is safe).
            var a = i == 1 ? ins[0] : y;
            string kernel = "Elementwise." + BinaryOp.Skeleton(ys, a.Shape.ToLongs(), ins[i].Shape.ToLongs());
            long na = a.Shape.Count, nb = ins[i].Shape.Count, ny = y.Shape.Count;
            bool ok = kernel switch
            {
                "Elementwise.Binary" => na == ny && nb == ny,
                "Elementwise.BinaryScalarRight" => na == ny,
                "Elementwise.BinaryScalarLeft" => nb == ny,
                _ => true,
            };
            if (!ok) kernel = "Elementwise.BinaryBroadcast";
            BinaryOp.EmitBinary(e, kernel, $"{structName}<{t}>", t, a, ins[i], y);
        }
        if (op == "Mean")
            e.W.Line($"Elementwise.BinaryScalarRight<DivOp<{t}>, {t}>({e.P(y)}, {Ew.Literal(y.Elem, ins.Count)}, {e.P(y)}, {y.Shape.Count});");
    }
}
