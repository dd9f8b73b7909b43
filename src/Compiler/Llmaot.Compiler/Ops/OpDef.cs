using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// One op's room: its semantics (type and shape inference), constant evaluation, kernel choice and C# emission.
/// Subclasses live one per file (or one per table-driven family) under Ops/, named after the ONNX op.
/// </summary>
public abstract class OpDef
{
    /// <summary>The ONNX op_type.</summary>
    public abstract string Op { get; }

    /// <summary>The domain ("" for ai.onnx).</summary>
    public virtual string Domain => "";

    /// <summary>The oldest opset version whose semantics this implementation follows.</summary>
    public virtual int SinceVersion => 1;

    /// <summary>Sets the types of <paramref name="n"/>'s outputs from its inputs and attributes. Throws LlmaotException.</summary>
    public abstract void Infer(Node n);

    /// <summary>
    /// Computes the outputs at compile time when they are known (usually: every input is constant; Shape needs only
    /// the input shape); null when this op does not fold
    /// (or the inputs are too large to be worth it).
    /// </summary>
    public virtual TensorData[]? Fold(Node n) => null;

    /// <summary>
    /// For composite ops: the standard nodes that replace <paramref name="n"/> (called during shape inference, once the
    /// input types are known); null when the op is implemented directly. The replacement writes the node's own outputs.
    /// </summary>
    public virtual List<Node>? Expand(Node n, Model m) => null;

    /// <summary>True when output 0 is input 0's bytes reinterpreted (Reshape and friends): no code runs.</summary>
    public virtual bool IsView(Node n) => false;

    /// <summary>Chooses the kernel (recorded on the node) and its scratch bytes.</summary>
    public virtual void Select(Node n) => n.Kernel ??= Op;

    /// <summary>Writes the C# for the node (its comment is written by the caller).</summary>
    public abstract void Emit(Node n, EmitContext e);

    // ------------------------------------------------------------ helpers shared by ops

    protected static LlmaotException Error(Node n, string code, string message) => new(code, n, message);

    protected static Value Input(Node n, int i)
    {
        var v = n.In(i);
        if (v == null) throw Error(n, Codes.BadGraph, $"input {i} is required but missing");
        return v;
    }

    protected static Shape InShape(Node n, int i)
    {
        var v = Input(n, i);
        return v.Type.Shape ?? throw Error(n, Codes.UnboundDim, $"the rank of input {i} ('{v.Name}') is unknown; give its shape with --shape {v.Name}=...");
    }

    protected static void Set(Node n, int output, ElementType t, Shape s)
    {
        if (output < n.Outputs.Count) n.Outputs[output].Type = new TensorType(t, s);
    }

    /// <summary>
    /// Rejects packed sub-byte element types (int4, uint4, int2, uint2, float4 E2M1: several elements per byte) for ops
    /// that move or reorder single elements with byte-granular kernels, which would shuffle whole bytes. Ops that copy
    /// the whole buffer or alias it (Identity, Reshape and other views) keep packed types.
    /// </summary>
    protected internal static void RequireUnpacked(Node n, Value v)
    {
        if (ElementTypes.BlockSize(v.Elem) > 1)
            throw Error(n, Codes.UnsupportedType, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}, packed {ElementTypes.BlockSize(v.Elem)} elements per byte; {n.Op} moves single elements and does not support packed types (Cast it to int8/uint8/float first)");
    }

    protected static void RequireFloat(Node n, Value v)
    {
        if (v.Elem != ElementType.Float)
            throw Error(n, Codes.UnsupportedType, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}; this op supports float32 only so far");
    }

    /// <summary>Normalizes a possibly negative axis against a rank.</summary>
    protected static int Axis(Node n, long axis, int rank)
    {
        if (axis < -rank || axis >= Math.Max(rank, 1) && !(rank == 0 && axis == 0))
            throw Error(n, Codes.BadAttribute, $"axis {axis} is out of range for rank {rank}");
        return (int)(axis < 0 ? axis + rank : axis);
    }

    /// <summary>A constant input read as int64 values (shapes, axes, indices); null when not constant.</summary>
    protected static long[]? ConstInts(Node n, int i)
    {
        var v = n.In(i);
        return v?.Const != null ? v.Const.ToInt64(v.Elem) : null;
    }

    /// <summary>Multidirectional (numpy) broadcasting of two shapes.</summary>
    public static Shape Broadcast(Node n, Shape a, Shape b)
    {
        int r = Math.Max(a.Rank, b.Rank);
        var dims = new Dim[r];
        for (int i = 0; i < r; i++)
        {
            int ia = i - (r - a.Rank), ib = i - (r - b.Rank);
            Dim da = ia >= 0 ? a[ia] : Dim.Of(1), db = ib >= 0 ? b[ib] : Dim.Of(1);
            if (da == db) dims[i] = da;
            else if (da.IsKnown && da.Value == 1) dims[i] = db;
            else if (db.IsKnown && db.Value == 1) dims[i] = da;
            else if (da.IsKnown && db.IsKnown)
                throw Error(n, Codes.ShapeMismatch, $"shapes {a} and {b} do not broadcast (dim {i}: {da} vs {db})");
            else dims[i] = da.IsKnown ? da : db; // symbolic vs known/other symbol: assume they match
        }
        return new Shape(dims);
    }
}

/// <summary>All ops, looked up by (domain, op_type). The table is the one place an op is registered.</summary>
public static class OpRegistry
{
    private static readonly Dictionary<(string, string), OpDef> Table = Build();

    private static Dictionary<(string, string), OpDef> Build()
    {
        var all = new List<OpDef>();
        // One line per family; each family lists its ops in its own file.
        all.AddRange(ElementwiseOps.All());
        all.AddRange(ShapeOps.All());
        all.AddRange(ReduceOps.All());
        all.AddRange(NnOps.All());
        all.AddRange(QuantOps.All());
        all.AddRange(ContribOps.All());
        all.AddRange(CompileTimeQuantOps.All());
        all.AddRange([
            new ConvOp(), new GemmOp(), new MatMulOp(),
            new PoolOp("MaxPool"), new PoolOp("AveragePool"), new GlobalPoolOp("GlobalAveragePool"), new GlobalPoolOp("GlobalMaxPool"),
            new BatchNormalizationOp(),
            new ReshapeOp(), new FlattenOp(), new SqueezeOp(), new UnsqueezeOp(), new IdentityOp(),
            new TransposeOp(), new ConcatOp(), new GatherOp(), new SoftmaxOp("Softmax"), new SoftmaxOp("LogSoftmax"),
            new ConstantOp(), new ShapeOp(), new CastOp(),
        ]);
        all.AddRange(ControlFlow.All());
        var d = new Dictionary<(string, string), OpDef>();
        foreach (var op in all) d.Add((op.Domain, op.Op), op);
        return d;
    }

    public static OpDef? Find(string domain, string op) => Table.GetValueOrDefault((domain, op));

    public static OpDef Get(Node n) => Find(n.Domain, n.Op)
        ?? throw new LlmaotException(Codes.UnsupportedOp, n, "this op is not supported by llmaot yet; run `llmaot inspect MODEL` to list every unsupported node, and open an issue with the model");

    public static IEnumerable<OpDef> All => Table.Values;
}
