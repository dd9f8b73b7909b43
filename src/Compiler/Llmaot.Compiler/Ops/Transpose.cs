using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>Transpose (opset 1-21): y = x permuted by <c>perm</c> (default: reversed dims).</summary>
public sealed class TransposeOp : OpDef
{
    public override string Op => "Transpose";

    internal static int[] Perm(Node n, int rank)
    {
        var p = n.Ints("perm");
        if (p == null || p.Length == 0) return Enumerable.Range(0, rank).Reverse().ToArray();
        if (p.Length != rank || p.Order().Select((v, i) => v == i).Any(ok => !ok))
            throw Error(n, Codes.BadAttribute, $"perm [{string.Join(",", p)}] is not a permutation of {rank} dims");
        return p.Select(v => (int)v).ToArray();
    }

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        RequireUnpacked(n, Input(n, 0));
        if (xs.Rank > 8) throw Error(n, Codes.UnsupportedOp, "rank above 8 is not supported");
        var perm = Perm(n, xs.Rank);
        Set(n, 0, Input(n, 0).Elem, new Shape(perm.Select(p => xs[p]).ToArray()));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        if (!x.IsConst || x.Type.Shape is not { IsStatic: true } || ElementTypes.BlockSize(x.Elem) != 1) return null;
        var shape = x.Shape.ToLongs();
        var perm = Perm(n, shape.Length);
        int es = ElementTypes.BlockBytes(x.Elem);
        var src = x.Const!.Span;
        var dst = new byte[src.Length];
        var outShape = perm.Select(p => shape[p]).ToArray();
        var inStr = x.Shape.Strides();
        long total = x.Shape.Count;
        var idx = new long[shape.Length];
        for (long o = 0; o < total; o++)
        {
            long rem = o, off = 0;
            for (int d = shape.Length - 1; d >= 0; d--)
            {
                long i = rem % outShape[d];
                rem /= outShape[d];
                off += i * inStr[perm[d]];
            }
            src.Slice((int)(off * es), es).CopyTo(dst.AsSpan((int)(o * es), es));
        }
        return [TensorData.Of(dst)];
    }

    public override void Select(Node n) => n.Kernel = "DataMovement.Transpose";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        e.W.Line($"DataMovement.Transpose({e.P(x)}, {e.P(n.Outputs[0])}, {EmitContext.Ints(x.Shape.ToLongs())}, {EmitContext.Ints(Perm(n, x.Shape.Rank).Select(p => (long)p))});");
    }
}

/// <summary>Concat (opset 1-13): joins inputs along <c>axis</c>.</summary>
public sealed class ConcatOp : OpDef
{
    public override string Op => "Concat";

    public override void Infer(Node n)
    {
        var first = InShape(n, 0);
        if (!n.Attrs.ContainsKey("axis") && n.Opset >= 4) throw Error(n, Codes.BadAttribute, "attribute 'axis' is required");
        int axis = Axis(n, n.Int("axis", 1), first.Rank);
        var dims = first.Dims.ToArray();
        long sum = 0;
        bool known = true;
        for (int i = 0; i < n.Inputs.Count; i++)
        {
            var s = InShape(n, i);
            RequireUnpacked(n, Input(n, i));
            if (Input(n, i).Elem != Input(n, 0).Elem) throw Error(n, Codes.UnsupportedType, "inputs differ in element type");
            if (s.Rank != first.Rank) throw Error(n, Codes.ShapeMismatch, $"input {i} {s} differs in rank from {first}");
            for (int d = 0; d < s.Rank; d++)
                if (d != axis && s[d].IsKnown && dims[d].IsKnown && s[d].Value != dims[d].Value)
                    throw Error(n, Codes.ShapeMismatch, $"input {i} {s} differs from {first} in dim {d}");
            if (s[axis].IsKnown) sum += s[axis].Value; else known = false;
        }
        dims[axis] = known ? Dim.Of(sum) : Dim.Sym($"concat_{n.Id}");
        Set(n, 0, Input(n, 0).Elem, new Shape(dims));
    }

    public override TensorData[]? Fold(Node n)
    {
        if (n.Inputs.Any(v => v == null || !v.IsConst)) return null;
        var y = n.Outputs[0];
        var ys = y.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", 1), ys.Length);
        long outer = ys.Take(axis).Aggregate(1L, (a, b) => a * b);
        int es = ElementTypes.BlockBytes(y.Elem);
        long inner = ys.Skip(axis + 1).Aggregate(1L, (a, b) => a * b) * es;
        var dst = new byte[y.Bytes];
        long off = 0;
        foreach (var v in n.Inputs)
        {
            long chunk = v!.Shape[axis].Value * inner;
            var src = v.Const!.Span;
            for (long o = 0; o < outer; o++)
                src.Slice((int)(o * chunk), (int)chunk).CopyTo(dst.AsSpan((int)(o * ys[axis] * inner + off)));
            off += chunk;
        }
        return [TensorData.Of(dst)];
    }

