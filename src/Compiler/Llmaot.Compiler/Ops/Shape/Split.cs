using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Split (opset 1, 2, 11: 'split' attribute; 13: 'split' input, constant; 18: num_outputs). Splits x along
/// <c>axis</c> into parts of the given sizes; without sizes into equal parts, or (num_outputs) parts of
/// ceil(n / num_outputs) with a smaller last one.
/// </summary>
public sealed class SplitOp : OpDef
{
    public override string Op => "Split";

    private static long[] Sizes(Node n, long dim)
    {
        long[]? split = n.Opset >= 13
            ? (n.In(1) != null ? ShapeHelpers.ConstShapeInput(n, 1, "split sizes") : null)
            : n.Ints("split") is { Length: > 0 } s ? s : null;
        int parts = n.Outputs.Count;
        if (split != null)
        {
            if (split.Length != parts) throw Error(n, Codes.BadAttribute, $"split has {split.Length} sizes for {parts} outputs");
            if (split.Any(v => v < 0) || split.Sum() != dim) throw Error(n, Codes.ShapeMismatch, $"split sizes [{string.Join(",", split)}] do not add up to {dim}");
            return split;
        }
        if (n.Attrs.ContainsKey("num_outputs"))
        {
            long k = n.Int("num_outputs", parts);
            if (k != parts) throw Error(n, Codes.BadAttribute, $"num_outputs is {k} but the node has {parts} outputs");
            long chunk = (dim + k - 1) / k;
            return Enumerable.Range(0, parts).Select(i => Math.Max(0, Math.Min(chunk, dim - i * chunk))).ToArray();
        }
        if (dim % parts != 0) throw Error(n, Codes.ShapeMismatch, $"dim {dim} does not split into {parts} equal parts");
        return Enumerable.Repeat(dim / parts, parts).ToArray();
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        RequireUnpacked(n, Input(n, 0));
        int axis = Axis(n, n.Int("axis", 0), xs.Rank);
        if (!xs[axis].IsKnown) throw Error(n, Codes.UnboundDim, $"dim {axis} of {xs} is symbolic; bind it with --dim");
        var sizes = Sizes(n, xs[axis].Value);
        for (int i = 0; i < n.Outputs.Count; i++)
        {
            var dims = xs.Dims.ToArray();
            dims[axis] = Dim.Of(sizes[i]);
            Set(n, i, Input(n, 0).Elem, new Shape(dims));
        }
    }

    private static (long Outer, long Inner, long[] Sizes) Geometry(Node n)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", 0), xs.Length);
        return (ShapeHelpers.Prod(xs.Take(axis)), ShapeHelpers.Prod(xs.Skip(axis + 1)) * ElementTypes.BlockBytes(n.Inputs[0]!.Elem), Sizes(n, xs[axis]));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!ShapeHelpers.CanFold(x, x.Shape.Count)) return null;
        var (outer, inner, sizes) = Geometry(n);
        long row = sizes.Sum() * inner, off = 0;
        var src = x.Const!.Span;
        var result = new TensorData[sizes.Length];
        for (int i = 0; i < sizes.Length; i++)
        {
            long chunk = sizes[i] * inner;
            var dst = new byte[outer * chunk];
            for (long o = 0; o < outer; o++) src.Slice((int)(o * row + off), (int)chunk).CopyTo(dst.AsSpan((int)(o * chunk)));
            result[i] = TensorData.Of(dst);
            off += chunk;
        }
        return result;
    }

    public override void Select(Node n) => n.Kernel = "Strided.SplitPart";

    public override void Emit(Node n, EmitContext e)
    {
        var (outer, inner, sizes) = Geometry(n);
        long row = sizes.Sum() * inner, off = 0;
        for (int i = 0; i < sizes.Length; i++)
        {
            long chunk = sizes[i] * inner;
            var y = n.Outputs[i];
            if (chunk > 0 && outer > 0 && !y.Name.Contains(":unused"))
                e.W.Line($"Strided.SplitPart({e.Bytes(n.Inputs[0]!)}, {e.Bytes(y)}, outer: {outer}, chunkBytes: {chunk}, srcRowBytes: {row}, srcOffsetBytes: {off});");
            off += chunk;
        }
    }
}
