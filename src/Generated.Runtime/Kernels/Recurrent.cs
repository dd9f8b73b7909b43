using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// RNN, GRU and LSTM (ONNX, opsets 7-22) for one or two directions. Each batch row runs independently over time in
/// float32 with its state in scratch. Layout 0: X [S, B, I], Y [S, dirs, B, H], Y_h/Y_c/initial states [dirs, B, H];
/// layout 1: X [B, S, I], Y [B, S, dirs, H], states [B, dirs, H]. Weights: W [dirs, G·H, I], R [dirs, G·H, H],
/// B [dirs, 2·G·H] (Wb then Rb), P [dirs, 3H] (i, o, f); gates ordered RNN: i; GRU: z, r, h; LSTM: i, o, f, c.
/// Past a row's sequence length, Y is zero and the state is kept.
/// </summary>
public static unsafe partial class Recurrent
{
    /// <summary>Activation codes for <see cref="Run{T}"/>.</summary>
    public const int Tanh = 0, Sigmoid = 1, Relu = 2, Affine = 3, LeakyRelu = 4, ThresholdedRelu = 5, ScaledTanh = 6, HardSigmoid = 7, Elu = 8, Softsign = 9, Softplus = 10;

    /// <summary>Floats of scratch <see cref="Run{T}"/> needs.</summary>
    public static int ScratchFloats(int hidden, int gates) => hidden * (3 + gates);

    internal static float Act(int kind, float x, float a, float b) => kind switch
    {
        Tanh => MathF.Tanh(x),
        Sigmoid => 1f / (1f + MathF.Exp(-x)),
        Relu => MathF.Max(x, 0),
        Affine => a * x + b,
        LeakyRelu => x >= 0 ? x : a * x,
        ThresholdedRelu => x > a ? x : 0,
        ScaledTanh => a * MathF.Tanh(b * x),
        HardSigmoid => MathF.Max(0, MathF.Min(1, a * x + b)),
        Elu => x >= 0 ? x : a * (MathF.Exp(x) - 1),
        Softsign => x / (1 + MathF.Abs(x)),
        Softplus => MathF.Log(1 + MathF.Exp(x)),
        _ => x,
    };

    /// <summary>kind: 0 RNN, 1 GRU, 2 LSTM. act/alpha/beta: per direction, the cell's activations (RNN f; GRU f, g; LSTM f, g, h).</summary>
    public static void Run<T>(int kind, T* x, T* w, T* r, T* bias, int* seqLens, T* initH, T* initC, T* peep, T* y, T* yH, T* yC,
        float* scratch, int seqLen, int batch, int input, int hidden, int dirs, bool reverse, bool batchFirst,
        ReadOnlySpan<int> act, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float clip, bool linearBeforeReset)
        where T : unmanaged, INumberBase<T>
    {
        if (typeof(T) == typeof(float))
            RunF32(kind, (float*)x, (float*)w, (float*)r, (float*)bias, seqLens, (float*)initH, (float*)initC, (float*)peep, (float*)y, (float*)yH, (float*)yC,
                scratch, seqLen, batch, input, hidden, dirs, reverse, batchFirst, act, alpha, beta, clip, linearBeforeReset);
        else
            RunReference(kind, x, w, r, bias, seqLens, initH, initC, peep, y, yH, yC,
                scratch, seqLen, batch, input, hidden, dirs, reverse, batchFirst, act, alpha, beta, clip, linearBeforeReset);
    }

