using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// Resize (opset 10, 11, 13, 18, 19): y[o] = Σ_taps Π_d w_d · x[idx], separable per axis. For each axis the output
/// coordinate maps back by coordinate_transformation_mode (half_pixel, half_pixel_symmetric, pytorch_half_pixel,
/// align_corners, asymmetric, tf_crop_and_resize with roi and extrapolation_value); mode nearest (nearest_mode
/// round_prefer_floor/ceil, floor, ceil), linear or cubic (cubic_coeff_a, exclude_outside), antialias for linear and
/// cubic; scales or sizes, axes, keep_aspect_ratio_policy. The taps are computed here at compile time (so roi, scales
/// and sizes must be constant); the kernel only gathers and weighs.
/// Also serves Upsample (opset 7, 9; deprecated): scales (attribute in 7, input in 9), asymmetric coordinates,
/// nearest rounding down, like Resize-10.
/// </summary>
public sealed class ResizeOp(string op = "Resize") : OpDef
{
    public override string Op => op;
    public override int SinceVersion => op == "Resize" ? 10 : 7;

    internal sealed record Plan(long[] OutShape, double[] Scales);

    private Plan MakePlan(Node n)
    {
        var xs = InShape(n, 0);
        if (!xs.IsStatic) throw Error(n, Codes.UnboundDim, "Resize needs a static input shape");
        var inShape = xs.ToLongs();
        int r = inShape.Length;
        int scalesIn = n.Opset < 11 || op == "Upsample" ? 1 : 2, sizesIn = n.Opset < 11 ? -1 : 3;
        double[]? scales = null;
        long[]? sizes = null;
        if (n.Attrs.TryGetValue("scales", out var sa) && op == "Upsample") scales = sa.Floats.Select(f => (double)f).ToArray();
        else if (n.In(scalesIn) is { } sv && !(sv.Type.Shape is { } ss && ss.IsStatic && ss.Count == 0))
        {
            if (!sv.IsConst) throw Error(n, Codes.DataDependentShape, "the scales input must be a constant (the output shape depends on it); freeze it with --const");
            scales = sv.Const!.ToDouble(sv.Elem);
        }
        if (sizesIn > 0 && n.In(sizesIn) is { } zv && !(zv.Type.Shape is { } zs && zs.IsStatic && zs.Count == 0))
        {
            if (!zv.IsConst) throw Error(n, Codes.DataDependentShape, "the sizes input must be a constant (the output shape depends on it); freeze it with --const");
            sizes = zv.Const!.ToInt64(zv.Elem);
        }
        if ((scales == null) == (sizes == null)) throw Error(n, Codes.BadGraph, "exactly one of scales and sizes must be given");
        var axes = n.Ints("axes") is { Length: > 0 } ax ? ax.Select(a => Axis(n, a, r)).ToArray() : Enumerable.Range(0, r).ToArray();
        int given = (scales?.Length ?? sizes!.Length);
        if (given != axes.Length) throw Error(n, Codes.ShapeMismatch, $"{given} scales/sizes for {axes.Length} axes");
        var sc = Enumerable.Repeat(1.0, r).ToArray();
        var outShape = inShape.ToArray();
        if (scales != null)
        {
            for (int i = 0; i < axes.Length; i++)
            {
                if (scales[i] <= 0) throw Error(n, Codes.BadAttribute, $"scale {scales[i]} must be positive");
                sc[axes[i]] = scales[i];
                outShape[axes[i]] = (long)Math.Floor((float)scales[i] * (double)inShape[axes[i]]);
            }
        }
        else
        {
            for (int i = 0; i < axes.Length; i++) { outShape[axes[i]] = sizes![i]; sc[axes[i]] = (double)sizes[i] / inShape[axes[i]]; }
            string policy = n.Str("keep_aspect_ratio_policy", "stretch");
            if (policy != "stretch")
            {
                double s = policy switch
                {
                    "not_larger" => axes.Min(a => sc[a]),
                    "not_smaller" => axes.Max(a => sc[a]),
                    _ => throw Error(n, Codes.BadAttribute, $"keep_aspect_ratio_policy '{policy}' is not stretch, not_larger or not_smaller"),
                };
                foreach (var a in axes) { sc[a] = s; outShape[a] = (long)(s * inShape[a] + 0.5); }
            }
        }
        return new Plan(outShape, sc);
    }

    public override void Infer(Node n)
    {
        RequireUnpacked(n, Input(n, 0));
        var p = MakePlan(n);
        Set(n, 0, Input(n, 0).Elem, new Shape(p.OutShape));
    }

    /// <summary>Per-axis tap tables: taps per axis, table starts, indices (-1: extrapolate) and weights.</summary>
    internal sealed record Tables(int[] Taps, int[] Start, int[] Idx, double[] W)
    {
        public bool IsGather => Taps.All(t => t == 1) && W.All(w => w == 1) && Idx.All(i => i >= 0);
    }

