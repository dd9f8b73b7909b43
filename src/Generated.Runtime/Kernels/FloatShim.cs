namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Widening and narrowing copies that let the float32 kernels (normalizations, reductions, softmax) serve float16 and
/// bfloat16 tensors: the compiler widens the inputs into scratch, runs the float32 kernel and narrows the outputs.
/// </summary>
public static unsafe class FloatShim
{
    /// <summary>y[i] = (float)x[i].</summary>
    public static void Widen(Half* x, float* y, long n)
    {
        for (long i = 0; i < n; i++) y[i] = (float)x[i];
    }

    /// <summary>y[i] = (float)x[i].</summary>
    public static void Widen(BFloat16* x, float* y, long n)
    {
        for (long i = 0; i < n; i++) y[i] = (float)x[i];
    }

    /// <summary>y[i] = (Half)x[i] (round to nearest even).</summary>
    public static void Narrow(float* x, Half* y, long n)
    {
        for (long i = 0; i < n; i++) y[i] = (Half)x[i];
    }

    /// <summary>y[i] = (BFloat16)x[i].</summary>
    public static void Narrow(float* x, BFloat16* y, long n)
    {
        for (long i = 0; i < n; i++) y[i] = (BFloat16)x[i];
    }
}
