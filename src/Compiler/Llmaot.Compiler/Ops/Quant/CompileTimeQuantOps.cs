using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Ops;

/// <summary>
/// The ops that <see cref="Passes.WeightQuantization"/> (<c>--quantize</c>) puts in place of float Conv, MatMul and Gemm nodes.
/// They live in llmaot's own domain and never come from a model file.
/// </summary>
public static class CompileTimeQuantOps
{
    /// <summary>The domain of llmaot's internal ops.</summary>
    public const string Domain = "llmaot";

    /// <summary>Fact: how a <see cref="QConvInt8Op"/> runs ("pointwise", "im2col", "winograd" or "depthwise").</summary>
    internal const string KindFact = "qkind";

    /// <summary>Fact: a <see cref="QuantGemmOp"/> that computes a convolution ("conv").</summary>
    internal const string ConvFact = "qconv";

    public static IEnumerable<OpDef> All() => [new QConvInt8Op(), new QuantGemmOp()];

    /// <summary>Output types were inferred on the float node this one replaced; they stay.</summary>
    internal static void KeepTypes(Node n)
    {
        foreach (var o in n.Outputs)
            if (o.Type.Shape == null) throw new Diagnostics.LlmaotException(Diagnostics.Codes.BadGraph, n, "internal op without an inferred output shape");
    }

    internal static (int N, int C, int H, int W, int M, int KH, int KW, int OH, int OW, int SH, int SW, int PT, int PL, int DH, int DW) Conv2D(Node n)
    {
        var g = ConvOp.Geometry(n);
        var x = n.Inputs[0]!.Shape.ToInts();
        var w = ConvOp.WeightDims(n);
        return (x[0], x[1], x[2], x[3], w[0], g.Kernel[0], g.Kernel[1], g.Out[0], g.Out[1], g.Strides[0], g.Strides[1], g.PadsBegin[0], g.PadsBegin[1], g.Dilations[0], g.Dilations[1]);
    }
}

/// <summary>
/// llmaot.QConvInt8(X, Wq, scale, wsum?, B?): a 2-D float convolution whose weights were quantized to int8 at compile time
/// (one scale per output channel). "pointwise" and "im2col" run <see cref="ConvInt8"/>'s integer dot products on activations
/// quantized per pixel; "depthwise" and "winograd" widen their int8 weights per call and run the float kernel.
/// </summary>
public sealed class QConvInt8Op : OpDef
{
    public override string Domain => CompileTimeQuantOps.Domain;
    public override string Op => "QConvInt8";

    public override void Infer(Node n) => CompileTimeQuantOps.KeepTypes(n);

