using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>Rotary position embedding (ONNX RotaryEmbedding-23).</summary>
public static unsafe class Rotary
{
    /// <summary>
    /// For each (b, h, s) row of headSize elements at <c>x[b*sB + h*sH + s*sS]</c> (y likewise): the first rotDim
    /// elements are rotated pairwise by the angle whose cos/sin row is <c>cache[pos[b, s]]</c> (or <c>cache[b, s]</c>
    /// when pos is null), each row holding rotDim/2 values. Pairs are (i, i + rotDim/2), or (2i, 2i+1) when
    /// interleaved: x1' = x1·cos - x2·sin, x2' = x2·cos + x1·sin. The remaining elements are copied.
    /// </summary>
    public static void Run<T>(T* x, T* cos, T* sin, long* pos, T* y, int batch, int heads, int seq, int headSize, int rotDim,
        bool interleaved, long sB, long sH, long sS, int maxPos) where T : unmanaged, INumberBase<T>
    {
        int half = rotDim / 2;
        for (int b = 0; b < batch; b++)
            for (int s = 0; s < seq; s++)
            {
                long p = pos != null ? pos[(long)b * seq + s] : (long)b * seq + s;
                if (pos != null && (p < 0 || p >= maxPos)) throw new IndexOutOfRangeException("LLMAOT9021: RotaryEmbedding position id outside the cache");
                T* cr = cos + p * half, sr = sin + p * half;
                for (int h = 0; h < heads; h++)
                {
                    T* xr = x + b * sB + h * sH + s * sS;
                    T* yr = y + b * sB + h * sH + s * sS;
                    for (int i = 0; i < half; i++)
                    {
                        int i1 = interleaved ? 2 * i : i, i2 = interleaved ? 2 * i + 1 : i + half;
                        float c = float.CreateTruncating(cr[i]), sn = float.CreateTruncating(sr[i]);
                        float x1 = float.CreateTruncating(xr[i1]), x2 = float.CreateTruncating(xr[i2]);
                        yr[i1] = T.CreateTruncating(x1 * c - x2 * sn);
                        yr[i2] = T.CreateTruncating(x2 * c + x1 * sn);
                    }
                    for (int i = rotDim; i < headSize; i++) yr[i] = xr[i];
                }
            }
    }
}
