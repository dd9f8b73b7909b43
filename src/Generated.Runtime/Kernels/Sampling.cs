using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Bilinear-sampling ops over NCHW images: RoiAlign (ONNX 10/16/22) and DeformConv (ONNX 19/22), computed in double.</summary>
public static unsafe class Sampling
{
    /// <summary>Bilinear sample of an h x w plane at (y, x): 0 outside (-1, size), edges clamped inside.</summary>
    private static double Bilinear<T>(T* plane, int h, int w, double y, double x) where T : unmanaged, INumberBase<T>
    {
        if (y < -1 || y > h || x < -1 || x > w) return 0;
        if (y <= 0) y = 0;
        if (x <= 0) x = 0;
        int y0 = (int)y, x0 = (int)x, y1, x1;
        if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
        if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
        double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
        return hy * hx * double.CreateTruncating(plane[y0 * w + x0]) + hy * lx * double.CreateTruncating(plane[y0 * w + x1])
             + ly * hx * double.CreateTruncating(plane[y1 * w + x0]) + ly * lx * double.CreateTruncating(plane[y1 * w + x1]);
    }

    /// <summary>
    /// RoiAlign: for roi r (x1, y1, x2, y2)·spatialScale - offset (0.5 with half_pixel), on image batchIndices[r], each of the
    /// outH x outW bins averages (or, for max, takes the largest weighted corner value of) gridH x gridW bilinear samples at
    /// the sub-bin centers; samplingRatio 0 means ceil(roi size / bins) per axis. Without half_pixel the roi is at least 1x1.
    /// x: [N, C, H, W], rois: [R, 4], y: [R, C, outH, outW].
    /// </summary>
    public static void RoiAlign<T, TI>(T* x, T* rois, TI* batchIndices, T* y, int n, int channels, int h, int w, int numRois, int outH, int outW,
        int samplingRatio, double spatialScale, bool halfPixel, bool max) where T : unmanaged, INumberBase<T> where TI : unmanaged, IBinaryInteger<TI>
    {
        double offset = halfPixel ? 0.5 : 0;
        for (int r = 0; r < numRois; r++)
        {
            long b = long.CreateTruncating(batchIndices[r]);
            if ((ulong)b >= (ulong)n) throw new IndexOutOfRangeException("LLMAOT9021: RoiAlign batch index outside the input batch");
            double x1 = double.CreateTruncating(rois[r * 4]) * spatialScale - offset, y1 = double.CreateTruncating(rois[r * 4 + 1]) * spatialScale - offset;
            double x2 = double.CreateTruncating(rois[r * 4 + 2]) * spatialScale - offset, y2 = double.CreateTruncating(rois[r * 4 + 3]) * spatialScale - offset;
            double rw = x2 - x1, rh = y2 - y1;
            if (!halfPixel) { rw = Math.Max(rw, 1); rh = Math.Max(rh, 1); }
            double bh = rh / outH, bw = rw / outW;
            int gh = samplingRatio > 0 ? samplingRatio : (int)Math.Ceiling(rh / outH);
            int gw = samplingRatio > 0 ? samplingRatio : (int)Math.Ceiling(rw / outW);
            double count = Math.Max(gh * gw, 1);
            for (int c = 0; c < channels; c++)
            {
                T* plane = x + (b * channels + c) * h * w;
                T* yo = y + ((long)r * channels + c) * outH * outW;
                for (int ph = 0; ph < outH; ph++)
                    for (int pw = 0; pw < outW; pw++)
                    {
                        double acc = 0;
                        bool first = true;
                        for (int iy = 0; iy < gh; iy++)
                        {
                            double yy = y1 + ph * bh + (iy + 0.5) * bh / gh;
                            for (int ix = 0; ix < gw; ix++)
                            {
                                double xx = x1 + pw * bw + (ix + 0.5) * bw / gw;
                                if (!max) { acc += Bilinear(plane, h, w, yy, xx); continue; }
                                double v = MaxCorner(plane, h, w, yy, xx);
                                acc = first ? v : Math.Max(acc, v);
                                first = false;
                            }
                        }
                        yo[ph * outW + pw] = T.CreateTruncating(max ? acc : acc / count);
                    }
            }
        }
    }

