using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>Spatial geometry shared by Conv and the pools: kernel, strides, dilations, pads and output sizes (ONNX rules, auto_pad included).</summary>
public sealed record ConvGeometry(int[] Kernel, int[] Strides, int[] Dilations, int[] PadsBegin, int[] PadsEnd, int[] In, int[] Out)
{
    public static ConvGeometry From(Node n, Shape x, int[] kernel, bool ceilMode = false)
    {
        int sp = x.Rank - 2;
        if (sp < 1) throw new LlmaotException(Codes.ShapeMismatch, n, $"input shape {x} needs at least 3 dims (N, C, spatial...)");
        if (kernel.Length != sp) throw new LlmaotException(Codes.BadAttribute, n, $"kernel has {kernel.Length} spatial dims but the input {x} has {sp}");
        for (int i = 0; i < sp; i++)
            if (!x[2 + i].IsKnown) throw new LlmaotException(Codes.UnboundDim, n, $"spatial dim {i} of input {x} is symbolic; bind it with --dim or --shape");
        int[] Ints(string name, int dflt)
        {
            var v = n.Ints(name);
            if (v == null || v.Length == 0) return Enumerable.Repeat(dflt, sp).ToArray();
            if (v.Length != sp) throw new LlmaotException(Codes.BadAttribute, n, $"attribute '{name}' has {v.Length} values; the input has {sp} spatial dims");
            if (v.Any(t => t <= 0)) throw new LlmaotException(Codes.BadAttribute, n, $"attribute '{name}' must be positive, got [{string.Join(",", v)}]");
            return v.Select(t => checked((int)t)).ToArray();
        }
        var strides = Ints("strides", 1);
        var dil = Ints("dilations", 1);
        var input = Enumerable.Range(0, sp).Select(i => checked((int)x[2 + i].Value)).ToArray();
        var pb = new int[sp];
        var pe = new int[sp];
        var outs = new int[sp];
        string autoPad = n.Str("auto_pad", "NOTSET");
        var pads = n.Ints("pads");
        if (pads != null && pads.Length != 0 && pads.Length != 2 * sp)
            throw new LlmaotException(Codes.BadAttribute, n, $"attribute 'pads' has {pads.Length} values; expected {2 * sp}");
        if (pads != null && pads.Any(p => p < 0)) throw new LlmaotException(Codes.BadAttribute, n, "negative pads are not supported");
        for (int i = 0; i < sp; i++)
        {
            int ek = (kernel[i] - 1) * dil[i] + 1;
            switch (autoPad)
            {
                case "SAME_UPPER":
                case "SAME_LOWER":
                    {
                        int o = (input[i] + strides[i] - 1) / strides[i];
                        int total = Math.Max((o - 1) * strides[i] + ek - input[i], 0);
                        pb[i] = autoPad == "SAME_UPPER" ? total / 2 : total - total / 2;
                        pe[i] = total - pb[i];
                        outs[i] = o;
                        break;
                    }
                case "VALID":
                    outs[i] = (input[i] - ek) / strides[i] + 1;
                    break;
                case "NOTSET":
                case "":
                    {
                        if (pads != null && pads.Length == 2 * sp) { pb[i] = (int)pads[i]; pe[i] = (int)pads[sp + i]; }
                        int span = input[i] + pb[i] + pe[i] - ek;
                        if (ceilMode)
                        {
                            int o = (span + strides[i] - 1) / strides[i] + 1;
                            // the last window must start inside the input or the begin padding
                            if ((o - 1) * strides[i] >= input[i] + pb[i]) o--;
                            outs[i] = o;
                        }
                        else outs[i] = span < 0 ? 0 : span / strides[i] + 1;
                        break;
                    }
                default:
                    throw new LlmaotException(Codes.BadAttribute, n, $"auto_pad '{autoPad}' is not one of NOTSET, SAME_UPPER, SAME_LOWER, VALID");
            }
            if (outs[i] <= 0) throw new LlmaotException(Codes.ShapeMismatch, n, $"the window ({kernel[i]} dilated by {dil[i]}) is larger than the padded input {input[i]} in spatial dim {i}");
        }
        return new ConvGeometry(kernel, strides, dil, pb, pe, input, outs);
    }
}
