using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>The element types MatMul and Gemm accept; all but float32 take the scalar <see cref="Runtime.Kernels.GemmT"/> path.</summary>
internal static class GemmTypes
{
    public static bool IsInt(ElementType t) => t is ElementType.Int32 or ElementType.Int64 or ElementType.UInt32 or ElementType.UInt64;

    public static void Require(Node n, Value v)
    {
        if (v.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16) && !IsInt(v.Elem))
            throw new LlmaotException(Codes.UnsupportedType, n, $"input '{v.Name}' is {ElementTypes.Name(v.Elem)}; {n.Op} supports float32, float16, double and 32/64-bit integers");
        foreach (var o in n.Inputs)
            if (o != null && o.Elem != v.Elem) throw new LlmaotException(Codes.UnsupportedType, n, $"input '{o.Name}' is {ElementTypes.Name(o.Elem)}, not {ElementTypes.Name(v.Elem)}");
    }

    /// <summary>One scalar GEMM call: floating types with alpha/beta, integer types accumulating into C when beta is 1.</summary>
    public static string Call(Value v, string args, double alpha, double beta) => IsInt(v.Elem)
        ? $"GemmT.RunInt({args}, accumulate: {Lit.B(beta != 0)});"
        : $"GemmT.RunFloat({args}, alpha: {Lit.D(alpha)}, beta: {Lit.D(beta)});";
}

/// <summary>
/// Gemm (opset 1-13): Y = alpha * op(A) * op(B) + beta * C, A: [M,K] (or [K,M] with transA), B: [K,N] (or [N,K] with transB),
/// C unidirectionally broadcast to [M,N]. A C of shape [N] or [1,N] with beta 1 becomes the kernel's per-column bias.
/// float32 takes the tuned kernel; double, float16 and integer types (alpha = beta = 1) the scalar GemmT.
/// </summary>
public sealed class GemmOp : OpDef
{
    public override string Op => "Gemm";

    public override void Infer(Node n)
    {
        GemmTypes.Require(n, Input(n, 0));
        if (GemmTypes.IsInt(Input(n, 0).Elem) && (n.Float("alpha", 1f) != 1f || n.Float("beta", 1f) != 1f))
            throw Error(n, Codes.BadAttribute, "integer Gemm supports alpha = beta = 1 only");
        var a = InShape(n, 0);
        var b = InShape(n, 1);
        if (a.Rank != 2 || b.Rank != 2) throw Error(n, Codes.ShapeMismatch, $"Gemm takes 2-D inputs, got {a} and {b}");
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        Dim m = ta ? a[1] : a[0], ka = ta ? a[0] : a[1], kb = tb ? b[1] : b[0], nn = tb ? b[0] : b[1];
        if (ka.IsKnown && kb.IsKnown && ka.Value != kb.Value) throw Error(n, Codes.ShapeMismatch, $"inner dims differ: A {a}{(ta ? "^T" : "")} and B {b}{(tb ? "^T" : "")}");
        var y = new Shape(m, nn);
        if (n.In(2) is { } c && c.Type.Shape is { } cs)
        {
            var bc = Broadcast(n, y, cs);
            if (!bc.Equals(y)) throw Error(n, Codes.ShapeMismatch, $"C {cs} does not broadcast to [{m},{nn}]");
        }
        Set(n, 0, Input(n, 0).Elem, y);
    }

    internal static bool BiasIsRow(Node n) =>
        n.In(2) is { } c && n.Float("beta", 1f) == 1f && c.Shape.Count == n.Outputs[0].Shape[1].Value && (c.Shape.Rank == 1 || c.Shape[0].Value == 1);

    public override void Select(Node n)
    {
        if (n.Outputs[0].Elem != ElementType.Float)
        {
            n.Kernel = "GemmT.Run[scalar]" + (n.In(2) != null ? "+C" : "");
            return;
        }
        var y = n.Outputs[0].Shape;
        string bias = n.In(2) == null ? "" : BiasIsRow(n) ? "+bias" : "+C";
        n.Kernel = (y[0].Value == 1 ? "Gemm.Run[gemv]" : "Gemm.Run[blocked]") + bias + ConvOp.EpilogueSuffix(n);
    }

