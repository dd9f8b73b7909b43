using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// DFT (opset 17: axis attribute, default 1; opset 20: axis input, default -2): y[m, k] = Σ_{n &lt; N} x[m, n]·e^(-2πi·kn/N),
/// inverse: x[m, n] = 1/N Σ_k y[m, k]·e^(2πi·kn/N). The last dim holds real (1) or complex (2) values; N = dft_length
/// (constant; the signal is zero-padded or truncated) or the axis length. onesided=1 forward returns bins 0..N/2 (RFFT);
/// onesided=1 inverse treats the input as the one-sided spectrum of a real signal of length N (default 2·(len-1)) and
/// returns it real (IRFFT).
/// </summary>
public sealed class DftOp : OpDef
{
    public override string Op => "DFT";
    public override int SinceVersion => 17;

    private sealed record Geo(long Outer, int InLen, long Inner, int InComplex, int N, int OutLen, bool Inverse, bool Irfft, int Axis);

    private static Geo Geometry(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        int r = xs.Length;
        if (r < 2 || xs[r - 1] is not (1 or 2)) throw Error(n, Codes.ShapeMismatch, $"input [{string.Join(",", xs)}] must end in 1 (real) or 2 (complex)");
        long axis;
        if (n.Opset >= 20)
            axis = n.In(2) is { } a ? (ConstInts(n, 2) ?? throw Error(n, Codes.DataDependentShape, "the axis input must be constant"))[0] : -2;
        else axis = n.Int("axis", 1);
        if (axis < 0) axis += r;
        if (axis < 0 || axis > r - 2) throw Error(n, Codes.BadAttribute, $"axis is out of range for the signal dims of rank-{r} input");
        int ax = (int)axis;
        bool inverse = n.Int("inverse", 0) != 0, onesided = n.Int("onesided", 0) != 0;
        bool irfft = inverse && onesided;
        int inLen = checked((int)xs[ax]);
        int len;
        if (n.In(1) is { } dl)
        {
            var v = ConstInts(n, 1) ?? throw Error(n, Codes.DataDependentShape, $"dft_length ('{dl.Name}') decides the output shape; it must be constant");
            len = checked((int)v[0]);
        }
        else len = irfft ? 2 * (inLen - 1) : inLen;
        if (len <= 0) throw Error(n, Codes.BadAttribute, $"the transform length {len} must be positive");
        int outLen = irfft ? len : onesided ? len / 2 + 1 : len;
        return new Geo(ShapeHelpers.Prod(xs[..ax]), inLen, ShapeHelpers.Prod(xs[(ax + 1)..(r - 1)]), (int)xs[r - 1], len, outLen, inverse, irfft, ax);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"DFT supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        var g = Geometry(n);
        var dims = ShapeHelpers.StaticShape(n, 0);
        dims[g.Axis] = g.OutLen;
        dims[^1] = g.Irfft ? 1 : 2;
        Set(n, 0, x.Elem, new Shape(dims));
    }

    public override void Select(Node n)
    {
        var g = Geometry(n);
        n.Kernel = "Signal.Dft" + (g.Irfft ? "[irfft]" : g.Inverse ? "[inverse]" : n.Int("onesided", 0) != 0 ? "[rfft]" : "");
    }

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        e.W.Line($"Signal.Dft({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, outer: {g.Outer}, inLen: {g.InLen}, inner: {g.Inner}, inComplex: {g.InComplex},");
        e.W.Line($"    dftLength: {g.N}, outLen: {g.OutLen}, inverse: {Lit.B(g.Inverse)}, irfft: {Lit.B(g.Irfft)});");
    }
}
