using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// com.microsoft MatMulNBits(A, B, scales, zero_points?, g_idx?, bias?): y = A · dequant(B)ᵀ (+ bias) with B holding N rows of
/// K quantized weights in blocks of block_size (16..256) at bits 4 or 8, one float scale per block and optional packed uint8
/// zero points (default 2^(bits-1)). Float A and scales; g_idx is not supported. Runs on <see cref="Runtime.Kernels.NBits"/>:
/// the weights stay packed.
/// </summary>
public sealed class MatMulNBitsOp : OpDef
{
    public override string Domain => ContribOps.Domain;
    public override string Op => "MatMulNBits";

    private static (int K, int N, int Bits, int Block, int KBlocks) Params(Node n)
    {
        int k = (int)n.Int("K", 0), nn = (int)n.Int("N", 0), bits = (int)n.Int("bits", 4), block = (int)n.Int("block_size", 0);
        if (k <= 0 || nn <= 0) throw Error(n, Codes.BadAttribute, "attributes K and N are required");
        if (bits is not (4 or 8)) throw Error(n, Codes.UnsupportedOp, $"bits={bits} is not supported (4 and 8 are)");
        if (block < 16 || (block & (block - 1)) != 0 || block > 256) throw Error(n, Codes.BadAttribute, $"block_size {block} must be a power of two in [16, 256]");
        if (bits == 4 && block % 32 != 0) throw Error(n, Codes.UnsupportedOp, "4-bit blocks of 16 are not supported yet (32 to 256 are)");
        return (k, nn, bits, block, (k + block - 1) / block);
    }

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        RequireFloat(n, a);
        var (k, nn, bits, block, kb) = Params(n);
        var s = InShape(n, 0);
        if (s.Rank < 1 || s[s.Rank - 1].IsKnown && s[s.Rank - 1].Value != k) throw Error(n, Codes.ShapeMismatch, $"A {s} must end in K = {k}");
        var bShape = InShape(n, 1).ToLongs();
        if (bShape.Length != 3 || bShape[0] != nn || bShape[1] != kb || bShape[2] != block * bits / 8)
            throw Error(n, Codes.ShapeMismatch, $"B [{string.Join(",", bShape)}] must be [{nn},{kb},{block * bits / 8}]");
        if (Input(n, 2).Elem != ElementType.Float) throw Error(n, Codes.UnsupportedType, "scales must be float32");
        if (n.In(3) is { } zp && zp.Elem != ElementType.UInt8) throw Error(n, Codes.UnsupportedType, "zero points must be packed uint8");
        if (n.In(4) != null) throw Error(n, Codes.UnsupportedOp, "g_idx is not supported");
        Set(n, 0, ElementType.Float, new Shape(s.Dims.Take(s.Rank - 1).Append(Dim.Of(nn)).ToArray()));
    }

    public override void Select(Node n)
    {
        var (k, nn, bits, block, kb) = Params(n);
        n.ScratchBytes = bits == 4 ? (long)kb * block * 4 : 0;
        n.Kernel = $"NBits.MatVec{bits}[block {block}]" + (n.In(5) != null ? "+bias" : "");
    }

    public override void Emit(Node n, EmitContext e)
    {
        var (k, nn, bits, block, kb) = Params(n);
        var a = n.Inputs[0]!;
        var y = n.Outputs[0];
        long rows = a.Shape.Count / k;
        string zp = n.In(3) is { } z ? e.Bytes(z) : "null";
        e.W.Open($"for (long r = 0; r < {rows}; r++)");
        e.W.Line($"float* yr = {e.P(y)} + r * {nn};");
        if (bits == 4)
        {
            string perm = EmitContext.Scratch(n);
            e.W.Line($"NBits.PermuteActivations4({e.P(a)} + r * {k}, {perm}, k: {k}, kPadded: {kb * block});");
            e.W.Line($"NBits.MatVec4({perm}, {e.Bytes(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {zp}, yr, kBlocks: {kb}, blockSize: {block}, rowStart: 0, rowEnd: {nn});");
        }
        else
            e.W.Line($"NBits.MatVec8({e.P(a)} + r * {k}, {e.Bytes(n.Inputs[1]!)}, {e.P(n.Inputs[2]!)}, {zp}, yr, k: {k}, kBlocks: {kb}, blockSize: {block}, rowStart: 0, rowEnd: {nn});");
        if (n.In(5) is { } bias) e.W.Line($"Elementwise.Binary<AddOp<float>, float>(yr, {e.P(bias)}, yr, {nn});");
        e.W.Close();
    }
}
