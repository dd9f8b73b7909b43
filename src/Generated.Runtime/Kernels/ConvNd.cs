using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Direct N-d convolution (1 to 3 spatial dims, shorter ones padded with leading 1s) for any floating element type,
/// accumulated in double: the reference path beside the tuned float32 2-D <see cref="Conv"/>.
/// </summary>
public static unsafe class ConvNd
{
    /// <summary>
    /// y[b, g·M/G + mo, o] = bias[m] + Σ_{ci &lt; C/G, k} x[b, g·C/G + ci, o·stride + k·dilation - padBegin]·w[m, ci, k]
    /// over the 3-D spatial index o and kernel index k; taps outside the input read 0. x: [n, c, inDims], w: [m, c/group, kernel].
    /// </summary>
    public static void Run<T>(T* x, T* w, T* bias, T* y, int n, int c, int m, int group, ReadOnlySpan<long> inDims, ReadOnlySpan<long> outDims,
        ReadOnlySpan<long> kernel, ReadOnlySpan<long> strides, ReadOnlySpan<long> dilations, ReadOnlySpan<long> padsBegin) where T : unmanaged, INumberBase<T>
    {
        int cg = c / group, mg = m / group;
        long id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        long kd = kernel[0], kh = kernel[1], kw = kernel[2];
        long inPlane = id * ih * iw, outPlane = od * oh * ow, kPlane = kd * kh * kw;
        for (int b = 0; b < n; b++)
            for (int mm = 0; mm < m; mm++)
            {
                int g = mm / mg;
                T* yo = y + ((long)b * m + mm) * outPlane;
                double bv = bias != null ? double.CreateTruncating(bias[mm]) : 0;
                for (long z = 0; z < od; z++)
                    for (long yy = 0; yy < oh; yy++)
                        for (long xx = 0; xx < ow; xx++)
                        {
                            double acc = bv;
                            for (int ci = 0; ci < cg; ci++)
                            {
                                T* xp = x + ((long)b * c + g * cg + ci) * inPlane;
                                T* wp = w + ((long)mm * cg + ci) * kPlane;
                                for (long a = 0; a < kd; a++)
                                {
                                    long pz = z * strides[0] + a * dilations[0] - padsBegin[0];
                                    if (pz < 0 || pz >= id) continue;
                                    for (long bb = 0; bb < kh; bb++)
                                    {
                                        long py = yy * strides[1] + bb * dilations[1] - padsBegin[1];
                                        if (py < 0 || py >= ih) continue;
                                        for (long cc = 0; cc < kw; cc++)
                                        {
                                            long px = xx * strides[2] + cc * dilations[2] - padsBegin[2];
                                            if (px < 0 || px >= iw) continue;
                                            acc += double.CreateTruncating(xp[(pz * ih + py) * iw + px]) * double.CreateTruncating(wp[(a * kh + bb) * kw + cc]);
                                        }
                                    }
                                }
                            }
                            yo[(z * oh + yy) * ow + xx] = T.CreateTruncating(acc);
                        }
            }
    }
}
