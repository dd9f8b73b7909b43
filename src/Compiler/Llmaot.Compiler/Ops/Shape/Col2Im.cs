using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// Col2Im (opset 18): the inverse of im2col. x is [N, C·Π block_shape, L]; y is [N, C, image_shape...] where each
/// column entry x[n, c·K + k, l] is added at position l_d·stride_d - pad_begin_d + k_d·dilation_d on each spatial dim.
/// L must equal Π_d ((image_d + pads_d - dilation_d·(block_d - 1) - 1) / stride_d + 1). image_shape and block_shape
/// must be constant.
/// </summary>
public sealed class Col2ImOp : OpDef
{
    public override string Op => "Col2Im";

    private static (long[] Image, long[] Block, long[] Blocks, long[] Dil, long[] PadB, long[] Str) Geometry(Node n)
    {
        var xs = ShapeHelpers.StaticShape(n, 0);
        var image = ShapeHelpers.ConstShapeInput(n, 1, "image shape");
        var block = ShapeHelpers.ConstShapeInput(n, 2, "block shape");
        int r = image.Length;
        if (block.Length != r || xs.Length != 3) throw Error(n, Codes.ShapeMismatch, "input must be [N, C·K, L] and image_shape, block_shape of equal length");
        var dil = n.Ints("dilations") ?? Enumerable.Repeat(1L, r).ToArray();
        var str = n.Ints("strides") ?? Enumerable.Repeat(1L, r).ToArray();
        var pads = n.Ints("pads") ?? new long[2 * r];
        if (dil.Length != r || str.Length != r || pads.Length != 2 * r) throw Error(n, Codes.BadAttribute, "dilations, strides and pads must match the spatial rank");
        var blocks = new long[r];
        for (int d = 0; d < r; d++)
            blocks[d] = (image[d] + pads[d] + pads[d + r] - dil[d] * (block[d] - 1) - 1) / str[d] + 1;
        if (ShapeHelpers.Prod(blocks) != xs[2]) throw Error(n, Codes.ShapeMismatch, $"the input has {xs[2]} blocks but the geometry gives {ShapeHelpers.Prod(blocks)}");
        if (xs[1] % ShapeHelpers.Prod(block) != 0) throw Error(n, Codes.ShapeMismatch, $"dim 1 ({xs[1]}) is not a multiple of the block size {ShapeHelpers.Prod(block)}");
        return (image, block, blocks, dil, pads[..r], str);
    }

    public override void Infer(Node n)
    {
        ShapeHelpers.RequireNumeric(n, Input(n, 0));
        var xs = ShapeHelpers.StaticShape(n, 0);
        var (image, block, _, _, _, _) = Geometry(n);
        Set(n, 0, Input(n, 0).Elem, new Shape(new[] { xs[0], xs[1] / ShapeHelpers.Prod(block) }.Concat(image).ToArray()));
    }

    public override void Select(Node n) => n.Kernel = "Indexing.Col2Im";

    public override void Emit(Node n, EmitContext e)
    {
        var y = n.Outputs[0];
        if (y.Shape.Count == 0) { e.W.Line("// empty output: nothing to do"); return; }
        var (image, block, blocks, dil, padB, str) = Geometry(n);
        var ys = y.Shape.ToLongs();
        e.W.Line($"Indexing.Col2Im({e.P(n.Inputs[0]!)}, {e.P(y)}, nc: {ys[0] * ys[1]}, image: {EmitContext.Ints(image)}, block: {EmitContext.Ints(block)}, blocks: {EmitContext.Ints(blocks)}, dilations: {EmitContext.Ints(dil)}, padsBegin: {EmitContext.Ints(padB)}, strides: {EmitContext.Ints(str)});");
    }
}
