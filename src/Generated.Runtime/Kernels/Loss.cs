using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Loss functions that inference graphs compute (NegativeLogLikelihoodLoss, SoftmaxCrossEntropyLoss).</summary>
public static unsafe class Loss
{
    /// <summary>No reduction: one loss per target element.</summary>
    public const int None = 0;
    /// <summary>Sum of the weighted losses.</summary>
    public const int Sum = 1;
    /// <summary>Sum of the weighted losses divided by the sum of the weights of the targets that were not ignored.</summary>
    public const int Mean = 2;

    /// <summary>
    /// Negative log-likelihood of x [batch, classes, inner] (log-probabilities) at target [batch, inner]:
    /// loss[b, i] = -x[b, t, i] * weight[t] with t = target[b, i] (weight null: 1), 0 where t == ignoreIndex
    /// (when <paramref name="hasIgnore"/>). <paramref name="reduction"/> is <see cref="None"/> (y [batch, inner]),
    /// <see cref="Sum"/> or <see cref="Mean"/> (y a scalar). Computed in double. Throws on a target outside [0, classes).
    /// </summary>
    public static void NegativeLogLikelihood<T, TIdx>(T* x, TIdx* target, T* weight, T* y, long batch, long classes, long inner,
        bool hasIgnore, long ignoreIndex, int reduction)
        where T : unmanaged, INumberBase<T> where TIdx : unmanaged, IBinaryInteger<TIdx>
    {
        double sum = 0, wsum = 0;
        for (long b = 0; b < batch; b++)
            for (long i = 0; i < inner; i++)
            {
                long t = long.CreateTruncating(target[b * inner + i]);
                double l = 0;
                if (!(hasIgnore && t == ignoreIndex))
                {
                    if (t < 0 || t >= classes)
                        throw new IndexOutOfRangeException($"LLMAOT9021: target {t} is outside [0, {classes}) and is not the ignore_index");
                    double w = weight == null ? 1.0 : double.CreateTruncating(weight[t]);
                    l = -double.CreateTruncating(x[(b * classes + t) * inner + i]) * w;
                    wsum += w;
                }
                if (reduction == None) y[b * inner + i] = T.CreateSaturating(l);
                else sum += l;
            }
        if (reduction == Sum) y[0] = T.CreateSaturating(sum);
        else if (reduction == Mean) y[0] = T.CreateSaturating(sum / wsum);
    }
}
