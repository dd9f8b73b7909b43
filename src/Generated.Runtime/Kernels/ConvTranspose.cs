using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Transposed convolution (ONNX ConvTranspose), 1-D to 3-D with spatial dims given as (d, h, w) (1 for missing leading
/// dims): every input pixel scatters x · W[c, m, k] to y at o = i·stride + k·dilation - padBegin (dropped outside
/// the output). W: [C, M/group, kd, kh, kw]; y: [N, M, od, oh, ow].
/// </summary>
public static unsafe class ConvTranspose
{
    /// <summary>Plain scatter form; accumulates in T.</summary>
    public static void Run<T>(T* x, T* w, T* bias, T* y, int n, int c, int m, int group,
        ReadOnlySpan<int> inDims, ReadOnlySpan<int> outDims, ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides,
        ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin) where T : unmanaged, INumber<T>
    {
        int id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        int kd = kernel[0], kh = kernel[1], kw = kernel[2];
        long inSp = (long)id * ih * iw, outSp = (long)od * oh * ow, kSp = (long)kd * kh * kw;
        int cg = c / group, mg = m / group;
        new Span<T>(y, checked((int)((long)n * m * outSp))).Clear();
        for (int b = 0; b < n; b++)
            for (int g = 0; g < group; g++)
                for (int ci = 0; ci < cg; ci++)
                {
                    int cc = g * cg + ci;
                    T* xc = x + ((long)b * c + cc) * inSp;
                    for (int mo = 0; mo < mg; mo++)
                    {
                        T* wk = w + ((long)cc * mg + mo) * kSp;
                        T* yc = y + ((long)b * m + g * mg + mo) * outSp;
                        for (int zd = 0; zd < id; zd++)
                            for (int zh = 0; zh < ih; zh++)
                                for (int zw = 0; zw < iw; zw++)
                                {
                                    T xv = xc[((long)zd * ih + zh) * iw + zw];
                                    for (int a = 0; a < kd; a++)
                                    {
                                        int pd = zd * strides[0] + a * dilations[0] - padsBegin[0];
                                        if ((uint)pd >= (uint)od) continue;
                                        for (int bb = 0; bb < kh; bb++)
                                        {
                                            int ph = zh * strides[1] + bb * dilations[1] - padsBegin[1];
                                            if ((uint)ph >= (uint)oh) continue;
                                            T* yr = yc + ((long)pd * oh + ph) * ow;
                                            T* wr = wk + ((long)a * kh + bb) * kw;
                                            for (int cw = 0; cw < kw; cw++)
                                            {
                                                int pw = zw * strides[2] + cw * dilations[2] - padsBegin[2];
                                                if ((uint)pw < (uint)ow) yr[pw] += xv * wr[cw];
                                            }
                                        }
                                    }
                                }
                    }
                }
        if (bias != null)
            for (int b = 0; b < n; b++)
                for (int mo = 0; mo < m; mo++)
                {
                    T* yc = y + ((long)b * m + mo) * outSp;
                    for (long i = 0; i < outSp; i++) yc[i] += bias[mo];
                }
    }
}