    private static string Mode(Node n) => n.Str("mode", "nearest");

    internal Tables MakeTables(Node n)
    {
        var p = MakePlan(n);
        var inShape = n.Inputs[0]!.Shape.ToLongs();
        int r = inShape.Length;
        string mode = Mode(n);
        string ctm = n.Opset < 11 ? "asymmetric" : n.Str("coordinate_transformation_mode", "half_pixel");
        string nearestMode = n.Opset < 11 ? "floor" : n.Str("nearest_mode", "round_prefer_floor");
        double a = n.Float("cubic_coeff_a", -0.75f);
        bool exclude = n.Int("exclude_outside", 0) != 0, antialias = n.Int("antialias", 0) != 0;
        if (mode is not ("nearest" or "linear" or "cubic")) throw Error(n, Codes.BadAttribute, $"mode '{mode}' is not nearest, linear or cubic");
        if (antialias && mode == "nearest") throw Error(n, Codes.BadAttribute, "antialias does not apply to mode nearest");
        double[]? roi = null;
        if (ctm == "tf_crop_and_resize")
        {
            var rv = n.In(1);
            if (rv == null || !rv.IsConst) throw Error(n, Codes.DataDependentShape, "tf_crop_and_resize needs a constant roi");
            var given = rv.Const!.ToDouble(rv.Elem);
            var axes = n.Ints("axes") is { Length: > 0 } ax ? ax.Select(v => Axis(n, v, r)).ToArray() : Enumerable.Range(0, r).ToArray();
            roi = new double[2 * r];
            for (int d = 0; d < r; d++) { roi[d] = 0; roi[r + d] = 1; }
            for (int i = 0; i < axes.Length; i++) { roi[axes[i]] = given[i]; roi[r + axes[i]] = given[axes.Length + i]; }
        }

        var taps = new int[r];
        var start = new int[r];
        var idx = new List<int>();
        var w = new List<double>();
        for (int d = 0; d < r; d++)
        {
            int inW = (int)inShape[d], outW = (int)p.OutShape[d];
            double s = p.Scales[d];
            var rows = new List<(int I, double W)>[outW];
            for (int o = 0; o < outW; o++)
                rows[o] = Taps1D(o, inW, outW, s, mode, ctm, nearestMode, a, exclude, antialias, roi == null ? null : (roi[d], roi[r + d]));
            int k = Math.Max(1, rows.Max(t => t.Count));
            taps[d] = k;
            start[d] = idx.Count;
            foreach (var row in rows)
                for (int t = 0; t < k; t++)
                {
                    if (t < row.Count) { idx.Add(row[t].I); w.Add(row[t].W); }
                    else { idx.Add(row.Count > 0 && row[0].I < 0 ? -1 : 0); w.Add(0); }
                }
        }
        return new Tables(taps, start, idx.ToArray(), w.ToArray());
    }

