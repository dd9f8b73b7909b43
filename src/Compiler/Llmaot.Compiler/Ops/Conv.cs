using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Conv (opset 1, 11): Y = X * W (+ B), NCHW, with groups, pads, strides, dilations, auto_pad.
/// W: [M, C/group, k...]. Fusion may attach an activation (Facts["activation"]) that runs in the kernel's epilogue.
/// 1-D and 2-D float32 convolutions take the tuned kernels; float16, double and 3-D convolutions take the direct
/// N-d reference kernel (<see cref="Runtime.Kernels.ConvNd"/>, no fused epilogue).
/// </summary>
public sealed class ConvOp : OpDef
{
    public override string Op => "Conv";

    /// <summary>Fact set by the WeightPacking pass: the weight input holds <see cref="Runtime.Kernels.ConvDirect.PackWeights"/> output.</summary>
    internal const string PackedFact = "packedWeights";

    /// <summary>Fact set with <see cref="PackedFact"/>: the original weight shape "m,c,kh,kw".</summary>
    internal const string WeightShapeFact = "weightShape";

    /// <summary>The weight shape [M, C/group, k...], from the original weight when it was packed.</summary>
    internal static int[] WeightDims(Node n) => n.Facts.TryGetValue(WeightShapeFact, out var ws)
        ? ws.Split(',').Select(s => int.Parse(s, System.Globalization.CultureInfo.InvariantCulture)).ToArray()
        : n.Inputs[1]!.Shape.ToInts();

    internal static ConvGeometry Geometry(Node n)
    {
        var x = InShape(n, 0);
        var ks = n.Ints("kernel_shape");
        int[] kernel;
        if (ks is { Length: > 0 }) kernel = ks.Select(k => checked((int)k)).ToArray();
        else if (n.Facts.ContainsKey(WeightShapeFact)) kernel = WeightDims(n)[2..];
        else
        {
            var w = InShape(n, 1);
            kernel = Enumerable.Range(2, w.Rank - 2).Select(i => w[i].IsKnown ? (int)w[i].Value : throw Error(n, Codes.UnboundDim, "weight dims are symbolic")).ToArray();
        }
        return ConvGeometry.From(n, x, kernel);
    }

    /// <summary>
    /// True when the direct kernel (<see cref="Runtime.Kernels.ConvDirect"/>) suits this Conv: 2-D, constant float weights,
    /// stride 1, dilation 1, one group, a real window (not 1x1), few channels (where im2col+GEMM would mostly move data),
    /// and output rows of at least 4 pixels. The WeightPacking pass packs the weights of exactly these nodes.
    /// </summary>
    internal static bool WantsDirect(Node n)
    {
        if (n.Inputs[0]?.Type.Shape is not { Rank: 4, IsStatic: true } || n.Inputs[1] is not { IsConst: true, Elem: ElementType.Float } w
            || w.Type.Shape is not { Rank: 4, IsStatic: true }) return false;
        if (n.In(2) is { } b && (!b.IsConst || b.Elem != ElementType.Float)) return false;
        var g = Geometry(n);
        var (_, C, _, _, M, KH, KW, _, OW, SH, SW, _, _, DH, DW, G) = Args(n, g);
        return Runtime.Kernels.ConvDirect.Supports(SH, SW, DH, DW, G) && KH * KW > 1 && OW >= 4
            && M <= 64 && (long)C * KH * KW <= 1600;
    }

    /// <summary>True when this Conv takes the generic N-d path: a non-float32 type or 3 spatial dims.</summary>
    internal static bool UsesGeneric(Node n) => n.Inputs[0]!.Elem != ElementType.Float || n.Inputs[0]!.Type.Shape is { Rank: 5 };

    /// <summary>
    /// True when the pointwise kernel (<see cref="Runtime.Kernels.ConvPointwise"/>) suits this Conv: 1-D or 2-D, static input,
    /// constant float weights (and bias), a 1x1 window, stride 1, no padding, one group. The WeightPacking pass packs the
    /// weights of exactly these nodes.
    /// </summary>
    internal static bool WantsPointwise(Node n)
    {
        if (n.Inputs[0]?.Type.Shape is not { Rank: 3 or 4, IsStatic: true } || n.Inputs[1] is not { IsConst: true, Elem: ElementType.Float } w
            || w.Type.Shape is not { IsStatic: true } ws || ws.Rank != n.Inputs[0]!.Shape.Rank) return false;
        if (n.In(2) is { } b && (!b.IsConst || b.Elem != ElementType.Float)) return false;
        var g = Geometry(n);
        return n.Int("group", 1) == 1 && g.Kernel.All(k => k == 1) && g.Strides.All(s => s == 1)
            && g.PadsBegin.All(p => p == 0) && g.In.SequenceEqual(g.Out);
    }

