using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

public static unsafe partial class Recurrent
{
    /// <summary>
    /// The float32 path of <see cref="Run{T}"/>: per step the gate pre-activations are two blocked matrix-vector products
    /// (W·x, then R·h, four rows at a time with FMA), and the activations run vectorized over whole gate blocks
    /// (<see cref="ApplyAct"/>). Same results as <see cref="RunReference{T}"/> up to float summation order.
    /// </summary>
    internal static void RunF32(int kind, float* x, float* w, float* r, float* bias, int* seqLens, float* initH, float* initC, float* peep, float* y, float* yH, float* yC,
        float* scratch, int seqLen, int batch, int input, int hidden, int dirs, bool reverse, bool batchFirst,
        ReadOnlySpan<int> act, ReadOnlySpan<float> alpha, ReadOnlySpan<float> beta, float clip, bool linearBeforeReset)
    {
        int gates = kind == 0 ? 1 : kind == 1 ? 3 : 4, nAct = kind + 1, H = hidden, G = gates * H;
        // c doubles as the GRU's recurrent h-gate buffer (GRU has no cell state).
        float* h = scratch, c = scratch + H, hn = scratch + 2 * H, g = scratch + 3 * H;
        if (y != null) new Span<float>(y, checked(seqLen * dirs * batch * H)).Clear();
        for (int d = 0; d < dirs; d++)
        {
            bool back = dirs == 2 ? d == 1 : reverse;
            float* wd = w + (long)d * G * input, rd = r + (long)d * G * H;
            float* wb = bias == null ? null : bias + (long)d * 2 * G;
            float* rb = wb == null ? null : wb + G;
            float* pd = peep == null ? null : peep + (long)d * 3 * H;
            int a0 = d * nAct;
            // GRU's h gate takes its recurrent product separately (through the reset gate).
            int recRows = kind == 1 ? 2 * H : G;
            for (int b = 0; b < batch; b++)
            {
                long stateOff = batchFirst ? ((long)b * dirs + d) * H : ((long)d * batch + b) * H;
                for (int j = 0; j < H; j++)
                {
                    h[j] = initH != null ? initH[stateOff + j] : 0;
                    c[j] = initC != null && kind == 2 ? initC[stateOff + j] : 0;
                }
                int len = seqLens != null ? Math.Min(seqLens[b], seqLen) : seqLen;
                for (int step = 0; step < len; step++)
                {
                    int t = back ? len - 1 - step : step;
                    float* xt = x + (batchFirst ? (long)b * seqLen + t : (long)t * batch + b) * input;
                    for (int k = 0; k < G; k++) g[k] = wb == null ? 0 : k < recRows ? wb[k] + rb[k] : wb[k];
                    RowDotsAdd(wd, xt, input, G, g);
                    RowDotsAdd(rd, h, H, recRows, g);
                    if (kind == 0)
                        ApplyAct(act[a0], g, hn, H, alpha[a0], beta[a0], clip);
                    else if (kind == 1)
                    {
                        ApplyAct(act[a0], g, g, 2 * H, alpha[a0], beta[a0], clip);
                        float* z = g, rg = g + H, gh = g + 2 * H, rbh = rb == null ? null : rb + 2 * H;
                        float* rh = rd + (long)2 * H * H;
                        new Span<float>(c, H).Clear();
                        if (linearBeforeReset)
                        {
                            RowDotsAdd(rh, h, H, H, c);
                            for (int j = 0; j < H; j++) gh[j] += rg[j] * (c[j] + (rbh == null ? 0 : rbh[j]));
                        }
                        else
                        {
                            for (int j = 0; j < H; j++) hn[j] = rg[j] * h[j];
                            RowDotsAdd(rh, hn, H, H, c);
                            for (int j = 0; j < H; j++) gh[j] += c[j] + (rbh == null ? 0 : rbh[j]);
                        }
                        ApplyAct(act[a0 + 1], gh, gh, H, alpha[a0 + 1], beta[a0 + 1], clip);
                        for (int j = 0; j < H; j++) hn[j] = (1 - z[j]) * gh[j] + z[j] * h[j];
                    }
                    else if (pd == null)
                    {
                        // i, o, f share the gate activation; c~ takes the second.
                        ApplyAct(act[a0], g, g, 3 * H, alpha[a0], beta[a0], clip);
                        ApplyAct(act[a0 + 1], g + 3 * H, g + 3 * H, H, alpha[a0 + 1], beta[a0 + 1], clip);
                        float* ig = g, og = g + H, fg = g + 2 * H, cg = g + 3 * H;
                        for (int j = 0; j < H; j++) c[j] = fg[j] * c[j] + ig[j] * cg[j];
                        ApplyAct(act[a0 + 2], c, hn, H, alpha[a0 + 2], beta[a0 + 2], 0);
                        for (int j = 0; j < H; j++) hn[j] *= og[j];
                    }
                    else
                    {
                        for (int j = 0; j < H; j++)
                        {
                            float igv = Act(act[a0], Clip(g[j] + pd[j] * c[j], clip), alpha[a0], beta[a0]);
                            float fgv = Act(act[a0], Clip(g[2 * H + j] + pd[2 * H + j] * c[j], clip), alpha[a0], beta[a0]);
                            float cgv = Act(act[a0 + 1], Clip(g[3 * H + j], clip), alpha[a0 + 1], beta[a0 + 1]);
                            float cn = fgv * c[j] + igv * cgv;
                            float ogv = Act(act[a0], Clip(g[H + j] + pd[H + j] * cn, clip), alpha[a0], beta[a0]);
                            c[j] = cn;
                            hn[j] = ogv * Act(act[a0 + 2], cn, alpha[a0 + 2], beta[a0 + 2]);
                        }
                    }
                    new Span<float>(hn, H).CopyTo(new Span<float>(h, H));
                    if (y != null)
                    {
                        float* yt = y + (batchFirst ? ((long)b * seqLen + t) * dirs + d : ((long)t * dirs + d) * batch + b) * H;
                        new Span<float>(h, H).CopyTo(new Span<float>(yt, H));
                    }
                }
                if (yH != null) new Span<float>(h, H).CopyTo(new Span<float>(yH + stateOff, H));
                if (yC != null) new Span<float>(c, H).CopyTo(new Span<float>(yC + stateOff, H));
            }
        }
    }

