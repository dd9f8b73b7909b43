using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Depthwise 2-D convolution (group = c = m), NCHW: y[n, ch, oy, ox] = epi(bias[ch] + Σ_{ky, kx} w[ch, ky, kx] ·
/// x[n, ch, oy·sh - pt + ky·dh, ox·sw - pl + kx·dw]), positions outside the input reading 0.
/// <para>
/// Each channel's input is first copied into scratch as <c>sw</c> zero-bordered phase planes: plane q, column j holds
/// padded input column j·sw + q, so tap (ky, kx) of output pixels ox..ox+V-1 is one contiguous vector load at plane
/// (kx·dw) mod sw, row oy·sh + ky·dh, column ox + (kx·dw) div sw, for any stride and dilation. Output rows are then
/// computed a few vectors at a time with every tap accumulated in registers, and the epilogue applied at the store
/// (a row's last vector overlaps the previous one rather than running past the row end).
/// </para>
/// </summary>
[SkipLocalsInit]
public static unsafe class ConvDepthwise
{
    /// <summary>Largest kernel (kh·kw taps) handled here; bigger ones use the general path.</summary>
    public const int MaxTaps = 64;

    private static int PlaneRows(int oh, int kh, int sh, int dh) => (oh - 1) * sh + (kh - 1) * dh + 1;

    private static int PlaneCols(int ow, int kw, int sw, int dw) => ow + (kw - 1) * dw / sw;

    /// <summary>Floats of scratch <see cref="Run2D"/> needs (the phase planes of one channel).</summary>
    public static long ScratchFloats(int oh, int ow, int kh, int kw, int sh, int sw, int dh, int dw)
        => (long)sw * PlaneRows(oh, kh, sh, dh) * PlaneCols(ow, kw, sw, dw);

    /// <summary>Depthwise convolution with the vector width chosen for this machine.</summary>
    public static void Run2D(float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn,
        int kh, int kw, int oh, int ow, int sh, int sw, int pt, int pl, int dh, int dw, float* scratch, Epilogue epi)
        => Run2DWidth(Gemm.PreferredWidth, x, w, bias, y, n, c, h, wIn, kh, kw, oh, ow, sh, sw, pt, pl, dh, dw, scratch, epi);

    /// <summary><see cref="Run2D"/> with an explicit SIMD width (512/256 use 8-float vectors, 128 four, 0 scalar).</summary>
    internal static void Run2DWidth(int width, float* x, float* w, float* bias, float* y, int n, int c, int h, int wIn,
        int kh, int kw, int oh, int ow, int sh, int sw, int pt, int pl, int dh, int dw, float* scratch, Epilogue epi)
    {
        int taps = kh * kw;
        if (taps > MaxTaps) throw new ArgumentOutOfRangeException(nameof(kh), "depthwise kernel too large");
        int rowsP = PlaneRows(oh, kh, sh, dh), colsP = PlaneCols(ow, kw, sw, dw);
        long planeSize = (long)rowsP * colsP;
        int* off = stackalloc int[taps];
        for (int ky = 0; ky < kh; ky++)
            for (int kx = 0; kx < kw; kx++)
            {
                int px = kx * dw;
                off[ky * kw + kx] = checked((int)((px % sw) * planeSize + (long)ky * dh * colsP + px / sw));
            }
        int vw = width >= 256 && Vector256.IsHardwareAccelerated ? 8 : width >= 128 && Vector128.IsHardwareAccelerated ? 4 : 1;
        if (ow < vw) vw = ow >= 4 && Vector128.IsHardwareAccelerated && width >= 128 ? 4 : 1;
        for (int ni = 0; ni < n; ni++)
        {
            for (int ch = 0; ch < c; ch++)
            {
                float* xc = x + ((long)ni * c + ch) * h * wIn;
                float* yc = y + ((long)ni * c + ch) * oh * ow;
                float* wc = w + (long)ch * taps;
                float b = bias == null ? 0f : bias[ch];
                FillPlanes(xc, scratch, h, wIn, rowsP, colsP, sw, pt, pl);
                for (int oy = 0; oy < oh; oy++)
                {
                    float* src = scratch + (long)oy * sh * colsP;
                    float* yr = yc + (long)oy * ow;
                    if (vw == 8) Row256(src, off, wc, taps, b, yr, ow, epi);
                    else if (vw == 4) Row128(src, off, wc, taps, b, yr, ow, epi);
                    else RowScalar(src, off, wc, taps, b, yr, ow, epi);
                }
            }
        }
    }

    /// <summary>Copies one channel [h, wIn] into the sw phase planes [rowsP, colsP] (zeros outside the input).</summary>
    private static void FillPlanes(float* xc, float* planes, int h, int wIn, int rowsP, int colsP, int sw, int pt, int pl)
    {
        long planeSize = (long)rowsP * colsP;
        for (int q = 0; q < sw; q++)
        {
            // Column j of plane q holds input column j*sw + q - pl: valid for j in [jlo, jhi).
            int first = q - pl;
            int jlo = first >= 0 ? 0 : (-first + sw - 1) / sw;
            int jhi = first >= wIn ? 0 : Math.Min(colsP, (wIn - 1 - first) / sw + 1);
            if (jlo > colsP) jlo = colsP;
            if (jhi < jlo) jhi = jlo;
            float* pq = planes + q * planeSize;
            for (int r = 0; r < rowsP; r++)
            {
                float* d = pq + (long)r * colsP;
                int iy = r - pt;
                if ((uint)iy >= (uint)h)
                {
                    new Span<float>(d, colsP).Clear();
                    continue;
                }
                float* s = xc + (long)iy * wIn + first;
                if (jlo > 0) new Span<float>(d, jlo).Clear();
                if (sw == 1)
                {
                    if (jhi > jlo) new ReadOnlySpan<float>(s + jlo, jhi - jlo).CopyTo(new Span<float>(d + jlo, jhi - jlo));
                }
                else if (sw == 2 && Vector256.IsHardwareAccelerated)
                {
                    int j = jlo;
                    for (; j + 8 < jhi; j += 8) // the 16-float load stays inside the row
                    {
                        // Even lanes of 16 consecutive floats starting at s + 2j.
                        var lo = Vector256.Load(s + 2L * j);
                        var hi = Vector256.Load(s + 2L * j + 8);
                        Vector256.Store(Even(lo, hi), d + j);
                    }
                    for (; j < jhi; j++) d[j] = s[(long)j * 2];
                }
                else
                {
                    for (int j = jlo; j < jhi; j++) d[j] = s[(long)j * sw];
                }
                if (jhi < colsP) new Span<float>(d + jhi, colsP - jhi).Clear();
            }
        }
    }

    /// <summary>(a0, a2, a4, a6, b0, b2, b4, b6).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static Vector256<float> Even(Vector256<float> a, Vector256<float> b)
    {
        if (System.Runtime.Intrinsics.X86.Avx2.IsSupported)
        {
            // shuffle within lanes: (a0 a2 b0 b2 | a4 a6 b4 b6), then permute 64-bit quads to (a0 a2 a4 a6 b0 b2 b4 b6).
            var s = System.Runtime.Intrinsics.X86.Avx.Shuffle(a, b, 0b10_00_10_00);
            return System.Runtime.Intrinsics.X86.Avx2.Permute4x64(s.AsDouble(), 0b11_01_10_00).AsSingle();
        }
        return Vector256.Create(a[0], a[2], a[4], a[6], b[0], b[2], b[4], b[6]);
    }

    private static void Row256(float* src, int* off, float* wc, int taps, float b, float* yr, int ow, Epilogue epi)
    {
        var vb = Vector256.Create(b);
        int ox = 0;
        for (; ox <= ow - 32; ox += 32)
        {
            Vector256<float> a0 = vb, a1 = vb, a2 = vb, a3 = vb;
            float* s = src + ox;
            for (int t = 0; t < taps; t++)
            {
                float* p = s + off[t];
                var wv = Vector256.Create(wc[t]);
                a0 = Vector256.MultiplyAddEstimate(wv, Vector256.Load(p), a0);
                a1 = Vector256.MultiplyAddEstimate(wv, Vector256.Load(p + 8), a1);
                a2 = Vector256.MultiplyAddEstimate(wv, Vector256.Load(p + 16), a2);
                a3 = Vector256.MultiplyAddEstimate(wv, Vector256.Load(p + 24), a3);
            }
            Vector256.Store(EpilogueOps.Apply(a0, epi), yr + ox);
            Vector256.Store(EpilogueOps.Apply(a1, epi), yr + ox + 8);
            Vector256.Store(EpilogueOps.Apply(a2, epi), yr + ox + 16);
            Vector256.Store(EpilogueOps.Apply(a3, epi), yr + ox + 24);
        }
        while (ox < ow)
        {
            if (ox > ow - 8) ox = ow - 8; // overlap the previous vector instead of running past the row
            Vector256<float> a0 = vb;
            float* s = src + ox;
            for (int t = 0; t < taps; t++)
                a0 = Vector256.MultiplyAddEstimate(Vector256.Create(wc[t]), Vector256.Load(s + off[t]), a0);
            Vector256.Store(EpilogueOps.Apply(a0, epi), yr + ox);
            ox += 8;
        }
    }

    private static void Row128(float* src, int* off, float* wc, int taps, float b, float* yr, int ow, Epilogue epi)
    {
        var vb = Vector128.Create(b);
        int ox = 0;
        for (; ox <= ow - 16; ox += 16)
        {
            Vector128<float> a0 = vb, a1 = vb, a2 = vb, a3 = vb;
            float* s = src + ox;
            for (int t = 0; t < taps; t++)
            {
                float* p = s + off[t];
                var wv = Vector128.Create(wc[t]);
                a0 = Vector128.MultiplyAddEstimate(wv, Vector128.Load(p), a0);
                a1 = Vector128.MultiplyAddEstimate(wv, Vector128.Load(p + 4), a1);
                a2 = Vector128.MultiplyAddEstimate(wv, Vector128.Load(p + 8), a2);
                a3 = Vector128.MultiplyAddEstimate(wv, Vector128.Load(p + 12), a3);
            }
            Vector128.Store(EpilogueOps.Apply(a0, epi), yr + ox);
            Vector128.Store(EpilogueOps.Apply(a1, epi), yr + ox + 4);
            Vector128.Store(EpilogueOps.Apply(a2, epi), yr + ox + 8);
            Vector128.Store(EpilogueOps.Apply(a3, epi), yr + ox + 12);
        }
        while (ox < ow)
        {
            if (ox > ow - 4) ox = ow - 4;
            Vector128<float> a0 = vb;
            float* s = src + ox;
            for (int t = 0; t < taps; t++)
                a0 = Vector128.MultiplyAddEstimate(Vector128.Create(wc[t]), Vector128.Load(s + off[t]), a0);
            Vector128.Store(EpilogueOps.Apply(a0, epi), yr + ox);
            ox += 4;
        }
    }

    private static void RowScalar(float* src, int* off, float* wc, int taps, float b, float* yr, int ow, Epilogue epi)
    {
        for (int ox = 0; ox < ow; ox++)
        {
            float a = b;
            for (int t = 0; t < taps; t++) a += wc[t] * src[ox + off[t]];
            yr[ox] = EpilogueOps.Apply(a, epi);
        }
    }
}
