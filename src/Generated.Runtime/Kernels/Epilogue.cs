namespace Llmaot.Runtime.Kernels;

/// <summary>The activation fused into the output of a Conv, Gemm or MatMul kernel.</summary>
public enum ActivationKind
{
    /// <summary>y = x</summary>
    None = 0,
    /// <summary>y = max(x, 0)</summary>
    Relu = 1,
    /// <summary>y = min(max(x, Alpha), Beta)</summary>
    Clip = 2,
    /// <summary>y = x &gt;= 0 ? x : Alpha * x</summary>
    LeakyRelu = 3,
    /// <summary>
    /// y = (x * min(max(x + 3, 0), 6) / 6) * Alpha + Beta: hard swish as the graph spells it (Add 3, Clip 0..6, Mul, Div 6),
    /// then an optional per-tensor affine (Alpha = 1, Beta = 0 when there is none). The division is a multiplication by
    /// 1/6 (within one ulp of the separate Div, and many times cheaper in vector epilogues).
    /// </summary>
    HardSwish = 4,
}

/// <summary>
/// What a producing kernel applies to each output element after accumulation:
/// y = act(acc + bias[channel]). Passed by value; an all-zero instance means "nothing".
/// </summary>
public readonly record struct Epilogue(ActivationKind Kind, float Alpha = 0f, float Beta = 0f)
{
    /// <summary>No activation.</summary>
    public static Epilogue None => default;
    /// <summary>ReLU.</summary>
    public static Epilogue Relu => new(ActivationKind.Relu);
}
