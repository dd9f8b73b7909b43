using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// HannWindow, HammingWindow and BlackmanWindow (opset 17): y[i] for i &lt; size, with N = size when periodic (default)
/// else size - 1 and θ = 2π·i/N: Hann 0.5 - 0.5·cos θ; Hamming 25/46 - (21/46)·cos θ; Blackman
/// 0.42 - 0.5·cos θ + 0.08·cos 2θ. output_datatype (default float) sets the type. The size decides the shape, so it must
/// be constant: the window folds at compile time.
/// </summary>
public sealed class WindowOp(string op) : OpDef
{
    public override string Op => op;
    public override int SinceVersion => 17;

    private static ElementType OutType(Node n)
    {
        var t = (ElementType)n.Int("output_datatype", 1);
        if (!ShapeHelpers.IsNumeric(t)) throw Error(n, Codes.UnsupportedType, $"output_datatype {ElementTypes.Name(t)} is not supported");
        return t;
    }

    private static long Size(Node n)
    {
        long s = ShapeHelpers.ConstShapeInput(n, 0, "size")[0];
        if (s < 0 || s > ConstEval.MaxFoldElements) throw Error(n, Codes.BadAttribute, $"window size {s} is out of range");
        return s;
    }

    public override void Infer(Node n) => Set(n, 0, OutType(n), new Shape([Size(n)]));

    public override TensorData[]? Fold(Node n)
    {
        long size = Size(n);
        double N = n.Int("periodic", 1) != 0 ? size : size - 1;
        var v = new double[size];
        for (long i = 0; i < size; i++)
        {
            double t = N == 0 ? 0 : 2 * Math.PI * i / N;
            v[i] = Op switch
            {
                "HannWindow" => 0.5 - 0.5 * Math.Cos(t),
                "HammingWindow" => 25.0 / 46 - 21.0 / 46 * Math.Cos(t),
                _ => 0.42 - 0.5 * Math.Cos(t) + 0.08 * Math.Cos(2 * t),
            };
        }
        return [ConstEval.FromDoubles(OutType(n), v)];
    }

    public override void Emit(Node n, EmitContext e) => throw Error(n, Codes.Internal, $"{Op} always folds");
}
