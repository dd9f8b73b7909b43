using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Signal processing: DFT (ONNX DFT-17/20), STFT-17 and MelWeightMatrix-17, accumulated in double.</summary>
public static unsafe class Signal
{
    /// <summary>The largest transform length whose twiddle table lives on the stack; longer ones compute each angle.</summary>
    private const int MaxTable = 4096;

    private static void FillTable(Span<double> cos, Span<double> sin, int n)
    {
        for (int m = 0; m < n; m++) (sin[m], cos[m]) = Math.SinCos(2 * Math.PI * m / n);
    }

    /// <summary>
    /// DFT along one axis. x: [outer, inLen, inner, inComplex (1 or 2)], y: [outer, outLen, inner, 2] (or 1 when
    /// <paramref name="irfft"/>). The signal is zero-padded or truncated to n = dftLength. Forward:
    /// Y[k] = Σ_j x[j]·e^(-2πi·jk/n) for k &lt; outLen (n, or n/2 + 1 one-sided); inverse: the sign is + and the sum is
    /// divided by n. irfft: x holds the one-sided spectrum X[0..n/2] of a Hermitian signal and y the real x[j] for j &lt; n.
    /// </summary>
    public static void Dft<T>(T* x, T* y, long outer, int inLen, long inner, int inComplex, int dftLength, int outLen, bool inverse, bool irfft)
        where T : unmanaged, INumberBase<T>
    {
        int n = dftLength;
        bool table = n <= MaxTable;
        Span<double> cs = table ? stackalloc double[n] : default;
        Span<double> sn = table ? stackalloc double[n] : default;
        if (table) FillTable(cs, sn, n);
        double sign = inverse ? 1 : -1, scale = inverse ? 1.0 / n : 1;
        int outComplex = irfft ? 1 : 2;
        for (long o = 0; o < outer; o++)
            for (long i = 0; i < inner; i++)
            {
                T* xs = x + (o * inLen * inner + i) * inComplex;
                T* ys = y + (o * outLen * inner + i) * outComplex;
                long xStep = inner * inComplex, yStep = inner * outComplex;
                for (int k = 0; k < outLen; k++)
                {
                    double re = 0, im = 0;
                    if (!irfft)
                    {
                        int len = Math.Min(inLen, n);
                        for (int j = 0; j < len; j++)
                        {
                            long m = (long)j * k % n;
                            double c = table ? cs[(int)m] : Math.Cos(2 * Math.PI * m / n), s = sign * (table ? sn[(int)m] : Math.Sin(2 * Math.PI * m / n));
                            double a = double.CreateTruncating(xs[j * xStep]), b = inComplex == 2 ? double.CreateTruncating(xs[j * xStep + 1]) : 0;
                            re += a * c - b * s;
                            im += a * s + b * c;
                        }
                        ys[k * yStep] = T.CreateTruncating(re * scale);
                        ys[k * yStep + 1] = T.CreateTruncating(im * scale);
                    }
                    else
                    {
                        // Full Hermitian spectrum: X[j] for j <= n/2 from the input, X[n - j] = conj(X[j]).
                        for (int j = 0; j < n; j++)
                        {
                            int src = j <= n / 2 ? j : n - j;
                            if (src >= inLen) continue;
                            double a = double.CreateTruncating(xs[src * xStep]), b = inComplex == 2 ? double.CreateTruncating(xs[src * xStep + 1]) : 0;
                            if (j > n / 2) b = -b;
                            long m = (long)j * k % n;
                            double c = table ? cs[(int)m] : Math.Cos(2 * Math.PI * m / n), s = table ? sn[(int)m] : Math.Sin(2 * Math.PI * m / n);
                            re += a * c - b * s;
                        }
                        ys[k * yStep] = T.CreateTruncating(re * scale);
                    }
                }
            }
    }