    /// <summary>
    /// True when the weights should be packed for <see cref="Runtime.Kernels.Conv.Run2DPacked"/> (im2col + pointwise tile):
    /// 1-D or 2-D, static input, constant float weights (and bias), one group, a real window or stride or padding (not a plain
    /// 1x1), and not a direct-kernel candidate.
    /// </summary>
    internal static bool WantsPackedIm2Col(Node n)
    {
        if (n.Inputs[0]?.Type.Shape is not { Rank: 3 or 4, IsStatic: true } || n.Inputs[1] is not { IsConst: true, Elem: ElementType.Float } w
            || w.Type.Shape is not { IsStatic: true } ws || ws.Rank != n.Inputs[0]!.Shape.Rank) return false;
        if (n.In(2) is { } b && (!b.IsConst || b.Elem != ElementType.Float)) return false;
        return n.Int("group", 1) == 1 && !WantsPointwise(n) && !WantsDirect(n);
    }

    /// <summary>
    /// True when a pointwise or im2col candidate has at most <see cref="Runtime.Kernels.ConvFewPixels.MaxPixels"/> output
    /// pixels per image: <see cref="Runtime.Kernels.ConvFewPixels"/> (output channels as vector lanes) then suits it better
    /// than a pixel-tiled kernel.
    /// </summary>
    internal static bool WantsFewPixels(Node n)
    {
        if (n.Inputs[0]?.Type.Shape is not { Rank: 3 or 4, IsStatic: true }) return false;
        var (_, _, _, _, _, _, _, OH, OW, _, _, _, _, _, _, _) = Args(n, Geometry(n));
        return (long)OH * OW <= Runtime.Kernels.ConvFewPixels.MaxPixels;
    }