    /// <summary>The taps of one output coordinate along one axis: (clamped input index, weight), zero weights dropped; (-1, 0) when outside the crop.</summary>
    private static List<(int, double)> Taps1D(int x, int inW, int outW, double scale, string mode, string ctm, string nearestMode,
        double a, bool exclude, bool antialias, (double Lo, double Hi)? roi)
    {
        double outWf = scale * inW;
        double xo = ctm switch
        {
            "align_corners" => outWf == 1 ? 0 : x * (inW - 1) / (outWf - 1),
            "asymmetric" => x / scale,
            "tf_crop_and_resize" => (outWf == 1 ? (roi!.Value.Hi - roi.Value.Lo) * (inW - 1) / 2 : x * (roi!.Value.Hi - roi.Value.Lo) * (inW - 1) / (outWf - 1)) + roi.Value.Lo * (inW - 1),
            "pytorch_half_pixel" => outWf == 1 ? -0.5 : (x + 0.5) / scale - 0.5,
            "half_pixel" => (x + 0.5) / scale - 0.5,
            "half_pixel_symmetric" => inW / 2.0 * (1 - outW / outWf) + (x + 0.5) / scale - 0.5,
            _ => throw new LlmaotException(Codes.BadAttribute, $"coordinate_transformation_mode '{ctm}' is not supported"),
        };
        if (ctm == "tf_crop_and_resize" && (xo < 0 || xo > inW - 1)) return [(-1, 0)];
        double ratio = xo == Math.Floor(xo) ? 1 : xo - Math.Floor(xo);
        double[] coeffs;
        if (mode == "nearest")
        {
            bool second = ratio == 1 || nearestMode switch
            {
                "round_prefer_floor" => ratio > 0.5,
                "round_prefer_ceil" => ratio >= 0.5,
                "floor" => false,
                "ceil" => true,
                _ => throw new LlmaotException(Codes.BadAttribute, $"nearest_mode '{nearestMode}' is not supported"),
            };
            coeffs = second ? [0, 1] : [1, 0];
        }
        else if (mode == "linear")
        {
            if (!antialias) coeffs = [1 - ratio, ratio];
            else
            {
                double s = Math.Min(scale, 1.0);
                int st = (int)Math.Floor(-1 / s) + 1, fp = 2 - 2 * st;
                coeffs = new double[fp];
                for (int i = 0; i < fp; i++) coeffs[i] = Math.Clamp(1 - Math.Abs((st + i - ratio) * s), 0, 1);
                double sum = coeffs.Sum();
                for (int i = 0; i < fp; i++) coeffs[i] /= sum;
            }
        }
        else
        {
            if (!antialias)
            {
                double r1 = ratio + 1, q = 1 - ratio, q1 = q + 1;
                coeffs =
                [
                    ((a * r1 - 5 * a) * r1 + 8 * a) * r1 - 4 * a,
                    ((a + 2) * ratio - (a + 3)) * ratio * ratio + 1,
                    ((a + 2) * q - (a + 3)) * q * q + 1,
                    ((a * q1 - 5 * a) * q1 + 8 * a) * q1 - 4 * a,
                ];
            }
            else
            {
                double s = Math.Min(scale, 1.0);
                int st = (int)Math.Floor(-2 / s) + 1, en = 2 - st;
                coeffs = new double[en - st];
                for (int i = st; i < en; i++)
                {
                    double v = Math.Abs(s * (i - ratio)), v2 = v * v, v3 = v2 * v;
                    coeffs[i - st] = v <= 1 ? (a + 2) * v3 - (a + 3) * v2 + 1 : v < 2 ? a * v3 - 5 * a * v2 + 8 * a * v - 4 * a : 0;
                }
                double sum = coeffs.Sum();
                for (int i = 0; i < coeffs.Length; i++) coeffs[i] /= sum;
            }
        }
        // The n nearest indices to xo (ties: the smaller) among the edge-padded range [-pad, inW + pad).
        int n = coeffs.Length, pad = (n + 1) / 2;
        int lo = Math.Max(-pad, (int)Math.Floor(xo) - n - 1), hi = Math.Min(inW + pad - 1, (int)Math.Floor(xo) + n + 1);
        var cand = new List<int>();
        for (int i = lo; i <= hi; i++) cand.Add(i);
        var chosen = cand.OrderBy(i => Math.Abs(xo - i)).ThenBy(i => i).Take(n).Order().ToList();
        if (exclude)
        {
            double sum = 0;
            for (int i = 0; i < n; i++)
            {
                if (chosen[i] < 0 || chosen[i] >= inW) coeffs[i] = 0;
                sum += coeffs[i];
            }
            for (int i = 0; i < n; i++) coeffs[i] /= sum;
        }
        var taps = new List<(int, double)>();
        for (int i = 0; i < n; i++)
            if (coeffs[i] != 0) taps.Add((Math.Clamp(chosen[i], 0, inW - 1), coeffs[i]));
        return taps;
    }

    public override void Select(Node n) => n.Kernel = MakeTables(n).IsGather ? "Resize.Gather" : "Resize.Interpolate";

    public override void Emit(Node n, EmitContext e) => EmitTables(n, e, MakeTables(n), n.Float("extrapolation_value", 0f));

    internal static void EmitTables(Node n, EmitContext e, Tables t, float extrapolation)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        if (t.IsGather)
        {
            e.W.Line($"Resize.Gather({e.P(x)}, {e.P(y)}, inShape: {EmitContext.Ints(x.Shape.ToLongs())}, outShape: {EmitContext.Ints(y.Shape.ToLongs())},");
            e.W.Line($"    start: {EmitContext.Ints(t.Start.Select(v => (long)v))}, idx: {EmitContext.Ints(t.Idx.Select(v => (long)v))});");
            return;
        }
        if (x.Elem == ElementType.Bool) throw Error(n, Codes.UnsupportedType, "bool tensors can only be resized with mode nearest");
        string ws = "[" + string.Join(", ", t.W.Select(Lit.D)) + "]";
        e.W.Line($"Resize.Interpolate({e.P(x)}, {e.P(y)}, inShape: {EmitContext.Ints(x.Shape.ToLongs())}, outShape: {EmitContext.Ints(y.Shape.ToLongs())},");
        e.W.Line($"    taps: {EmitContext.Ints(t.Taps.Select(v => (long)v))}, start: {EmitContext.Ints(t.Start.Select(v => (long)v))},");
        e.W.Line($"    idx: {EmitContext.Ints(t.Idx.Select(v => (long)v))},");
        e.W.Line($"    w: {ws}, extrapolation: {Lit.D(extrapolation)});");
    }
}
