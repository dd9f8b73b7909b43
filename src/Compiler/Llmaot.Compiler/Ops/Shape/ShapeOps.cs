namespace Llmaot.Ops;

/// <summary>The family of shape, indexing and data-movement ops (Slice, Split, Expand, Tile, Pad, Range, ...). Each op lives in its own file beside this one.</summary>
public static class ShapeOps
{
    public static IEnumerable<OpDef> All() => [];
}
