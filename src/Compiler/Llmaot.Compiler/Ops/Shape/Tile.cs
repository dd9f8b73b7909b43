using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Tile (opset 6, 13): y[i] = x[i mod shape(x)] with shape(y)[d] = shape(x)[d]·repeats[d] (repeats constant).
/// Emitted as a strided copy over [r0, d0, r1, d1, ...] whose repeat dims have stride 0.
/// </summary>
public sealed class TileOp : StridedOp
{
    public override string Op => "Tile";

    private static long[] Repeats(Node n, int rank)
    {
        var r = ShapeHelpers.ConstShapeInput(n, 1, "repeats");
        if (r.Length != rank) throw Error(n, Codes.ShapeMismatch, $"repeats has {r.Length} entries for an input of rank {rank}");
        if (r.Any(v => v < 0)) throw Error(n, Codes.BadAttribute, "repeats must be non-negative");
        return r;
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        var r = Repeats(n, xs.Rank);
        Set(n, 0, Input(n, 0).Elem, new Shape(xs.Dims.Select((d, i) => r[i] == 1 ? d : d.IsKnown ? Dim.Of(d.Value * r[i]) : throw Error(n, Codes.UnboundDim, $"dim {i} of {xs} is symbolic; bind it with --dim")).ToArray()));
    }

    internal override (long[] Shape, long[] Strides, long Offset) Plan(Node n)
    {
        var xs = Input(n, 0).Shape.ToLongs();
        var r = Repeats(n, xs.Length);
        var inStr = ShapeHelpers.RowStrides(xs);
        var shape = new long[2 * xs.Length];
        var strides = new long[2 * xs.Length];
        for (int d = 0; d < xs.Length; d++)
        {
            shape[2 * d] = r[d];
            strides[2 * d] = 0;
            shape[2 * d + 1] = xs[d];
            strides[2 * d + 1] = inStr[d];
        }
        return (shape, strides, 0);
    }
}
