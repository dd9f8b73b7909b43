namespace Llmaot.Ops;

/// <summary>The family of shape, indexing and data-movement ops (Slice, Split, Expand, Tile, Pad, Range, ...). Each op lives in its own file beside this one.</summary>
public static class ShapeOps
{
    public static IEnumerable<OpDef> All() =>
    [
        new SizeOp(), new ConstantOfShapeOp(), new RangeOp(), new EyeLikeOp(),
        new SliceOp(), new ExpandOp(), new TileOp(), new DepthToSpaceOp(), new SpaceToDepthOp(),
        new SplitOp(), new PadOp(), new CenterCropPadOp(), new TriluOp(),
        new GatherElementsOp(), new GatherNDOp(), new ScatterElementsOp(), new ScatterElementsOp("Scatter"), new ScatterNDOp(),
        new OneHotOp(), new CumulativeOp("CumSum"), new CumulativeOp("CumProd"), new TopKOp(),
        new ArgExtremeOp("ArgMax"), new ArgExtremeOp("ArgMin"), new ReverseSequenceOp(), new Col2ImOp(),
        new NonZeroOp(), new CompressOp(), // Unique and NonMaxSuppression: Ops/Nn (family F)
    ];
}