    /// <summary>
    /// STFT: y[b, f, k] = Σ_{j &lt; frameLength} x[b, f·step + j]·w[j]·e^(-2πi·jk/frameLength) for k &lt; bins.
    /// x: [batch, signalLength, complex (1 or 2)], window: [frameLength] or null (all ones), y: [batch, frames, bins, 2].
    /// </summary>
    public static void Stft<T>(T* x, T* window, T* y, int batch, int signalLength, int inComplex, int frames, int frameLength, int step, int bins)
        where T : unmanaged, INumberBase<T>
    {
        int n = frameLength;
        bool table = n <= MaxTable;
        Span<double> cs = table ? stackalloc double[n] : default;
        Span<double> sn = table ? stackalloc double[n] : default;
        if (table) FillTable(cs, sn, n);
        for (int b = 0; b < batch; b++)
            for (int f = 0; f < frames; f++)
            {
                T* xs = x + ((long)b * signalLength + (long)f * step) * inComplex;
                T* ys = y + (((long)b * frames + f) * bins) * 2;
                for (int k = 0; k < bins; k++)
                {
                    double re = 0, im = 0;
                    for (int j = 0; j < n; j++)
                    {
                        double w = window != null ? double.CreateTruncating(window[j]) : 1;
                        long m = (long)j * k % n;
                        double c = table ? cs[(int)m] : Math.Cos(2 * Math.PI * m / n), s = -(table ? sn[(int)m] : Math.Sin(2 * Math.PI * m / n));
                        double a = w * double.CreateTruncating(xs[j * inComplex]), bb = inComplex == 2 ? w * double.CreateTruncating(xs[j * inComplex + 1]) : 0;
                        re += a * c - bb * s;
                        im += a * s + bb * c;
                    }
                    ys[2 * k] = T.CreateTruncating(re);
                    ys[2 * k + 1] = T.CreateTruncating(im);
                }
            }
    }

    /// <summary>
    /// MelWeightMatrix: y [dftLength/2 + 1, numMelBins] holds triangular filters between numMelBins + 2 points spaced
    /// evenly on the mel scale (step (high - low)/(numMelBins + 2)) (mel = 2595·log10(1 + hz/700)) from lowerHz to upperHz, each point mapped to the spectrogram
    /// bin floor((dftLength + 1)·hz / sampleRate).
    /// </summary>
    public static void MelWeights<TIn, T>(TIn* lowerHz, TIn* upperHz, T* y, int numMelBins, int dftLength, int sampleRate)
        where TIn : unmanaged, INumberBase<TIn> where T : unmanaged, INumberBase<T>
    {
        int bins = dftLength / 2 + 1;
        for (long i = 0; i < (long)bins * numMelBins; i++) y[i] = T.Zero;
        double lowMel = 2595 * Math.Log10(1 + double.CreateTruncating(*lowerHz) / 700);
        double highMel = 2595 * Math.Log10(1 + double.CreateTruncating(*upperHz) / 700);
        double step = (highMel - lowMel) / (numMelBins + 2);
        for (int i = 0; i < numMelBins; i++)
        {
            long left = Bin(lowMel + i * step, dftLength, sampleRate);
            long center = Bin(lowMel + (i + 1) * step, dftLength, sampleRate);
            long right = Bin(lowMel + (i + 2) * step, dftLength, sampleRate);
            if (right > bins || left < 0) throw new ArgumentOutOfRangeException(nameof(upperHz), "LLMAOT9021: MelWeightMatrix edges fall outside the spectrogram bins");
            long up = center - left;
            if (up == 0) { if (center < bins) y[center * numMelBins + i] = T.One; }
            else
                for (long j = left; j <= center && j < bins; j++) y[j * numMelBins + i] = T.CreateTruncating((double)(j - left) / up);
            long down = right - center;
            if (down > 0)
                for (long j = center; j < right && j < bins; j++) y[j * numMelBins + i] = T.CreateTruncating((double)(right - j) / down);
        }
    }

    private static long Bin(double mel, int dftLength, int sampleRate)
    {
        double hz = 700 * (Math.Pow(10, mel / 2595) - 1);
        return (long)Math.Floor((dftLength + 1) * hz / sampleRate);
    }
}