    /// <summary>RoiAlign's max mode: the largest of the four weighted corner values (0 outside).</summary>
    private static double MaxCorner<T>(T* plane, int h, int w, double y, double x) where T : unmanaged, INumberBase<T>
    {
        if (y < -1 || y > h || x < -1 || x > w) return 0;
        if (y <= 0) y = 0;
        if (x <= 0) x = 0;
        int y0 = (int)y, x0 = (int)x, y1, x1;
        if (y0 >= h - 1) { y0 = y1 = h - 1; y = y0; } else y1 = y0 + 1;
        if (x0 >= w - 1) { x0 = x1 = w - 1; x = x0; } else x1 = x0 + 1;
        double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
        double a = hy * hx * double.CreateTruncating(plane[y0 * w + x0]), b = hy * lx * double.CreateTruncating(plane[y0 * w + x1]);
        double c = ly * hx * double.CreateTruncating(plane[y1 * w + x0]), d = ly * lx * double.CreateTruncating(plane[y1 * w + x1]);
        return Math.Max(Math.Max(a, b), Math.Max(c, d));
    }

    /// <summary>Bilinear sample with zero padding per corner (torchvision's deformable convolution rule).</summary>
    private static double ZeroPadded<T>(T* plane, int h, int w, double y, double x) where T : unmanaged, INumberBase<T>
    {
        if (y <= -1 || y >= h || x <= -1 || x >= w) return 0;
        int y0 = (int)Math.Floor(y), x0 = (int)Math.Floor(x);
        double ly = y - y0, lx = x - x0, hy = 1 - ly, hx = 1 - lx;
        return hy * hx * At(plane, h, w, y0, x0) + hy * lx * At(plane, h, w, y0, x0 + 1)
             + ly * hx * At(plane, h, w, y0 + 1, x0) + ly * lx * At(plane, h, w, y0 + 1, x0 + 1);
    }

    private static double At<T>(T* plane, int h, int w, int y, int x) where T : unmanaged, INumberBase<T> =>
        y >= 0 && y < h && x >= 0 && x < w ? double.CreateTruncating(plane[y * w + x]) : 0;

    /// <summary>
    /// DeformConv (2-D): y[b, m, oh, ow] = bias[m] + Σ_{c in m's group, i, j} w[m, c', i, j]·mask·X[b, c](py, px) with
    /// py = oh·sh - padTop + i·dh + Δy, px = ow·sw - padLeft + j·dw + Δx; (Δy, Δx) = offset[b, og·2kk + 2(i·kw + j) + {0, 1}, oh, ow]
    /// and mask = mask[b, og·kk + i·kw + j, oh, ow] (1 when null) for c's offset group og; X sampled bilinearly, 0 outside.
    /// </summary>
    public static void DeformConv<T>(T* x, T* wt, T* offset, T* bias, T* mask, T* y, int n, int c, int h, int w, int m, int kh, int kw,
        int oh, int ow, int sh, int sw, int padTop, int padLeft, int dh, int dw, int group, int offsetGroup) where T : unmanaged, INumberBase<T>
    {
        int cg = c / group, mg = m / group, cPerOg = c / offsetGroup, kk = kh * kw;
        long plane = (long)oh * ow;
        for (int b = 0; b < n; b++)
        {
            for (int mm = 0; mm < m; mm++)
            {
                T bv = bias != null ? bias[mm] : T.Zero;
                for (long p = 0; p < plane; p++) y[((long)b * m + mm) * plane + p] = bv;
            }
            for (int ch = 0; ch < c; ch++)
            {
                int g = ch / cg, og = ch / cPerOg;
                T* xp = x + ((long)b * c + ch) * h * w;
                for (int i = 0; i < kh; i++)
                    for (int j = 0; j < kw; j++)
                    {
                        int kidx = i * kw + j;
                        T* offY = offset + ((long)b * offsetGroup * 2 * kk + og * 2 * kk + 2 * kidx) * plane;
                        T* offX = offY + plane;
                        T* mk = mask != null ? mask + ((long)b * offsetGroup * kk + og * kk + kidx) * plane : null;
                        for (int yo = 0; yo < oh; yo++)
                            for (int xo = 0; xo < ow; xo++)
                            {
                                long p = (long)yo * ow + xo;
                                double py = yo * sh - padTop + i * dh + double.CreateTruncating(offY[p]);
                                double px = xo * sw - padLeft + j * dw + double.CreateTruncating(offX[p]);
                                double v = ZeroPadded(xp, h, w, py, px);
                                if (mk != null) v *= double.CreateTruncating(mk[p]);
                                if (v == 0) continue;
                                for (int mm = g * mg; mm < (g + 1) * mg; mm++)
                                {
                                    T* yp = y + ((long)b * m + mm) * plane + p;
                                    double wv = double.CreateTruncating(wt[(((long)mm * cg + (ch - g * cg)) * kh + i) * kw + j]);
                                    *yp = T.CreateTruncating(double.CreateTruncating(*yp) + wv * v);
                                }
                            }
                    }
            }
        }
    }
}
