using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Scaled dot-product attention (ONNX Attention, opsets 23-24). Scores are computed, biased and normalized in float32
/// one query row at a time, so the working set is one row of <c>totalLen</c> floats.
/// </summary>
public static unsafe class Attention
{
    /// <summary>
    /// Concatenates a past cache [batch, heads, pastLen, d] and new rows (element (b, h, s, c) at
    /// <c>x[b*sB + h*sH + s*sS + c]</c>) into a contiguous present cache [batch, heads, pastLen + len, d].
    /// </summary>
    public static void BuildCache<T>(T* past, T* x, T* present, int batch, int heads, int pastLen, int len, int d,
        long sB, long sH, long sS) where T : unmanaged
    {
        int total = pastLen + len;
        for (int b = 0; b < batch; b++)
            for (int h = 0; h < heads; h++)
            {
                T* dst = present + ((long)b * heads + h) * total * d;
                if (pastLen > 0)
                    new ReadOnlySpan<T>(past + ((long)b * heads + h) * pastLen * d, pastLen * d).CopyTo(new Span<T>(dst, pastLen * d));
                for (int s = 0; s < len; s++)
                    new ReadOnlySpan<T>(x + b * sB + h * sH + s * sS, d).CopyTo(new Span<T>(dst + (long)(pastLen + s) * d, d));
            }
    }

    /// <summary>
    /// Y = softmax(softcap(scale · Q·Kᵀ) + bias) · V per (batch, query head), where query head h reads kv head
    /// h / (qHeads / kvHeads). K and V are contiguous [batch, kvHeads, totalLen, d]; Q element (b, h, i, c) is at
    /// <c>q[b*qB + h*qH + i*qS + c]</c> and Y likewise with the y strides. The bias adds: the float mask (or -inf where
    /// the bool mask is false), -inf past the mask's last dim <paramref name="maskLen"/>, -inf above the causal diagonal
    /// (key j is visible to query i when j &lt;= i + offset; offset is pastLen, or nonpad[b] - qLen without a past),
    /// and -inf at keys j &gt;= nonpad[b]. A row with no visible key gives zero probabilities.
    /// <paramref name="qk"/> (optional, [batch, qHeads, qLen, totalLen]) receives the scores after softcap (mode 0, 1),
    /// after the bias (2) or after softmax (3). <paramref name="row"/> is scratch for totalLen floats.
    /// </summary>
    public static void Run<T>(T* q, T* k, T* v, T* maskF, bool* maskB, long* nonpad, T* y, T* qk, float* row,
        int batch, int qHeads, int kvHeads, int qLen, int totalLen, int pastLen, int headSize, int vHeadSize,
        long qB, long qH, long qS, long yB, long yH, long yS,
        long maskStrideB, long maskStrideH, long maskStrideQ, int maskLen,
        float scale, float softcap, bool causal, bool hasPast, int qkMode) where T : unmanaged, INumberBase<T>
    {
        int group = qHeads / kvHeads;
        for (int b = 0; b < batch; b++)
        {
            int valid = nonpad != null ? (int)Math.Min(nonpad[b], totalLen) : totalLen;
            int offset = hasPast || nonpad == null ? pastLen : (int)nonpad[b] - qLen;
            for (int h = 0; h < qHeads; h++)
            {
                int hk = h / group;
                T* kh = k + ((long)b * kvHeads + hk) * totalLen * headSize;
                T* vh = v + ((long)b * kvHeads + hk) * totalLen * vHeadSize;
                for (int i = 0; i < qLen; i++)
                {
                    T* qr = q + b * qB + h * qH + i * qS;
                    T* qkr = qk == null ? null : qk + (((long)b * qHeads + h) * qLen + i) * totalLen;
                    for (int j = 0; j < totalLen; j++)
                    {
                        T* kr = kh + (long)j * headSize;
                        float dot = 0;
                        for (int c = 0; c < headSize; c++) dot += float.CreateTruncating(qr[c]) * float.CreateTruncating(kr[c]);
                        float s = dot * scale;
                        if (softcap > 0) s = softcap * MathF.Tanh(s / softcap);
                        if (qkr != null && qkMode <= 1) qkr[j] = T.CreateTruncating(s);
                        row[j] = s;
                    }
                    long mOff = b * maskStrideB + h * maskStrideH + i * maskStrideQ;
                    for (int j = 0; j < totalLen; j++)
                    {
                        float bias = 0;
                        if (maskF != null) bias = j < maskLen ? float.CreateTruncating(maskF[mOff + j]) : float.NegativeInfinity;
                        else if (maskB != null && (j >= maskLen || !maskB[mOff + j])) bias = float.NegativeInfinity;
                        if (causal && j > i + offset) bias = float.NegativeInfinity;
                        if (j >= valid) bias = float.NegativeInfinity;
                        row[j] += bias;
                        if (qkr != null && qkMode == 2) qkr[j] = T.CreateTruncating(row[j]);
                    }
                    float max = float.NegativeInfinity;
                    for (int j = 0; j < totalLen; j++) max = MathF.Max(max, row[j]);
                    if (float.IsNegativeInfinity(max))
                        for (int j = 0; j < totalLen; j++) row[j] = 0;
                    else
                    {
                        float sum = 0;
                        for (int j = 0; j < totalLen; j++) { row[j] = MathF.Exp(row[j] - max); sum += row[j]; }
                        float inv = 1f / sum;
                        for (int j = 0; j < totalLen; j++) row[j] *= inv;
                    }
                    if (qkr != null && qkMode == 3)
                        for (int j = 0; j < totalLen; j++) qkr[j] = T.CreateTruncating(row[j]);
                    T* yr = y + b * yB + h * yH + i * yS;
                    for (int c = 0; c < vHeadSize; c++)
                    {
                        float acc = 0;
                        for (int j = 0; j < totalLen; j++) acc += row[j] * float.CreateTruncating(vh[(long)j * vHeadSize + c]);
                        yr[c] = T.CreateTruncating(acc);
                    }
                }
            }
        }
    }
}
