using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Slice (opset 1: starts/ends/axes attributes; 10, 11, 13: starts, ends, axes, steps inputs, which must be constant).
/// Per sliced axis of size n: negative starts/ends count from the end; for step &gt; 0 both clamp to [0, n], for
/// step &lt; 0 start clamps to [0, n-1] and end to [-1, n-1]; the count is max(0, ceil((end - start) / step)).
/// y[i] = x[start + i·step] on each axis: a strided copy with negative strides for negative steps.
/// </summary>
public sealed class SliceOp : StridedOp
{
    public override string Op => "Slice";

    private static (long[] Starts, long[] Ends, long[] Axes, long[] Steps) Params(Node n, int rank)
    {
        long[] starts, ends;
        long[]? axes, steps = null;
        if (n.Opset < 10)
        {
            starts = n.Ints("starts") ?? throw Error(n, Codes.BadAttribute, "attribute 'starts' is required");
            ends = n.Ints("ends") ?? throw Error(n, Codes.BadAttribute, "attribute 'ends' is required");
            axes = n.Ints("axes");
        }
        else
        {
            starts = ShapeHelpers.ConstShapeInput(n, 1, "starts");
            ends = ShapeHelpers.ConstShapeInput(n, 2, "ends");
            axes = n.In(3) != null ? ShapeHelpers.ConstShapeInput(n, 3, "axes") : null;
            steps = n.In(4) != null ? ShapeHelpers.ConstShapeInput(n, 4, "steps") : null;
        }
        axes ??= Enumerable.Range(0, starts.Length).Select(i => (long)i).ToArray();
        steps ??= Enumerable.Repeat(1L, starts.Length).ToArray();
        if (ends.Length != starts.Length || axes.Length != starts.Length || steps.Length != starts.Length)
            throw Error(n, Codes.BadAttribute, "starts, ends, axes and steps must have the same length");
        return (starts, ends, axes.Select(a => (long)Axis(n, a, rank)).ToArray(), steps);
    }

    /// <summary>Per-dim (start, step, count) for a static input shape.</summary>
    private static (long[] Start, long[] Step, long[] Count) Resolve(Node n, Shape xs)
    {
        int rank = xs.Rank;
        var (starts, ends, axes, steps) = Params(n, rank);
        var start = new long[rank];
        var step = Enumerable.Repeat(1L, rank).ToArray();
        var count = new long[rank];
        for (int d = 0; d < rank; d++) count[d] = xs[d].IsKnown ? xs[d].Value : -1;
        var seen = new HashSet<long>();
        for (int i = 0; i < axes.Length; i++)
        {
            int a = (int)axes[i];
            if (!seen.Add(a)) throw Error(n, Codes.BadAttribute, $"axis {a} is sliced twice");
            if (!xs[a].IsKnown) throw Error(n, Codes.UnboundDim, $"dim {a} of {xs} is symbolic; Slice needs it known: bind it with --dim");
            long dim = xs[a].Value, s = starts[i], e = ends[i], st = steps[i];
            if (st == 0) throw Error(n, Codes.BadAttribute, "a step is 0");
            if (s < 0) s += dim;
            if (e < 0) e += dim;
            if (st > 0)
            {
                s = Math.Clamp(s, 0, dim);
                e = Math.Clamp(e, 0, dim);
                count[a] = e > s ? (e - s + st - 1) / st : 0;
            }
            else
            {
                s = Math.Clamp(s, 0, dim - 1);
                e = Math.Clamp(e, -1, dim - 1);
                count[a] = s > e ? (s - e + (-st) - 1) / (-st) : 0;
            }
            start[a] = count[a] > 0 ? s : 0;
            step[a] = st;
        }
        return (start, step, count);
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        var (_, _, count) = Resolve(n, xs);
        Set(n, 0, Input(n, 0).Elem, new Shape(count.Select((c, d) => c >= 0 ? Dim.Of(c) : xs[d]).ToArray()));
    }

    internal override (long[] Shape, long[] Strides, long Offset) Plan(Node n)
    {
        var xs = Input(n, 0).Shape;
        var (start, step, count) = Resolve(n, xs);
        var inStr = ShapeHelpers.RowStrides(xs.ToLongs());
        long off = 0;
        var strides = new long[xs.Rank];
        for (int d = 0; d < xs.Rank; d++) { off += start[d] * inStr[d]; strides[d] = step[d] * inStr[d]; }
        return (count, strides, off);
    }
}