    public override void Select(Node n) => n.Kernel = "DataMovement.ConcatPart";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        var ys = y.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", 1), ys.Length);
        long outer = ys.Take(axis).Aggregate(1L, (a, b) => a * b);
        long inner = ys.Skip(axis + 1).Aggregate(1L, (a, b) => a * b) * ElementTypes.BlockBytes(y.Elem);
        long row = ys[axis] * inner, off = 0;
        foreach (var v in n.Inputs)
        {
            long chunk = v!.Shape[axis].Value * inner;
            if (chunk > 0) e.W.Line($"DataMovement.ConcatPart({e.Bytes(v)}, {e.Bytes(y)}, outer: {outer}, chunkBytes: {chunk}, dstRowBytes: {row}, dstOffsetBytes: {off});");
            off += chunk;
        }
    }
}

/// <summary>Gather (opset 1-13): y = data indexed along <c>axis</c> by int32/int64 indices (negative counts from the end).</summary>
public sealed class GatherOp : OpDef
{
    public override string Op => "Gather";

    public override void Infer(Node n)
    {
        var ds = InShape(n, 0);
        RequireUnpacked(n, Input(n, 0));
        var ix = Input(n, 1);
        if (ix.Elem is not (ElementType.Int64 or ElementType.Int32)) throw Error(n, Codes.UnsupportedType, "indices must be int32 or int64");
        var iss = InShape(n, 1);
        int axis = Axis(n, n.Int("axis", 0), ds.Rank);
        var dims = ds.Dims.Take(axis).Concat(iss.Dims).Concat(ds.Dims.Skip(axis + 1)).ToArray();
        Set(n, 0, Input(n, 0).Elem, new Shape(dims));
    }

    public override TensorData[]? Fold(Node n)
    {
        var d = Input(n, 0);
        var ix = Input(n, 1);
        if (!d.IsConst || !ix.IsConst || d.Type.Shape is not { IsStatic: true } || ElementTypes.BlockSize(d.Elem) != 1) return null;
        var ds = d.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", 0), ds.Length);
        var idx = ix.Const!.ToInt64(ix.Elem);
        int es = ElementTypes.BlockBytes(d.Elem);
        long outer = ds.Take(axis).Aggregate(1L, (a, b) => a * b);
        long inner = ds.Skip(axis + 1).Aggregate(1L, (a, b) => a * b) * es;
        var dst = new byte[outer * idx.Length * inner];
        var src = d.Const!.Span;
        for (long o = 0; o < outer; o++)
            for (int j = 0; j < idx.Length; j++)
            {
                long k = idx[j] < 0 ? idx[j] + ds[axis] : idx[j];
                if (k < 0 || k >= ds[axis]) throw Error(n, Codes.ShapeMismatch, $"index {idx[j]} is out of range for dim {ds[axis]}");
                src.Slice((int)((o * ds[axis] + k) * inner), (int)inner).CopyTo(dst.AsSpan((int)((o * idx.Length + j) * inner)));
            }
        return [TensorData.Of(dst)];
    }

    public override void Select(Node n) => n.Kernel = "DataMovement.Gather";

    public override void Emit(Node n, EmitContext e)
    {
        var d = n.Inputs[0]!;
        var ix = n.Inputs[1]!;
        var ds = d.Shape.ToLongs();
        int axis = Axis(n, n.Int("axis", 0), ds.Length);
        long outer = ds.Take(axis).Aggregate(1L, (a, b) => a * b);
        long inner = ds.Skip(axis + 1).Aggregate(1L, (a, b) => a * b) * ElementTypes.BlockBytes(d.Elem);
        e.W.Line($"if (!DataMovement.Gather({e.Bytes(d)}, {e.P(ix)}, {e.Bytes(n.Outputs[0])}, outer: {outer}, axisDim: {ds[axis]}, innerBytes: {inner}, count: {ix.Shape.Count}))");
        e.W.Line($"    throw new IndexOutOfRangeException({Lit.S($"LLMAOT9020: Gather '{n.Name}': an index is outside [-{ds[axis]}, {ds[axis]})")});");
    }
}