    public override void Emit(Node n, EmitContext e)
    {
        var a = n.Inputs[0]!;
        var b = n.Inputs[1]!;
        var y = n.Outputs[0];
        bool ta = n.Int("transA", 0) != 0, tb = n.Int("transB", 0) != 0;
        int M = (int)y.Shape[0].Value, N = (int)y.Shape[1].Value;
        int K = (int)(ta ? a.Shape[0].Value : a.Shape[1].Value);
        int lda = (int)a.Shape[1].Value, ldb = (int)b.Shape[1].Value;
        float alpha = n.Float("alpha", 1f), beta = n.Float("beta", 1f);
        if (y.Elem != ElementType.Float)
        {
            if (n.In(2) is { } cc)
            {
                var (shape, sc, _) = BinaryOp.Collapse(y.Shape.ToLongs(), cc.Shape.ToLongs(), []);
                e.W.Line($"Broadcasting.To({e.P(cc)}, {e.P(y)}, {EmitContext.Ints(shape)}, {EmitContext.Ints(sc)});");
            }
            e.W.Line(GemmTypes.Call(y, $"m: {M}, n: {N}, k: {K}, {e.P(a)}, lda: {lda}, transA: {Lit.B(ta)}, {e.P(b)}, ldb: {ldb}, transB: {Lit.B(tb)}, {e.P(y)}, ldc: {N}",
                alpha, n.In(2) != null ? beta : 0));
            return;
        }
        string bias = "null";
        float betaArg = 0f;
        if (n.In(2) is { } c)
        {
            if (BiasIsRow(n)) bias = e.P(c);
            else
            {
                var (shape, sc, _) = BinaryOp.Collapse(y.Shape.ToLongs(), c.Shape.ToLongs(), []);
                e.W.Line($"Broadcasting.To({e.P(c)}, {e.P(y)}, {EmitContext.Ints(shape)}, {EmitContext.Ints(sc)});");
                betaArg = beta;
            }
        }
        e.W.Line($"Gemm.Run(m: {M}, n: {N}, k: {K}, {e.P(a)}, lda: {lda}, transA: {Lit.B(ta)}, {e.P(b)}, ldb: {ldb}, transB: {Lit.B(tb)},");
        e.W.Line($"    {e.P(y)}, ldc: {N}, alpha: {Lit.F(alpha)}, beta: {Lit.F(betaArg)}, bias: {bias}, epi: {ConvOp.EpilogueLiteral(n)});");
    }
}

/// <summary>
/// MatMul (opset 1-13): numpy matmul. 1-D operands are promoted (and the added dim removed from the result);
/// batch dims broadcast. When B has no batch dims, A's batch folds into M and one GEMM runs. float32 takes the tuned
/// kernel; double, float16 and 32/64-bit integers the scalar GemmT (integers wrap around).
/// </summary>
public sealed class MatMulOp : OpDef
{
    public override string Op => "MatMul";

    public override void Infer(Node n)
    {
        GemmTypes.Require(n, Input(n, 0));
        var a = InShape(n, 0);
        var b = InShape(n, 1);
        if (a.Rank == 0 || b.Rank == 0) throw Error(n, Codes.ShapeMismatch, "MatMul operands must have rank >= 1");
        var ad = a.Rank == 1 ? new[] { Dim.Of(1), a[0] } : a.Dims.ToArray();
        var bd = b.Rank == 1 ? new[] { b[0], Dim.Of(1) } : b.Dims.ToArray();
        Dim ka = ad[^1], kb = bd[^2];
        if (ka.IsKnown && kb.IsKnown && ka.Value != kb.Value) throw Error(n, Codes.ShapeMismatch, $"inner dims differ: {a} x {b}");
        var batch = Broadcast(n, new Shape(ad[..^2]), new Shape(bd[..^2]));
        var dims = batch.Dims.ToList();
        if (a.Rank != 1) dims.Add(ad[^2]);
        if (b.Rank != 1) dims.Add(bd[^1]);
        Set(n, 0, Input(n, 0).Elem, new Shape(dims.ToArray()));
    }

    private sealed record Plan(int M, int N, int K, long[] AOffsets, long[] BOffsets, long YStride);

    private static Plan Make(Node n)
    {
        var a = n.Inputs[0]!.Shape.ToLongs();
        var b = n.Inputs[1]!.Shape.ToLongs();
        var ad = a.Length == 1 ? new[] { 1L, a[0] } : a;
        var bd = b.Length == 1 ? new[] { b[0], 1L } : b;
        int M = (int)ad[^2], K = (int)ad[^1], N = (int)bd[^1];
        long[] ab = ad[..^2], bb = bd[..^2];
        if (bb.All(d => d == 1) && ab.Length > 0)
        {
            // B is shared: A's batch is just more rows.
            return new Plan(checked((int)(ab.Aggregate(1L, (x, y) => x * y) * M)), N, K, [0], [0], 0);
        }
        int r = Math.Max(ab.Length, bb.Length);
        var outB = new long[r];
        var pa = Enumerable.Repeat(1L, r - ab.Length).Concat(ab).ToArray();
        var pb = Enumerable.Repeat(1L, r - bb.Length).Concat(bb).ToArray();
        for (int i = 0; i < r; i++) outB[i] = Math.Max(pa[i], pb[i]);
        long count = outB.Aggregate(1L, (x, y) => x * y);
        var ao = new long[count];
        var bo = new long[count];
        for (long i = 0; i < count; i++)
        {
            ao[i] = ConstEval.BroadcastIndex(i, outB, pa) * M * K;
            bo[i] = ConstEval.BroadcastIndex(i, outB, pb) * K * N;
        }
        return new Plan(M, N, K, ao, bo, (long)M * N);
    }

