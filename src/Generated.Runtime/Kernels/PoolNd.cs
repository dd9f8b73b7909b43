using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// General pooling over 1 to 3 spatial dims given as (d, h, w) (1 for missing leading dims), any numeric type:
/// MaxPool (with optional flat argmax indices), AveragePool and LpPool. Window positions are
/// o·stride + k·dilation - padBegin; positions outside the input are skipped (for the average they count as
/// zeros when countIncludePad and they lie inside [-padBegin, in + padEnd)).
/// </summary>
public static unsafe class PoolNd
{
    /// <summary>y = max over the window; indices (optional) = the flat NCDHW input index of the max (storageOrder 1: column-major spatial order, 2-D only).</summary>
    public static void Max<T>(T* x, T* y, long* indices, int n, int c, ReadOnlySpan<int> inDims, ReadOnlySpan<int> outDims,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin, bool columnMajor)
        where T : unmanaged, INumber<T>
    {
        int id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        long inSp = (long)id * ih * iw, outSp = (long)od * oh * ow;
        for (long p = 0; p < (long)n * c; p++)
        {
            T* xc = x + p * inSp;
            for (int a = 0; a < od; a++)
                for (int b = 0; b < oh; b++)
                    for (int q = 0; q < ow; q++)
                    {
                        bool found = false;
                        T best = default;
                        long arg = 0;
                        for (int ka = 0; ka < kernel[0]; ka++)
                        {
                            int zd = a * strides[0] + ka * dilations[0] - padsBegin[0];
                            if ((uint)zd >= (uint)id) continue;
                            for (int kb = 0; kb < kernel[1]; kb++)
                            {
                                int zh = b * strides[1] + kb * dilations[1] - padsBegin[1];
                                if ((uint)zh >= (uint)ih) continue;
                                for (int kq = 0; kq < kernel[2]; kq++)
                                {
                                    int zw = q * strides[2] + kq * dilations[2] - padsBegin[2];
                                    if ((uint)zw >= (uint)iw) continue;
                                    long off = ((long)zd * ih + zh) * iw + zw;
                                    T v = xc[off];
                                    if (!found || v > best)
                                    {
                                        best = v;
                                        arg = columnMajor ? ((long)zw * ih + zh) * id + zd : off;
                                        found = true;
                                    }
                                }
                            }
                        }
                        long o = p * outSp + ((long)a * oh + b) * ow + q;
                        y[o] = best;
                        if (indices != null) indices[o] = p * inSp + arg;
                    }
        }
    }

    /// <summary>y = the window mean (power 0) or (Σ |x|^p)^(1/p) (lpPower p &gt; 0), accumulated in double.</summary>
    public static void Reduce<T>(T* x, T* y, int n, int c, ReadOnlySpan<int> inDims, ReadOnlySpan<int> outDims,
        ReadOnlySpan<int> kernel, ReadOnlySpan<int> strides, ReadOnlySpan<int> dilations, ReadOnlySpan<int> padsBegin,
        ReadOnlySpan<int> padsEnd, bool countIncludePad, double lpPower) where T : unmanaged, INumberBase<T>
    {
        int id = inDims[0], ih = inDims[1], iw = inDims[2], od = outDims[0], oh = outDims[1], ow = outDims[2];
        long inSp = (long)id * ih * iw, outSp = (long)od * oh * ow;
        for (long p = 0; p < (long)n * c; p++)
        {
            T* xc = x + p * inSp;
            for (int a = 0; a < od; a++)
                for (int b = 0; b < oh; b++)
                    for (int q = 0; q < ow; q++)
                    {
                        double sum = 0;
                        long count = 0;
                        for (int ka = 0; ka < kernel[0]; ka++)
                        {
                            int zd = a * strides[0] + ka * dilations[0] - padsBegin[0];
                            bool inD = (uint)zd < (uint)id, padD = zd >= -padsBegin[0] && zd < id + padsEnd[0];
                            for (int kb = 0; kb < kernel[1]; kb++)
                            {
                                int zh = b * strides[1] + kb * dilations[1] - padsBegin[1];
                                bool inH = (uint)zh < (uint)ih, padH = zh >= -padsBegin[1] && zh < ih + padsEnd[1];
                                for (int kq = 0; kq < kernel[2]; kq++)
                                {
                                    int zw = q * strides[2] + kq * dilations[2] - padsBegin[2];
                                    bool inW = (uint)zw < (uint)iw, padW = zw >= -padsBegin[2] && zw < iw + padsEnd[2];
                                    if (inD && inH && inW)
                                    {
                                        double v = double.CreateTruncating(xc[((long)zd * ih + zh) * iw + zw]);
                                        sum += lpPower > 0 ? Math.Pow(Math.Abs(v), lpPower) : v;
                                        count++;
                                    }
                                    else if (countIncludePad && padD && padH && padW) count++;
                                }
                            }
                        }
                        double r = lpPower > 0 ? Math.Pow(sum, 1 / lpPower) : count == 0 ? 0 : sum / count;
                        y[p * outSp + ((long)a * oh + b) * ow + q] = T.CreateTruncating(r);
                    }
        }
    }
}