    /// <summary>out[k] += a[k, :]·v for k &lt; rows (a row-major with row length n): four rows at a time, FMA over n.</summary>
    internal static void RowDotsAdd(float* a, float* v, int n, int rows, float* outp) => RowDotsAddWidth(Gemm.PreferredWidth, a, v, n, rows, outp);

    /// <summary><see cref="RowDotsAdd"/> with an explicit SIMD width (512, 256, 128, or 0 for scalar).</summary>
    internal static void RowDotsAddWidth(int width, float* a, float* v, int n, int rows, float* outp)
    {
        int k = 0;
        if (width >= 512 && Vector512.IsHardwareAccelerated && n >= 32)
        {
            // Four rows by two 16-float accumulators each: eight independent FMA chains.
            for (; k + 4 <= rows; k += 4)
            {
                float* a0 = a + (long)k * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
                var s0 = Vector512<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                var u0 = s0; var u1 = s0; var u2 = s0; var u3 = s0;
                int i = 0;
                for (; i + 32 <= n; i += 32)
                {
                    var xv = Vector512.Load(v + i);
                    var xw = Vector512.Load(v + i + 16);
                    s0 = Vector512.FusedMultiplyAdd(Vector512.Load(a0 + i), xv, s0);
                    s1 = Vector512.FusedMultiplyAdd(Vector512.Load(a1 + i), xv, s1);
                    s2 = Vector512.FusedMultiplyAdd(Vector512.Load(a2 + i), xv, s2);
                    s3 = Vector512.FusedMultiplyAdd(Vector512.Load(a3 + i), xv, s3);
                    u0 = Vector512.FusedMultiplyAdd(Vector512.Load(a0 + i + 16), xw, u0);
                    u1 = Vector512.FusedMultiplyAdd(Vector512.Load(a1 + i + 16), xw, u1);
                    u2 = Vector512.FusedMultiplyAdd(Vector512.Load(a2 + i + 16), xw, u2);
                    u3 = Vector512.FusedMultiplyAdd(Vector512.Load(a3 + i + 16), xw, u3);
                }
                float t0 = Vector512.Sum(s0 + u0), t1 = Vector512.Sum(s1 + u1), t2 = Vector512.Sum(s2 + u2), t3 = Vector512.Sum(s3 + u3);
                for (; i < n; i++)
                {
                    float xi = v[i];
                    t0 += a0[i] * xi; t1 += a1[i] * xi; t2 += a2[i] * xi; t3 += a3[i] * xi;
                }
                outp[k] += t0; outp[k + 1] += t1; outp[k + 2] += t2; outp[k + 3] += t3;
            }
        }
        else if (width >= 256 && Vector256.IsHardwareAccelerated && n >= 8)
        {
            for (; k + 4 <= rows; k += 4)
            {
                float* a0 = a + (long)k * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
                var s0 = Vector256<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                int i = 0;
                for (; i + 8 <= n; i += 8)
                {
                    var xv = Vector256.Load(v + i);
                    s0 = Vector256.FusedMultiplyAdd(Vector256.Load(a0 + i), xv, s0);
                    s1 = Vector256.FusedMultiplyAdd(Vector256.Load(a1 + i), xv, s1);
                    s2 = Vector256.FusedMultiplyAdd(Vector256.Load(a2 + i), xv, s2);
                    s3 = Vector256.FusedMultiplyAdd(Vector256.Load(a3 + i), xv, s3);
                }
                float t0 = Vector256.Sum(s0), t1 = Vector256.Sum(s1), t2 = Vector256.Sum(s2), t3 = Vector256.Sum(s3);
                for (; i < n; i++)
                {
                    float xi = v[i];
                    t0 += a0[i] * xi; t1 += a1[i] * xi; t2 += a2[i] * xi; t3 += a3[i] * xi;
                }
                outp[k] += t0; outp[k + 1] += t1; outp[k + 2] += t2; outp[k + 3] += t3;
            }
        }
        else if (width >= 128 && Vector128.IsHardwareAccelerated && n >= 4)
        {
            for (; k + 4 <= rows; k += 4)
            {
                float* a0 = a + (long)k * n, a1 = a0 + n, a2 = a1 + n, a3 = a2 + n;
                var s0 = Vector128<float>.Zero; var s1 = s0; var s2 = s0; var s3 = s0;
                int i = 0;
                for (; i + 4 <= n; i += 4)
                {
                    var xv = Vector128.Load(v + i);
                    s0 = Vector128.MultiplyAddEstimate(Vector128.Load(a0 + i), xv, s0);
                    s1 = Vector128.MultiplyAddEstimate(Vector128.Load(a1 + i), xv, s1);
                    s2 = Vector128.MultiplyAddEstimate(Vector128.Load(a2 + i), xv, s2);
                    s3 = Vector128.MultiplyAddEstimate(Vector128.Load(a3 + i), xv, s3);
                }
                float t0 = Vector128.Sum(s0), t1 = Vector128.Sum(s1), t2 = Vector128.Sum(s2), t3 = Vector128.Sum(s3);
                for (; i < n; i++)
                {
                    float xi = v[i];
                    t0 += a0[i] * xi; t1 += a1[i] * xi; t2 += a2[i] * xi; t3 += a3[i] * xi;
                }
                outp[k] += t0; outp[k + 1] += t1; outp[k + 2] += t2; outp[k + 3] += t3;
            }
        }
        for (; k < rows; k++)
        {
            float* ak = a + (long)k * n;
            float s = 0;
            for (int i = 0; i < n; i++) s += ak[i] * v[i];
            outp[k] += s;
        }
    }

    /// <summary>
    /// dst[j] = act(clip(src[j])) for j &lt; n (src == dst allowed). Sigmoid and Tanh run vectorized (<see cref="VectorMath"/>);
    /// the other activations use the scalar <see cref="Act"/>.
    /// </summary>
    internal static void ApplyAct(int kind, float* src, float* dst, int n, float a, float b, float clip)
    {
        int j = 0;
        if (kind is Tanh or Sigmoid && Vector256.IsHardwareAccelerated)
        {
            var lo = Vector256.Create(-clip);
            var hi = Vector256.Create(clip);
            for (; j + 8 <= n; j += 8)
            {
                var v = Vector256.Load(src + j);
                if (clip > 0) v = Vector256.Min(Vector256.Max(v, lo), hi);
                Vector256.Store(kind == Tanh ? VectorMath.Tanh(v) : VectorMath.Sigmoid(v), dst + j);
            }
        }
        for (; j < n; j++) dst[j] = Act(kind, Clip(src[j], clip), a, b);
    }
}
