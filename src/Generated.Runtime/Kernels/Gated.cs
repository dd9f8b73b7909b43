using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Gated activations: SwiGLU (ONNX 28).</summary>
public static unsafe class Gated
{
    /// <summary>y[i] = a[i]·sigmoid(alpha·a[i])·b[i], computed in float (double for double).</summary>
    public static void SwiGlu<T>(T* a, T* b, T* y, long count, float alpha) where T : unmanaged, INumberBase<T>
    {
        for (long i = 0; i < count; i++)
        {
            double x = double.CreateTruncating(a[i]);
            y[i] = T.CreateTruncating(x / (1 + Math.Exp(-alpha * x)) * double.CreateTruncating(b[i]));
        }
    }
}
