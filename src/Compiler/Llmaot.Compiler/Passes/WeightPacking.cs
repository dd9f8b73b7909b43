using System.Globalization;
using Llmaot.Ir;
using Llmaot.Ops;
using Llmaot.Runtime;

namespace Llmaot.Passes;

/// <summary>
/// Repacks constant weights, once at compile time, into the layout the chosen kernel's microkernel reads, so nothing
/// is packed per call. Today: Conv nodes that suit the direct kernel (<see cref="ConvOp.WantsDirect"/>) get their
/// [M, C, kh, kw] weight replaced by <see cref="Runtime.Kernels.ConvDirect.PackWeights"/> output (a 1-D constant), and
/// 1x1 Convs that suit the pointwise kernel (<see cref="ConvOp.WantsPointwise"/>) by
/// <see cref="Runtime.Kernels.ConvPointwise.PackWeights"/> output (other one-group Convs with constant weights too, as
/// [M, C·k] for <see cref="Runtime.Kernels.Conv.Run2DPacked"/>; 3x3 direct candidates with enough channels as Winograd
/// transformed weights, <see cref="Runtime.Kernels.ConvWinograd.PackWeights"/>; pointwise and im2col candidates with at
/// most 4 output pixels per image k-major for <see cref="Runtime.Kernels.ConvFewPixels"/>),
/// with the facts <c>packedWeights</c> and <c>weightShape</c> recording it for kernel selection and emission.
/// The original weight constant is dropped when nothing else reads it.
/// </summary>
public static class WeightPacking
{
    public static void Run(Model m, CompileOptions o)
    {
        var g = m.Graph;
        foreach (var n in ControlFlow.AllNodes(g).ToList())
        {
            if (n.Domain != "" || n.Op != "Conv" || n.Facts.ContainsKey(ConvOp.PackedFact)) continue;
            bool pointwise = ConvOp.WantsPointwise(n);
            bool im2col = !pointwise && ConvOp.WantsPackedIm2Col(n);
            if (!pointwise && !im2col && !ConvOp.WantsDirect(n)) continue;
            var w = n.Inputs[1]!;
            var d = w.Shape.ToInts();
            float[] packed;
            bool winograd = !pointwise && !im2col && ConvOp.WantsWinograd(n);
            bool few = (pointwise || im2col) && ConvOp.WantsFewPixels(n);
            if (few)
            {
                int kk = d.Skip(1).Aggregate(1, (a, b) => a * b);
                packed = new float[Runtime.Kernels.ConvFewPixels.PackedWeightFloats(d[0], kk)];
                Runtime.Kernels.ConvFewPixels.PackWeights(w.Const!.As<float>(), packed, d[0], kk);
            }
            else if (winograd)
            {
                packed = new float[Runtime.Kernels.ConvWinograd.PackedWeightFloats(d[0], d[1])];
                Runtime.Kernels.ConvWinograd.PackWeights(w.Const!.As<float>(), packed, d[0], d[1]);
            }
            else if (pointwise || im2col)
            {
                int kk = d.Skip(1).Aggregate(1, (a, b) => a * b);
                packed = new float[Runtime.Kernels.ConvPointwise.PackedWeightFloats(d[0], kk)];
                Runtime.Kernels.ConvPointwise.PackWeights(w.Const!.As<float>(), packed, d[0], kk);
            }
            else
            {
                packed = new float[Runtime.Kernels.ConvDirect.PackedWeightFloats(d[0], d[1], d[2], d[3])];
                Runtime.Kernels.ConvDirect.PackWeights(w.Const!.As<float>(), packed, d[0], d[1], d[2], d[3]);
            }
            long count = packed.Length;
            var pv = m.NewValue(w.Name + "/packed", new TensorType(ElementType.Float, new Shape([count])));
            pv.Const = TensorData.Of<float>(packed);
            g.Constants.Add(pv);
            n.Facts[ConvOp.PackedFact] = few ? "fewpixels" : pointwise ? "pointwise" : im2col ? "im2col" : winograd ? "winograd" : "direct";
            n.Facts[ConvOp.WeightShapeFact] = string.Join(",", d.Select(v => v.ToString(CultureInfo.InvariantCulture)));
            n.Inputs[1] = pv;
            bool stillUsed = ControlFlow.AllGraphs(g).Any(b => b.Outputs.Contains(w)) || ControlFlow.AllNodes(g).Any(u => u.Inputs.Contains(w));
            if (!stillUsed) g.Constants.Remove(w);
        }
    }
}