    public override void Select(Node n)
    {
        var p = Make(n);
        if (n.Outputs[0].Elem != ElementType.Float)
        {
            n.Kernel = "GemmT.Run[scalar]" + (p.AOffsets.Length > 1 ? $"x{p.AOffsets.Length}" : "");
            return;
        }
        n.Kernel = (p.M == 1 ? "Gemm.Run[gemv]" : Small(p) ? "SmallGemm.Run" : "Gemm.Run[blocked]") + (p.AOffsets.Length > 1 ? $"x{p.AOffsets.Length}" : "") + (n.In(2) != null ? "+bias" : "") + ConvOp.EpilogueSuffix(n);
    }

    /// <summary>Small products (B within L1) skip the packing of the blocked kernel: <see cref="Runtime.Kernels.SmallGemm"/>.</summary>
    private static bool Small(Plan p) => Runtime.Kernels.SmallGemm.Fits(p.M, p.N, p.K);

    private static void Call(EmitContext e, Plan p, string a, string b, string y, string bias, string epi)
    {
        if (p.M != 1 && Small(p))
            e.W.Line($"SmallGemm.Run(m: {p.M}, n: {p.N}, k: {p.K}, {a}, lda: {p.K}, {b}, ldb: {p.N}, {y}, ldc: {p.N}, bias: {bias}, epi: {epi});");
        else
        {
            e.W.Line($"Gemm.Run(m: {p.M}, n: {p.N}, k: {p.K}, {a}, lda: {p.K}, transA: false, {b}, ldb: {p.N}, transB: false,");
            e.W.Line($"    {y}, ldc: {p.N}, alpha: 1f, beta: 0f, bias: {bias}, epi: {epi});");
        }
    }

    public override void Emit(Node n, EmitContext e)
    {
        var p = Make(n);
        string a = e.P(n.Inputs[0]!), b = e.P(n.Inputs[1]!), y = e.P(n.Outputs[0]);
        string bias = n.In(2) is { } c ? e.P(c) : "null";
        var yv = n.Outputs[0];
        bool generic = yv.Elem != ElementType.Float;
        if (p.AOffsets.Length == 1 && generic)
        {
            e.W.Line(GemmTypes.Call(yv, $"m: {p.M}, n: {p.N}, k: {p.K}, {a}, lda: {p.K}, transA: false, {b}, ldb: {p.N}, transB: false, {y}, ldc: {p.N}", 1, 0));
            return;
        }
        if (p.AOffsets.Length == 1)
        {
            Call(e, p, a, b, y, bias, ConvOp.EpilogueLiteral(n));
            return;
        }
        bool regular = p.AOffsets.Select((o, i) => o == (long)i * p.M * p.K).All(x => x) && p.BOffsets.Select((o, i) => o == (long)i * p.K * p.N).All(x => x);
        string ao = regular ? $"(long)i * {(long)p.M * p.K}" : "aOff[i]";
        string bo = regular ? $"(long)i * {(long)p.K * p.N}" : "bOff[i]";
        e.W.Open();
        if (!regular)
        {
            e.W.Line($"ReadOnlySpan<long> aOff = {EmitContext.Ints(p.AOffsets)};");
            e.W.Line($"ReadOnlySpan<long> bOff = {EmitContext.Ints(p.BOffsets)};");
        }
        e.W.Open($"for (int i = 0; i < {p.AOffsets.Length}; i++)");
        if (generic)
            e.W.Line(GemmTypes.Call(yv, $"m: {p.M}, n: {p.N}, k: {p.K}, {a} + {ao}, lda: {p.K}, transA: false, {b} + {bo}, ldb: {p.N}, transB: false, {y} + (long)i * {p.YStride}, ldc: {p.N}", 1, 0));
        else
            Call(e, p, $"{a} + {ao}", $"{b} + {bo}", $"{y} + (long)i * {p.YStride}", bias, ConvOp.EpilogueLiteral(n));
        e.W.Close();
        e.W.Close();
    }
}
