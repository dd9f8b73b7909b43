using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// MelWeightMatrix (opset 17): y [dft_length/2 + 1, num_mel_bins] of triangular filters. num_mel_bins + 2 points spaced
/// at steps of 1/(num_mel_bins + 2) of the range on the mel scale (2595·log10(1 + hz/700)) between lower_edge_hertz and upper_edge_hertz map to spectrogram bins
/// floor((dft_length + 1)·hz/sample_rate); filter i rises linearly from bin[i] to bin[i+1] and falls to bin[i+2].
/// num_mel_bins, dft_length and sample_rate must be constant (they decide the shape); the edges may be computed.
/// </summary>
public sealed class MelWeightMatrixOp : OpDef
{
    public override string Op => "MelWeightMatrix";
    public override int SinceVersion => 17;

    public override void Infer(Node n)
    {
        long mel = ShapeHelpers.ConstShapeInput(n, 0, "num_mel_bins")[0];
        long dft = ShapeHelpers.ConstShapeInput(n, 1, "dft_length")[0];
        ShapeHelpers.ConstShapeInput(n, 2, "sample_rate");
        if (mel <= 0 || dft <= 0) throw Error(n, Codes.BadAttribute, "num_mel_bins and dft_length must be positive");
        foreach (int i in new[] { 3, 4 })
            if (Input(n, i).Elem is not (ElementType.Float or ElementType.Double or ElementType.Float16))
                throw Error(n, Codes.UnsupportedType, "the edge frequencies must be float");
        var t = (ElementType)n.Int("output_datatype", 1);
        if (!ShapeHelpers.IsNumeric(t)) throw Error(n, Codes.UnsupportedType, $"output_datatype {ElementTypes.Name(t)} is not supported");
        Set(n, 0, t, new Shape([dft / 2 + 1, mel]));
    }

    public override void Select(Node n) => n.Kernel = "Signal.MelWeights";

    public override void Emit(Node n, EmitContext e)
    {
        long mel = ConstInts(n, 0)![0], dft = ConstInts(n, 1)![0], rate = ConstInts(n, 2)![0];
        e.W.Line($"Signal.MelWeights({e.P(n.Inputs[3]!)}, {e.P(n.Inputs[4]!)}, {e.P(n.Outputs[0])}, numMelBins: {mel}, dftLength: {dft}, sampleRate: {rate});");
    }
}
