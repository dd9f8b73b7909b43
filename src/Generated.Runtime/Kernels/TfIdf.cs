using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>TfIdfVectorizer (ONNX 9) over integer tokens.</summary>
public static unsafe class TfIdf
{
    /// <summary>Weighting modes.</summary>
    public const int Tf = 0, Idf = 1, TfIdf_ = 2;

    /// <summary>
    /// For each row of x [batch, len] and each n in [minN, maxN] and skip in [0, maxSkip] (only 0 for n = 1): every
    /// n-gram x[i], x[i + skip + 1], ... that equals a pool n-gram k adds 1 to count[indexes[k]]. The pool holds the
    /// n-grams of length n + 1 from offset starts[n] (to starts[n + 1] or the end), numbered in pool order.
    /// y [batch, outSize] = count (TF), min(count, 1)·weight (IDF) or count·weight (TFIDF); weights empty means 1.
    /// </summary>
    public static void Run<TI>(TI* x, float* y, int batch, int len, int minN, int maxN, int maxSkip, ReadOnlySpan<long> pool,
        ReadOnlySpan<long> starts, ReadOnlySpan<long> indexes, ReadOnlySpan<float> weights, int mode, int outSize) where TI : unmanaged, IBinaryInteger<TI>
    {
        for (int b = 0; b < batch; b++)
        {
            float* yr = y + (long)b * outSize;
            for (int i = 0; i < outSize; i++) yr[i] = 0;
            TI* xr = x + (long)b * len;
            long gramBase = 0;
            for (int g = 0; g < starts.Length; g++)
            {
                int n = g + 1;
                long start = starts[g], end = g + 1 < starts.Length ? starts[g + 1] : pool.Length;
                long grams = (end - start) / n;
                if (n >= minN && n <= maxN)
                    for (int skip = 0; skip <= (n == 1 ? 0 : maxSkip); skip++)
                        for (long i = 0; i + (long)(n - 1) * (skip + 1) < len; i++)
                            for (long k = 0; k < grams; k++)
                            {
                                bool match = true;
                                for (int t = 0; t < n && match; t++)
                                    match = long.CreateTruncating(xr[i + (long)t * (skip + 1)]) == pool[(int)(start + k * n + t)];
                                if (match) yr[indexes[(int)(gramBase + k)]] += 1;
                            }
                gramBase += grams;
            }
            for (int k = 0; k < indexes.Length; k++)
            {
                long o = indexes[k];
                float w = weights.Length > 0 ? weights[k] : 1;
                if (mode == Idf) yr[o] = yr[o] > 0 ? w : 0;
                else if (mode == TfIdf_) yr[o] *= w;
            }
        }
    }
}
