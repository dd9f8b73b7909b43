using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Recurrent linear attention (ONNX LinearAttention-27), the state kept in double.</summary>
public static unsafe class LinearAttention
{
    /// <summary>Update rules.</summary>
    public const int Linear = 0, Gated = 1, Delta = 2, GatedDelta = 3;

    /// <summary>
    /// Per batch b, kv head h and step t with S = state[b, h] (dk x dv, from past or zeros): gated rules first scale row i
    /// of S by exp(decay[b, t, h, i]) (decayDim dk) or exp(decay[b, t, h]) (decayDim 1); then linear/gated add k⊗v,
    /// delta rules add k⊗β(v - Sᵀk) with β = beta[b, t, h] (betaHeads kvHeads) or beta[b, t] (betaHeads 1).
    /// Query head g reads kv head g / (qHeads/kvHeads): y[b, t, g, :] = scale·qᵀS. q: [B, T, qHeads·dk],
    /// k/decay: [B, T, kvHeads·dk], v: [B, T, kvHeads·dv], y: [B, T, qHeads·dv], past/present: [B, kvHeads, dk, dv].
    /// </summary>
    public static void Run<T>(T* q, T* k, T* v, T* past, T* decay, T* beta, T* y, T* present, int batch, int seq, int qHeads, int kvHeads,
        int dk, int dv, int decayDim, int betaHeads, int rule, double scale, double* state) where T : unmanaged, INumberBase<T>
    {
        long stateSize = (long)batch * kvHeads * dk * dv;
        for (long i = 0; i < stateSize; i++) state[i] = past != null ? double.CreateTruncating(past[i]) : 0;
        int group = qHeads / kvHeads;
        Span<double> kv = stackalloc double[dv];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < seq; t++)
            {
                long row = (long)b * seq + t;
                for (int h = 0; h < kvHeads; h++)
                {
                    double* S = state + ((long)b * kvHeads + h) * dk * dv;
                    T* kr = k + (row * kvHeads + h) * dk;
                    T* vr = v + (row * kvHeads + h) * dv;
                    if (rule is Gated or GatedDelta)
                        for (int i = 0; i < dk; i++)
                        {
                            double g = Math.Exp(double.CreateTruncating(decayDim == 1 ? decay[row * kvHeads + h] : decay[(row * kvHeads + h) * dk + i]));
                            for (int j = 0; j < dv; j++) S[i * dv + j] *= g;
                        }
                    if (rule is Delta or GatedDelta)
                    {
                        double bt = double.CreateTruncating(betaHeads == 1 ? beta[row] : beta[row * kvHeads + h]);
                        for (int j = 0; j < dv; j++)
                        {
                            double s = 0;
                            for (int i = 0; i < dk; i++) s += S[i * dv + j] * double.CreateTruncating(kr[i]);
                            kv[j] = bt * (double.CreateTruncating(vr[j]) - s);
                        }
                    }
                    else
                        for (int j = 0; j < dv; j++) kv[j] = double.CreateTruncating(vr[j]);
                    for (int i = 0; i < dk; i++)
                    {
                        double ki = double.CreateTruncating(kr[i]);
                        for (int j = 0; j < dv; j++) S[i * dv + j] += ki * kv[j];
                    }
                    for (int gq = h * group; gq < (h + 1) * group; gq++)
                    {
                        T* qr = q + (row * qHeads + gq) * dk;
                        T* yr = y + (row * qHeads + gq) * dv;
                        for (int j = 0; j < dv; j++)
                        {
                            double s = 0;
                            for (int i = 0; i < dk; i++) s += double.CreateTruncating(qr[i]) * S[i * dv + j];
                            yr[j] = T.CreateTruncating(scale * s);
                        }
                    }
                }
            }
        for (long i = 0; i < stateSize; i++) present[i] = T.CreateTruncating(state[i]);
    }

    /// <summary>
    /// CausalConvWithState: per (b, c) the row p = past[b, c, :] (k - 1 values, zeros when null) followed by x[b, c, :]
    /// (len values); y[b, c, t] = bias[c] + Σ_{i &lt; k} w[c, i]·p[t + i], then y·sigmoid(y) when silu (computed on the
    /// value rounded to T); present[b, c, :] = the last k - 1 values of p.
    /// </summary>
    public static void CausalConv<T>(T* x, T* w, T* bias, T* past, T* y, T* present, int batch, int channels, int len, int k, bool silu)
        where T : unmanaged, INumberBase<T>
    {
        int pad = k - 1;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < channels; c++)
            {
                long bc = (long)b * channels + c;
                T* xr = x + bc * len;
                T* pr = past != null ? past + bc * pad : null;
                T* wr = w + (long)c * k;
                for (int t = 0; t < len; t++)
                {
                    double acc = bias != null ? double.CreateTruncating(bias[c]) : 0;
                    for (int i = 0; i < k; i++)
                    {
                        int j = t + i;
                        T p = j < pad ? (pr != null ? pr[j] : T.Zero) : xr[j - pad];
                        acc += double.CreateTruncating(wr[i]) * double.CreateTruncating(p);
                    }
                    if (silu)
                    {
                        double r = double.CreateTruncating(T.CreateTruncating(acc));
                        acc = r / (1 + Math.Exp(-r));
                    }
                    y[bc * len + t] = T.CreateTruncating(acc);
                }
                T* st = present + bc * pad;
                for (int j = 0; j < pad; j++)
                {
                    int src = len + j;
                    st[j] = src < pad ? (pr != null ? pr[src] : T.Zero) : xr[src - pad];
                }
            }
    }
}
