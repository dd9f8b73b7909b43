using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Ops whose output is input 0's bytes under a new shape. The planner aliases their storage, so they emit no code
/// unless the output must land in a caller's buffer (then they copy).
/// </summary>
public abstract class ViewOp : OpDef
{
    public override bool IsView(Node n) => true;

    public override TensorData[]? Fold(Node n) => Input(n, 0).IsConst ? [Input(n, 0).Const!] : null;

    public override void Select(Node n) => n.Kernel = "view";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (e.P(x) == e.P(y)) e.W.Line("// no code: the output aliases the input's storage");
        else e.W.Line($"DataMovement.Copy({e.P(x)}, {e.P(y)}, {y.Bytes});");
    }

    protected static Dim Product(IEnumerable<Dim> dims)
    {
        long p = 1;
        foreach (var d in dims)
        {
            if (!d.IsKnown) return Dim.Sym(string.Join("*", dims.Select(x => x.ToString())));
            p *= d.Value;
        }
        return Dim.Of(p);
    }
}

/// <summary>Reshape (opset 1, 5, 13, 14): the target shape is input 1 (must be constant after folding); 0 copies a dim unless allowzero, -1 infers one.</summary>
public sealed class ReshapeOp : ViewOp
{
    public override string Op => "Reshape";

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        var xs = InShape(n, 0);
        long[] target = n.Opset < 5
            ? n.Ints("shape") ?? throw Error(n, Codes.BadAttribute, "attribute 'shape' is required")
            : ConstInts(n, 1) ?? throw Error(n, Codes.DataDependentShape, $"the target shape '{n.In(1)?.Name}' is computed at run time; bind the input shapes with --shape so it folds to a constant");
        bool allowZero = n.Int("allowzero", 0) != 0;
        var dims = new Dim[target.Length];
        int infer = -1;
        for (int i = 0; i < target.Length; i++)
        {
            if (target[i] == -1)
            {
                if (infer >= 0) throw Error(n, Codes.ShapeMismatch, "the target shape has more than one -1");
                infer = i;
            }
            else if (target[i] == 0 && !allowZero)
            {
                if (i >= xs.Rank) throw Error(n, Codes.ShapeMismatch, $"target dim {i} is 0 (copy) but the input {xs} has no dim {i}");
                dims[i] = xs[i];
            }
            else if (target[i] < 0) throw Error(n, Codes.ShapeMismatch, $"target dim {target[i]} is invalid");
            else dims[i] = Dim.Of(target[i]);
        }
        if (infer >= 0)
        {
            if (!xs.IsStatic || dims.Where((d, i) => i != infer).Any(d => !d.IsKnown))
                dims[infer] = Dim.Sym($"reshape_{n.Id}");
            else
            {
                long known = dims.Where((d, i) => i != infer).Aggregate(1L, (a, d) => a * d.Value);
                if (known == 0 || xs.Count % known != 0) throw Error(n, Codes.ShapeMismatch, $"cannot reshape {xs} ({xs.Count} elements) to [{string.Join(",", target)}]");
                dims[infer] = Dim.Of(xs.Count / known);
            }
        }
        var ys = new Shape(dims);
        if (xs.IsStatic && ys.IsStatic && xs.Count != ys.Count)
            throw Error(n, Codes.ShapeMismatch, $"cannot reshape {xs} ({xs.Count} elements) to {ys} ({ys.Count} elements)");
        Set(n, 0, x.Elem, ys);
    }
}

/// <summary>Flatten (opset 1-21): [d0..d(axis-1)] x [d(axis)..] as a 2-D tensor.</summary>
public sealed class FlattenOp : ViewOp
{
    public override string Op => "Flatten";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        long axis = n.Int("axis", 1);
        int a = axis < 0 ? (int)axis + xs.Rank : (int)axis;
        if (a < 0 || a > xs.Rank) throw Error(n, Codes.BadAttribute, $"axis {axis} is out of range for rank {xs.Rank}");
        Set(n, 0, Input(n, 0).Elem, new Shape(Product(xs.Dims.Take(a)), Product(xs.Dims.Skip(a))));
    }
}

/// <summary>Squeeze (opset 1, 11, 13: axes as input): removes the given size-1 dims, or every size-1 dim.</summary>
public sealed class SqueezeOp : ViewOp
{
    public override string Op => "Squeeze";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        long[]? axes = n.Opset >= 13 ? (n.In(1) == null ? null : ConstInts(n, 1) ?? throw Error(n, Codes.DataDependentShape, "the axes input must be constant")) : n.Ints("axes");
        var drop = new HashSet<int>();
        if (axes == null || axes.Length == 0)
        {
            for (int i = 0; i < xs.Rank; i++)
            {
                if (!xs[i].IsKnown) throw Error(n, Codes.UnboundDim, $"dim {i} of {xs} is symbolic, so Squeeze without axes cannot tell if it is 1; bind it with --dim");
                if (xs[i].Value == 1) drop.Add(i);
            }
        }
        else
            foreach (var ax in axes)
            {
                int a = Axis(n, ax, xs.Rank);
                if (xs[a].IsKnown && xs[a].Value != 1) throw Error(n, Codes.ShapeMismatch, $"cannot squeeze dim {a} of {xs}: it is not 1");
                drop.Add(a);
            }
        Set(n, 0, Input(n, 0).Elem, new Shape(xs.Dims.Where((d, i) => !drop.Contains(i)).ToArray()));
    }
}

/// <summary>Unsqueeze (opset 1, 11, 13: axes as input): inserts size-1 dims at the given output positions.</summary>
public sealed class UnsqueezeOp : ViewOp
{
    public override string Op => "Unsqueeze";

    public override void Infer(Node n)
    {
        var xs = InShape(n, 0);
        long[] axes = (n.Opset >= 13 ? ConstInts(n, 1) ?? throw Error(n, Codes.DataDependentShape, "the axes input must be constant") : n.Ints("axes"))
            ?? throw Error(n, Codes.BadAttribute, "axes are required");
        int rank = xs.Rank + axes.Length;
        var pos = new HashSet<int>();
        foreach (var ax in axes)
            if (!pos.Add(Axis(n, ax, rank))) throw Error(n, Codes.BadAttribute, $"axis {ax} is repeated");
        var dims = new List<Dim>();
        int k = 0;
        for (int i = 0; i < rank; i++) dims.Add(pos.Contains(i) ? Dim.Of(1) : xs[k++]);
        Set(n, 0, Input(n, 0).Elem, new Shape(dims.ToArray()));
    }
}

/// <summary>Identity (opset 1-21).</summary>
public sealed class IdentityOp : ViewOp
{
    public override string Op => "Identity";

    public override void Infer(Node n) => Set(n, 0, Input(n, 0).Elem, InShape(n, 0));
}
