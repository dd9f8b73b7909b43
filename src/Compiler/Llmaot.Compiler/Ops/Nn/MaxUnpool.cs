using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// MaxUnpool (opset 9, 11, 22): y = zeros, then y.flat[I[i]] = X[i] (I: MaxPool's flat indices over the whole output).
/// Indices are coordinates in the default shape below; with the constant output_shape input they land at the same
/// coordinates of that (larger) shape. The default shape is per spatial axis (in - 1)·stride + kernel - pad_begin - pad_end.
/// </summary>
public sealed class MaxUnpoolOp : OpDef
{
    public override string Op => "MaxUnpool";
    public override int SinceVersion => 9;

    private static long[] OutShape(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        if (n.In(2) != null)
        {
            var os = ShapeHelpers.ConstShapeInput(n, 2, "output_shape");
            if (os.Length != xs.Length) throw Error(n, Codes.ShapeMismatch, $"output_shape has {os.Length} dims; the input has {xs.Length}");
            return os;
        }
        return DefaultShape(n, xs);
    }

    /// <summary>The shape MaxPool's indices refer to: (in - 1)·stride + kernel - pads per spatial axis.</summary>
    private static long[] DefaultShape(Node n, long[] xs)
    {
        int sp = xs.Length - 2;
        var k = n.Ints("kernel_shape") ?? throw Error(n, Codes.BadAttribute, "kernel_shape is required");
        if (k.Length != sp) throw Error(n, Codes.BadAttribute, $"kernel_shape has {k.Length} values; expected {sp}");
        var s = n.Ints("strides") is { Length: > 0 } st ? st : Enumerable.Repeat(1L, sp).ToArray();
        var p = n.Ints("pads") is { Length: > 0 } pd ? pd : new long[2 * sp];
        var y = (long[])xs.Clone();
        for (int i = 0; i < sp; i++) y[2 + i] = (xs[2 + i] - 1) * s[i] + k[i] - p[i] - p[sp + i];
        return y;
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        ShapeHelpers.RequireStorable(n, x);
        if (ElementTypes.BlockSize(x.Elem) > 1) throw Error(n, Codes.UnsupportedType, $"{ElementTypes.Name(x.Elem)} is not supported");
        if (Input(n, 1).Elem != ElementType.Int64) throw Error(n, Codes.UnsupportedType, "indices must be int64");
        if (!InShape(n, 1).Equals(InShape(n, 0))) throw Error(n, Codes.ShapeMismatch, "X and I must have the same shape");
        Set(n, 0, x.Elem, new Shape(OutShape(n)));
    }

    public override void Select(Node n) => n.Kernel = "Scatter.MaxUnpool";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        string T = EmitContext.StorageT(x);
        e.W.Line($"Scatter.MaxUnpool(({T}*){e.P(x)}, {e.P(n.Inputs[1]!)}, ({T}*){e.P(n.Outputs[0])}, count: {x.Shape.Count},");
        e.W.Line($"    fromShape: {EmitContext.Ints(DefaultShape(n, x.Shape.ToLongs()))}, toShape: {EmitContext.Ints(n.Outputs[0].Shape.ToLongs())});");
    }
}
