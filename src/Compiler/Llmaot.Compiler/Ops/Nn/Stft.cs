using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// STFT (opset 17): y[b, f, k] = Σ_{j &lt; L} signal[b, f·frame_step + j]·window[j]·e^(-2πi·jk/L), with L the window
/// length (or the frame_length input), frames = (signal_length - L)/frame_step + 1 and k &lt; L/2 + 1 when onesided
/// (default) else L. signal: [B, len, 1 or 2]; frame_step and frame_length constant; y: [B, frames, bins, 2].
/// </summary>
public sealed class StftOp : OpDef
{
    public override string Op => "STFT";
    public override int SinceVersion => 17;

    private sealed record Geo(int Batch, int Len, int Complex, int Frames, int FrameLength, int Step, int Bins);

    private static Geo Geometry(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        if (xs.Length != 3 || xs[2] is not (1 or 2)) throw Error(n, Codes.ShapeMismatch, $"signal [{string.Join(",", xs)}] must be [batch, length, 1 or 2]");
        int step = checked((int)ShapeHelpers.ConstShapeInput(n, 1, "frame_step")[0]);
        int frameLength;
        if (n.In(2) is { } w)
        {
            var ws = InShape(n, 2);
            if (ws.Rank != 1 || !ws[0].IsKnown) throw Error(n, Codes.ShapeMismatch, "window must be 1-D with a static length");
            frameLength = (int)ws[0].Value;
            if (n.In(3) != null && ShapeHelpers.ConstShapeInput(n, 3, "frame_length")[0] != frameLength)
                throw Error(n, Codes.ShapeMismatch, "frame_length differs from the window length");
        }
        else if (n.In(3) != null) frameLength = checked((int)ShapeHelpers.ConstShapeInput(n, 3, "frame_length")[0]);
        else throw Error(n, Codes.BadGraph, "STFT needs a window or a frame_length");
        if (step <= 0 || frameLength <= 0 || frameLength > xs[1]) throw Error(n, Codes.BadAttribute, $"frame_step {step} and frame length {frameLength} do not fit a signal of {xs[1]}");
        int frames = (int)((xs[1] - frameLength) / step + 1);
        int bins = n.Int("onesided", 1) != 0 ? frameLength / 2 + 1 : frameLength;
        return new Geo((int)xs[0], (int)xs[1], (int)xs[2], frames, frameLength, step, bins);
    }

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
            throw Error(n, Codes.UnsupportedType, $"STFT supports float32, float16 and double, not {ElementTypes.Name(x.Elem)}");
        if (n.In(2) is { } w && w.Elem != x.Elem) throw Error(n, Codes.UnsupportedType, "window and signal types differ");
        var g = Geometry(n);
        Set(n, 0, x.Elem, new Shape([g.Batch, g.Frames, g.Bins, 2L]));
    }

    public override void Select(Node n) => n.Kernel = "Signal.Stft" + (n.In(2) != null ? "+window" : "");

    public override void Emit(Node n, EmitContext e)
    {
        var g = Geometry(n);
        var x = n.Inputs[0]!;
        string w = n.In(2) is { } wv ? e.P(wv) : $"({EmitContext.T(x)}*)null";
        e.W.Line($"Signal.Stft({e.P(x)}, {w}, {e.P(n.Outputs[0])}, batch: {g.Batch}, signalLength: {g.Len}, inComplex: {g.Complex},");
        e.W.Line($"    frames: {g.Frames}, frameLength: {g.FrameLength}, step: {g.Step}, bins: {g.Bins});");
    }
}