    public override void Select(Node n)
    {
        var (N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW) = CompileTimeQuantOps.Conv2D(n);
        string kind = n.Facts[CompileTimeQuantOps.KindFact];
        string bias = n.In(4) != null ? "+bias" : "";
        switch (kind)
        {
            case "pointwise":
                n.ScratchBytes = ConvInt8.ScratchBytes(C);
                n.Kernel = "ConvInt8.RunPointwise[int8 6x16]" + bias + ConvOp.EpilogueSuffix(n);
                break;
            case "im2col":
                n.ScratchBytes = ConvInt8.ScratchBytesIm2Col(C, KH, KW, OH, OW);
                n.Kernel = "ConvInt8.RunIm2Col[im2col+int8 6x16]" + bias + ConvOp.EpilogueSuffix(n);
                break;
            case "winograd":
                n.ScratchBytes = ConvInt8.ScratchBytesWinograd(C, M, OH, OW);
                n.Kernel = "ConvInt8.RunWinograd[int8 weights, float F(2x2,3x3)]" + bias + ConvOp.EpilogueSuffix(n);
                break;
            default:
                n.ScratchBytes = ConvInt8.ScratchBytesDepthwise(N, C, H, W, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW);
                n.Kernel = "ConvInt8.RunDepthwise[int8 weights, float depthwise]" + bias + ConvOp.EpilogueSuffix(n);
                break;
        }
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW) = CompileTimeQuantOps.Conv2D(n);
        string x = e.P(n.Inputs[0]!), w = e.P(n.Inputs[1]!), s = e.P(n.Inputs[2]!), y = e.P(n.Outputs[0]);
        string bias = n.In(4) is { } b ? e.P(b) : "null";
        string scratch = EmitContext.Scratch(n, "byte");
        switch (n.Facts[CompileTimeQuantOps.KindFact])
        {
            case "pointwise":
                e.W.Line($"ConvInt8.RunPointwise({x}, {w}, {s}, {e.P(n.Inputs[3]!)}, {bias}, {y}, n: {N}, c: {C}, hw: {(long)H * W}, m: {M},");
                e.W.Line($"    scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
                break;
            case "im2col":
                e.W.Line($"ConvInt8.RunIm2Col({x}, {w}, {s}, {e.P(n.Inputs[3]!)}, {bias}, {y},");
                e.W.Line($"    n: {N}, c: {C}, h: {H}, wIn: {W}, m: {M}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
                e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW}, scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
                break;
            case "winograd":
                e.W.Line($"ConvInt8.RunWinograd({x}, {w}, {s}, {bias}, {y}, n: {N}, c: {C}, h: {H}, wIn: {W}, m: {M}, oh: {OH}, ow: {OW},");
                e.W.Line($"    padTop: {PT}, padLeft: {PL}, scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
                break;
            default:
                e.W.Line($"ConvInt8.RunDepthwise({x}, {w}, {s}, {bias}, {y}, n: {N}, c: {C}, h: {H}, wIn: {W}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
                e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW}, scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
                break;
        }
    }
}

/// <summary>
/// llmaot.QuantGemm(A, Wq, scale?, B?): y = epi(A·Wᵀ + B) with W's n rows of k weights quantized at compile time (attribute
/// "format": int8 per row, q8_0 or q4_0 blocks of 32; rows zero-padded to a multiple of 32). With the fact "qconv" it is a
/// one-group 2-D convolution (the Conv attributes are kept) whose patches are the rows of A.
/// </summary>
public sealed class QuantGemmOp : OpDef
{
    public override string Domain => CompileTimeQuantOps.Domain;
    public override string Op => "QuantGemm";

    public override void Infer(Node n) => CompileTimeQuantOps.KeepTypes(n);

    internal static QuantFormat Format(Node n) => n.Str("format", "int8") switch
    {
        "q8_0" => QuantFormat.Q8_0,
        "q4_0" => QuantFormat.Q4_0,
        _ => QuantFormat.Int8,
    };

    public override void Select(Node n)
    {
        int k = (int)n.Int("K", 0), nn = (int)n.Int("N", 0);
        n.ScratchBytes = QuantGemm.ScratchBytes(k, nn);
        string f = n.Str("format", "int8");
        n.Kernel = (n.Facts.ContainsKey(CompileTimeQuantOps.ConvFact) ? $"QuantGemm.RunConv[{f}, patch per pixel]" : $"QuantGemm.Run[{f}]")
            + (n.In(3) != null ? "+bias" : "") + ConvOp.EpilogueSuffix(n);
    }

    public override void Emit(Node n, EmitContext e)
    {
        int k = (int)n.Int("K", 0), nn = (int)n.Int("N", 0);
        string f = "QuantFormat." + Format(n);
        string a = e.P(n.Inputs[0]!), w = e.Bytes(n.Inputs[1]!), y = e.P(n.Outputs[0]);
        string s = n.In(2) is { } sv ? e.P(sv) : "null";
        string bias = n.In(3) is { } b ? e.P(b) : "null";
        string scratch = EmitContext.Scratch(n, "byte");
        if (n.Facts.ContainsKey(CompileTimeQuantOps.ConvFact))
        {
            var (N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW) = CompileTimeQuantOps.Conv2D(n);
            e.W.Line($"QuantGemm.RunConv({f}, {a}, {w}, {s}, {bias}, {y}, n: {N}, c: {C}, h: {H}, wIn: {W}, m: {M}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
            e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW}, scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
            return;
        }
        long m = n.Inputs[0]!.Shape.Count / k;
        e.W.Line($"QuantGemm.Run({f}, {a}, m: {m}, k: {k}, lda: {k}, {w}, {s}, {bias}, {y}, n: {nn}, ldy: {nn}, scratch: {scratch}, epi: {ConvOp.EpilogueLiteral(n)});");
    }
}
