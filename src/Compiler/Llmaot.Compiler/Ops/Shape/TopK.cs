using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// TopK (opset 1: k attribute; 10: k input, constant; 11: largest, sorted): the k largest (or smallest) elements
/// along <c>axis</c> (default -1) and their int64 indices, best first; equal values keep the lower index first.
/// Output is always sorted (sorted=0 leaves the order unspecified, so sorted order is valid).
/// </summary>
public sealed class TopKOp : OpDef
{
    public override string Op => "TopK";

    private static long K(Node n)
    {
        if (n.Opset < 10) return n.Int("k", -1);
        var k = ShapeHelpers.ConstShapeInput(n, 1, "k");
        if (k.Length != 1) throw Error(n, Codes.BadAttribute, "k must have one element");
        return k[0];
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        ShapeHelpers.RequireNumeric(n, Input(n, 0));
        int axis = Axis(n, n.Int("axis", -1), xs.Rank);
        long k = K(n);
        if (!xs[axis].IsKnown) throw Error(n, Codes.UnboundDim, $"dim {axis} of {xs} is symbolic; bind it with --dim");
        if (k < 0 || k > xs[axis].Value) throw Error(n, Codes.BadAttribute, $"k = {k} is outside [0, {xs[axis].Value}]");
        var dims = xs.Dims.ToArray();
        dims[axis] = Dim.Of(k);
        Set(n, 0, Input(n, 0).Elem, new Shape(dims));
        Set(n, 1, ElementType.Int64, new Shape(dims));
    }

    public override void Select(Node n)
    {
        n.Kernel = "Indexing.TopK";
        n.ScratchBytes = Math.Max(K(n), 1) * 8;
    }

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var xs = x.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", -1), xs.Length);
        long k = K(n);
        if (k == 0 || ShapeHelpers.Prod(xs) == 0) { e.W.Line("// empty output: nothing to do"); return; }
        e.W.Line($"Indexing.TopK({e.P(x)}, {e.P(n.Outputs[0])}, {e.P(n.Outputs[1])}, outer: {ShapeHelpers.Prod(xs[..axis])}, n: {xs[axis]}, inner: {ShapeHelpers.Prod(xs[(axis + 1)..])}, k: {k}, largest: {Lit.B(n.Int("largest", 1) != 0)}, scratch: {EmitContext.Scratch(n, "long")});");
    }
}
