using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Comparisons with multidirectional broadcasting and bool output: Less, Greater (7/9/13), LessOrEqual, GreaterOrEqual
/// (12/16), Equal (7/11/13/19; bools compared as bytes). Numeric types.
/// </summary>
public sealed class CompareOp(string op, string structName, Func<double, double, bool> fd, Func<long, long, bool> fl) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        var b = Input(n, 1);
        if (a.Elem != b.Elem) throw Error(n, Codes.UnsupportedType, $"inputs are {ElementTypes.Name(a.Elem)} and {ElementTypes.Name(b.Elem)}; ONNX requires one type");
        Ew.Require(n, a, op == "Equal" ? Types.NumericOrBool : Types.Numeric);
        Set(n, 0, ElementType.Bool, Broadcast(n, InShape(n, 0), InShape(n, 1)));
    }

    public override TensorData[]? Fold(Node n) =>
        Ew.FoldN(n, ElementType.Bool, v => fd(v[0], v[1]) ? 1 : 0, v => fl(v[0], v[1]) ? 1 : 0);

    public override void Select(Node n) => n.Kernel = $"Elementwise.ZipBroadcast<{structName}>";

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[1]!;
        var y = n.Outputs[0];
        string t = a.Elem == ElementType.Bool ? "byte" : EmitContext.T(a);
        var (shape, s) = Ew.Collapse(y.Shape.ToLongs(), a.Shape.ToLongs(), b.Shape.ToLongs());
        e.W.Line($"Elementwise.ZipBroadcast<{structName}<{t}>, {t}, {t}, bool>({Ew.Ptr(e, a, t)}, {Ew.Ptr(e, b, t)}, {e.P(y)}, " +
                 $"{EmitContext.Ints(shape)}, {EmitContext.Ints(s[0])}, {EmitContext.Ints(s[1])});");
    }
}
