namespace Llmaot.Ops;

/// <summary>The family of reductions, normalizations and losses (ReduceSum, LayerNormalization, ...). Each op lives in its own file beside this one.</summary>
public static class ReduceOps
{
    public static IEnumerable<OpDef> All() =>
    [
        .. ReduceOp.Table(),
        new LayerNormalizationOp(), new RmsNormalizationOp(), new GroupNormalizationOp(), new InstanceNormalizationOp(),
        new LpNormalizationOp(), new MeanVarianceNormalizationOp(), new LrnOp(), new HardmaxOp(),
        new NegativeLogLikelihoodLossOp(), new SoftmaxCrossEntropyLossOp(),
    ];
}