    /// <summary>The scalar reference of <see cref="Run{T}"/>: one dot product per gate row, one activation per element.</summary>
    internal static void RunReference<T>(int kind, T* x, T* w, T* r, T* bias, int* seqLens, T* initH, T* initC, T* peep, T* y, T* yH, T* yC,
        float* scratch, int seqLen, int batch, int input, int hidden, int dirs, bool reverse, bool batchFirst,
        ReadOnlySpan<int> act, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float clip, bool linearBeforeReset)
        where T : unmanaged, INumberBase<T>
    {
        int gates = kind == 0 ? 1 : kind == 1 ? 3 : 4, nAct = kind + 1, H = hidden;
        float* h = scratch, c = scratch + H, hn = scratch + 2 * H, g = scratch + 3 * H;
        if (y != null) new Span<T>(y, checked(seqLen * dirs * batch * H)).Clear();
        for (int d = 0; d < dirs; d++)
        {
            bool back = dirs == 2 ? d == 1 : reverse;
            T* wd = w + (long)d * gates * H * input, rd = r + (long)d * gates * H * H;
            T* wb = bias == null ? null : bias + (long)d * 2 * gates * H;
            T* pd = peep == null ? null : peep + (long)d * 3 * H;
            int a0 = d * nAct;
            for (int b = 0; b < batch; b++)
            {
                long stateOff = batchFirst ? ((long)b * dirs + d) * H : ((long)d * batch + b) * H;
                for (int j = 0; j < H; j++)
                {
                    h[j] = initH != null ? float.CreateTruncating(initH[stateOff + j]) : 0;
                    c[j] = initC != null ? float.CreateTruncating(initC[stateOff + j]) : 0;
                }
                int len = seqLens != null ? Math.Min(seqLens[b], seqLen) : seqLen;
                for (int step = 0; step < len; step++)
                {
                    int t = back ? len - 1 - step : step;
                    T* xt = x + (batchFirst ? (long)b * seqLen + t : (long)t * batch + b) * input;
                    // g = W·x + Wb (+ R·h + Rb, except GRU's h gate which mixes in the reset gate).
                    for (int k = 0; k < gates * H; k++)
                    {
                        float s = wb != null ? float.CreateTruncating(wb[k]) : 0;
                        T* wr = wd + (long)k * input;
                        for (int i = 0; i < input; i++) s += float.CreateTruncating(wr[i]) * float.CreateTruncating(xt[i]);
                        if (!(kind == 1 && k >= 2 * H))
                        {
                            if (wb != null) s += float.CreateTruncating(wb[gates * H + k]);
                            T* rr = rd + (long)k * H;
                            for (int i = 0; i < H; i++) s += float.CreateTruncating(rr[i]) * h[i];
                        }
                        g[k] = s;
                    }
                    if (kind == 0)
                        for (int j = 0; j < H; j++) hn[j] = Act(act[a0], Clip(g[j], clip), alpha[a0], beta[a0]);
                    else if (kind == 1)
                    {
                        for (int j = 0; j < 2 * H; j++) g[j] = Act(act[a0], Clip(g[j], clip), alpha[a0], beta[a0]);
                        for (int j = 0; j < H; j++)
                        {
                            float z = g[j], rg = g[H + j];
                            T* rr = rd + (long)(2 * H + j) * H;
                            float rb = wb != null ? float.CreateTruncating(wb[gates * H + 2 * H + j]) : 0;
                            float rec = 0;
                            if (linearBeforeReset)
                            {
                                for (int i = 0; i < H; i++) rec += float.CreateTruncating(rr[i]) * h[i];
                                rec = rg * (rec + rb);
                            }
                            else
                            {
                                for (int i = 0; i < H; i++) rec += float.CreateTruncating(rr[i]) * g[H + i] * h[i];
                                rec += rb;
                            }
                            float ht = Act(act[a0 + 1], Clip(g[2 * H + j] + rec, clip), alpha[a0 + 1], beta[a0 + 1]);
                            hn[j] = (1 - z) * ht + z * h[j];
                        }
                    }
                    else
                    {
                        for (int j = 0; j < H; j++)
                        {
                            float pi = pd != null ? float.CreateTruncating(pd[j]) : 0, po = pd != null ? float.CreateTruncating(pd[H + j]) : 0, pf = pd != null ? float.CreateTruncating(pd[2 * H + j]) : 0;
                            float ig = Act(act[a0], Clip(g[j] + pi * c[j], clip), alpha[a0], beta[a0]);
                            float fg = Act(act[a0], Clip(g[2 * H + j] + pf * c[j], clip), alpha[a0], beta[a0]);
                            float cg = Act(act[a0 + 1], Clip(g[3 * H + j], clip), alpha[a0 + 1], beta[a0 + 1]);
                            float cn = fg * c[j] + ig * cg;
                            float og = Act(act[a0], Clip(g[H + j] + po * cn, clip), alpha[a0], beta[a0]);
                            c[j] = cn;
                            hn[j] = og * Act(act[a0 + 2], cn, alpha[a0 + 2], beta[a0 + 2]);
                        }
                    }
                    new Span<float>(hn, H).CopyTo(new Span<float>(h, H));
                    if (y != null)
                    {
                        T* yt = y + (batchFirst ? ((long)b * seqLen + t) * dirs + d : ((long)t * dirs + d) * batch + b) * H;
                        for (int j = 0; j < H; j++) yt[j] = T.CreateTruncating(h[j]);
                    }
                }
                for (int j = 0; j < H; j++)
                {
                    if (yH != null) yH[stateOff + j] = T.CreateTruncating(h[j]);
                    if (yC != null) yC[stateOff + j] = T.CreateTruncating(c[j]);
                }
            }
        }
    }

    internal static float Clip(float x, float clip) => clip > 0 ? MathF.Max(-clip, MathF.Min(clip, x)) : x;
}