    /// <summary>
    /// True when Winograd F(2x2, 3x3) (<see cref="Runtime.Kernels.ConvWinograd"/>) suits this Conv: a direct-kernel candidate
    /// with a 3x3 window, at least 32 input and 8 output channels and outputs of at least 8x8 (where the 2.25x fewer
    /// multiplications outweigh the transforms).
    /// </summary>
    internal static bool WantsWinograd(Node n)
    {
        if (!WantsDirect(n)) return false;
        var (_, C, _, _, M, KH, KW, OH, OW, _, _, _, _, _, _, _) = Args(n, Geometry(n));
        return KH == 3 && KW == 3 && C >= 32 && M >= 8 && OH >= 8 && OW >= 8;
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"input '{x.Name}' is {ElementTypes.Name(x.Elem)}; Conv supports float32, float16 and double");
        for (int i = 1; i < n.Inputs.Count; i++)
            if (n.In(i) is { } v && v.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, $"input {i} ('{v.Name}') differs in type from X");
        var xs = InShape(n, 0);
        var ws = InShape(n, 1);
        if (ws.Rank != xs.Rank) throw Error(n, Codes.ShapeMismatch, $"weight shape {ws} and input shape {xs} differ in rank");
        if (xs.Rank > 5) throw Error(n, Codes.UnsupportedOp, $"{xs.Rank - 2}-D convolution is not supported yet (1-D to 3-D are)");
        long group = n.Int("group", 1);
        if (group <= 0) throw Error(n, Codes.BadAttribute, $"group must be positive, got {group}");
        if (xs[1].IsKnown && ws[1].IsKnown && xs[1].Value != ws[1].Value * group)
            throw Error(n, Codes.ShapeMismatch, $"input has {xs[1]} channels but weight {ws} with group {group} expects {ws[1].Value * group}");
        if (ws[0].IsKnown && ws[0].Value % group != 0) throw Error(n, Codes.ShapeMismatch, $"{ws[0]} output channels are not divisible by group {group}");
        var g = Geometry(n);
        var dims = new List<Dim> { xs[0], ws[0] };
        dims.AddRange(g.Out.Select(o => Dim.Of(o)));
        Set(n, 0, x.Elem, new Shape(dims.ToArray()));
    }

    public override void Select(Node n)
    {
        if (UsesGeneric(n))
        {
            n.Kernel = $"ConvNd.Run[{n.Inputs[0]!.Shape.Rank - 2}D,direct]" + (n.In(2) != null ? "+bias" : "");
            return;
        }
        var g = Geometry(n);
        var (N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW, G) = Args(n, g);
        if (n.Facts.TryGetValue(PackedFact, out var pk) && pk == "winograd")
        {
            n.ScratchBytes = Runtime.Kernels.ConvWinograd.ScratchFloats(C, M, OH, OW) * 4;
            n.Kernel = "ConvWinograd.Run[F(2x2,3x3)]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
            return;
        }
        if (pk == "fewpixels")
        {
            n.ScratchBytes = Runtime.Kernels.ConvFewPixels.ScratchFloats(C, H, W, KH, KW, OH, OW, SH, SW, PT, PL) * 4;
            n.Kernel = "ConvFewPixels.Run[k-major]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
            return;
        }
        if (pk == "im2col")
        {
            n.ScratchBytes = Runtime.Kernels.Conv.ScratchFloatsPacked(C, KH, KW, OH, OW) * 4;
            n.Kernel = "Conv.Run2DPacked[im2col+6x16]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
            return;
        }
        if (pk == "pointwise")
        {
            n.ScratchBytes = 0;
            n.Kernel = "ConvPointwise.Run[6x16]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
            return;
        }
        if (n.Facts.ContainsKey(PackedFact))
        {
            n.ScratchBytes = Runtime.Kernels.ConvDirect.ScratchFloats(C, H, W, KH, KW, OH, OW, PT, PL) * 4;
            n.Kernel = "ConvDirect.Run2D[direct4x3]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
            return;
        }
        long scratch = Runtime.Kernels.Conv.ScratchFloats2D(N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW, G);
        n.ScratchBytes = scratch * 4;
        string path = G == C && G == M ? "depthwise" : scratch == 0 ? "pointwise-gemm" : "im2col+gemm";
        n.Kernel = $"Conv.Run{(n.Inputs[0]!.Shape.Rank == 3 ? 1 : 2)}D[{path}]" + (n.In(2) != null ? "+bias" : "") + EpilogueSuffix(n);
    }

    internal static string EpilogueSuffix(Node n) => n.Facts.TryGetValue("activation", out var a) ? "+" + a : "";

    internal static string EpilogueLiteral(Node n)
    {
        if (!n.Facts.TryGetValue("activation", out var a)) return "Epilogue.None";
        return a switch
        {
            "Relu" => "Epilogue.Relu",
            "Clip" => $"new Epilogue(ActivationKind.Clip, {Lit.F(float.Parse(n.Facts["alpha"], System.Globalization.CultureInfo.InvariantCulture))}, {Lit.F(float.Parse(n.Facts["beta"], System.Globalization.CultureInfo.InvariantCulture))})",
            "LeakyRelu" => $"new Epilogue(ActivationKind.LeakyRelu, {Lit.F(float.Parse(n.Facts["alpha"], System.Globalization.CultureInfo.InvariantCulture))})",
            "HardSwish" => $"new Epilogue(ActivationKind.HardSwish, {Lit.F(float.Parse(n.Facts["alpha"], System.Globalization.CultureInfo.InvariantCulture))}, {Lit.F(float.Parse(n.Facts["beta"], System.Globalization.CultureInfo.InvariantCulture))})",
            _ => throw new InvalidOperationException(a),
        };
    }

    private static (int, int, int, int, int, int, int, int, int, int, int, int, int, int, int, int) Args(Node n, ConvGeometry g)
    {
        var x = n.Inputs[0]!.Shape.ToInts();
        var w = WeightDims(n);
        int G = (int)n.Int("group", 1);
        if (x.Length == 3)
            return (x[0], x[1], 1, x[2], w[0], 1, g.Kernel[0], 1, g.Out[0], 1, g.Strides[0], 0, g.PadsBegin[0], 1, g.Dilations[0], G);
        return (x[0], x[1], x[2], x[3], w[0], g.Kernel[0], g.Kernel[1], g.Out[0], g.Out[1], g.Strides[0], g.Strides[1], g.PadsBegin[0], g.PadsBegin[1], g.Dilations[0], g.Dilations[1], G);
    }

    private static long[] To3(int[] v, int fill) => Enumerable.Repeat((long)fill, 3 - v.Length).Concat(v.Select(x => (long)x)).ToArray();

    private static void EmitGeneric(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var xs = n.Inputs[0]!.Shape.ToLongs();
        string bias = n.In(2) is { } b ? e.P(b) : $"({EmitContext.T(n.Inputs[0]!)}*)null";
        e.W.Line($"ConvNd.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])}, n: {xs[0]}, c: {xs[1]}, m: {n.Outputs[0].Shape[1].Value}, group: {n.Int("group", 1)},");
        e.W.Line($"    inDims: {EmitContext.Ints(To3(g.In, 1))}, outDims: {EmitContext.Ints(To3(g.Out, 1))}, kernel: {EmitContext.Ints(To3(g.Kernel, 1))},");
        e.W.Line($"    strides: {EmitContext.Ints(To3(g.Strides, 1))}, dilations: {EmitContext.Ints(To3(g.Dilations, 1))}, padsBegin: {EmitContext.Ints(To3(g.PadsBegin, 0))});");
    }

    public override void Emit(Node n, EmitContext e)
    {
        if (UsesGeneric(n))
        {
            EmitGeneric(n, e);
            return;
        }
        var g = Geometry(n);
        var (N, C, H, W, M, KH, KW, OH, OW, SH, SW, PT, PL, DH, DW, G) = Args(n, g);
        string bias = n.In(2) is { } b ? e.P(b) : "null";
        if (n.Facts.TryGetValue(PackedFact, out var pk) && pk == "winograd")
        {
            e.W.Line($"ConvWinograd.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])},");
            e.W.Line($"    n: {N}, c: {C}, h: {H}, w: {W}, m: {M}, oh: {OH}, ow: {OW},");
            e.W.Line($"    padTop: {PT}, padLeft: {PL}, scratch: {EmitContext.Scratch(n)}, epi: {EpilogueLiteral(n)});");
            return;
        }
        if (pk is "im2col" or "fewpixels")
        {
            // Both kernels take the same arguments; they differ in the packed weight layout.
            string kernel = pk == "im2col" ? "Conv.Run2DPacked" : "ConvFewPixels.Run";
            e.W.Line($"{kernel}({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])},");
            e.W.Line($"    n: {N}, c: {C}, h: {H}, wIn: {W}, m: {M}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
            e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW},");
            e.W.Line($"    scratch: {EmitContext.Scratch(n)}, epi: {EpilogueLiteral(n)});");
            return;
        }
        if (pk == "pointwise")
        {
            e.W.Line($"ConvPointwise.Run({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])},");
            e.W.Line($"    n: {N}, c: {C}, hw: {(long)H * W}, m: {M}, epi: {EpilogueLiteral(n)});");
            return;
        }
        if (n.Facts.ContainsKey(PackedFact))
        {
            e.W.Line($"ConvDirect.Run2D({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])},");
            e.W.Line($"    n: {N}, c: {C}, h: {H}, w: {W}, m: {M}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
            e.W.Line($"    padTop: {PT}, padLeft: {PL}, scratch: {EmitContext.Scratch(n)}, epi: {EpilogueLiteral(n)});");
            return;
        }
        e.W.Line($"Conv.Run2D({e.P(n.Inputs[0]!)}, {e.P(n.Inputs[1]!)}, {bias}, {e.P(n.Outputs[0])},");
        e.W.Line($"    n: {N}, c: {C}, h: {H}, wIn: {W}, m: {M}, kh: {KH}, kw: {KW}, oh: {OH}, ow: {OW},");
        e.W.Line($"    strideH: {SH}, strideW: {SW}, padTop: {PT}, padLeft: {PL}, dilH: {DH}, dilW: {DW}, group: {G},");
        e.W.Line($"    scratch: {EmitContext.Scratch(n)}, epi: {EpilogueLiteral(n)});");
    }
}
