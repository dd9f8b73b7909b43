namespace Llmaot.Ops;

/// <summary>The family of neural-network ops (ConvTranspose, Resize, RNN/LSTM/GRU, Attention, Einsum, ...). Each op lives in its own file beside this one.</summary>
public static class NnOps
{
    public static IEnumerable<OpDef> All() =>
    [
        new AttentionOp(),
        new ResizeOp("Resize"),
        new ResizeOp("Upsample"),
        new ConvTransposeOp(),
        new RotaryEmbeddingOp(),
        new RecurrentOp("RNN"),
        new RecurrentOp("GRU"),
        new RecurrentOp("LSTM"),
        new EinsumOp(),
        new PoolOp("LpPool"),
        new GlobalPoolOp("GlobalLpPool"),
        new GridSampleOp(),
        new AffineGridOp(),
        new DftOp(),
        new StftOp(),
        new WindowOp("HannWindow"),
        new WindowOp("HammingWindow"),
        new WindowOp("BlackmanWindow"),
        new MelWeightMatrixOp(),
        new SwiGluOp(),
        new TensorScatterOp(),
        new MaxUnpoolOp(),
        new LinearAttentionOp(),
        new CausalConvWithStateOp(),
        new RoiAlignOp(),
        new DeformConvOp(),
        new NonMaxSuppressionOp(),
        new UniqueOp(),
        new TfIdfVectorizerOp(),
    ];
}
