using System.Numerics;

namespace Llmaot.Runtime.Kernels;

/// <summary>
/// Ops whose output length depends on the values: NonMaxSuppression and Unique. The model is compiled for a declared
/// length; these kernels compute the real result in scratch and return false (writing nothing) when its length differs,
/// so the generated code can throw instead of returning a silently truncated or padded result.
/// </summary>
public static unsafe class Selection
{
    /// <summary>Scratch longs <see cref="Nms"/> needs.</summary>
    public static long NmsScratch(int batch, int classes, int boxes) => (long)batch * classes * boxes * 3 + 2L * boxes;

    /// <summary>
    /// NonMaxSuppression: per (batch b, class c), boxes with score &gt; scoreThreshold (when given) are taken in descending score
    /// order (ties: lower index first) and kept unless their IoU with a box already kept for this class exceeds iouThreshold,
    /// at most maxOutput[0] per class (0 or null: none). boxes: [batch, n, 4] as (y1, x1, y2, x2) corners in any order, or
    /// (xc, yc, w, h) when centerPoint; scores: [batch, classes, n]; y: [count, 3] rows (b, c, box). Returns false when the
    /// number kept is not <paramref name="count"/>.
    /// </summary>
    public static bool Nms<T, TI>(T* boxes, T* scores, TI* maxOutput, T* iouThreshold, T* scoreThreshold, long* y, int batch, int classes, int n,
        bool centerPoint, long count, long* scratch) where T : unmanaged, INumberBase<T> where TI : unmanaged, IBinaryInteger<TI>
    {
        long maxOut = maxOutput != null ? long.CreateTruncating(maxOutput[0]) : 0;
        double iouT = iouThreshold != null ? double.CreateTruncating(iouThreshold[0]) : 0;
        long* triples = scratch;
        long* order = scratch + (long)batch * classes * n * 3;
        long* kept = order + n;
        long total = 0;
        for (int b = 0; b < batch; b++)
            for (int c = 0; c < classes; c++)
            {
                T* sc = scores + ((long)b * classes + c) * n;
                int cand = 0;
                for (int i = 0; i < n; i++)
                {
                    if (scoreThreshold != null && !(double.CreateTruncating(sc[i]) > double.CreateTruncating(scoreThreshold[0]))) continue;
                    // Insertion by descending score; equal scores keep index order.
                    int j = cand++;
                    double s = double.CreateTruncating(sc[i]);
                    while (j > 0 && double.CreateTruncating(sc[order[j - 1]]) < s) { order[j] = order[j - 1]; j--; }
                    order[j] = i;
                }
                int nk = 0;
                for (int t = 0; t < cand && nk < maxOut; t++)
                {
                    long i = order[t];
                    bool suppressed = false;
                    for (int q = 0; q < nk && !suppressed; q++)
                        suppressed = Iou(boxes + ((long)b * n + i) * 4, boxes + ((long)b * n + kept[q]) * 4, centerPoint) > iouT;
                    if (suppressed) continue;
                    kept[nk++] = i;
                    triples[total * 3] = b;
                    triples[total * 3 + 1] = c;
                    triples[total * 3 + 2] = i;
                    total++;
                }
            }
        if (total != count) return false;
        for (long i = 0; i < total * 3; i++) y[i] = triples[i];
        return true;
    }

    private static double Iou<T>(T* a, T* b, bool centerPoint) where T : unmanaged, INumberBase<T>
    {
        Corners(a, centerPoint, out double ay1, out double ax1, out double ay2, out double ax2);
        Corners(b, centerPoint, out double by1, out double bx1, out double by2, out double bx2);
        double ih = Math.Min(ay2, by2) - Math.Max(ay1, by1), iw = Math.Min(ax2, bx2) - Math.Max(ax1, bx1);
        if (ih <= 0 || iw <= 0) return 0;
        double inter = ih * iw, areaA = (ay2 - ay1) * (ax2 - ax1), areaB = (by2 - by1) * (bx2 - bx1);
        double union = areaA + areaB - inter;
        return areaA <= 0 || areaB <= 0 || union <= 0 ? 0 : inter / union;
    }

    private static void Corners<T>(T* p, bool centerPoint, out double y1, out double x1, out double y2, out double x2) where T : unmanaged, INumberBase<T>
    {
        double a = double.CreateTruncating(p[0]), b = double.CreateTruncating(p[1]), c = double.CreateTruncating(p[2]), d = double.CreateTruncating(p[3]);
        if (centerPoint)
        {
            // (x_center, y_center, width, height)
            x1 = a - c / 2; x2 = a + c / 2; y1 = b - d / 2; y2 = b + d / 2;
            return;
        }
        y1 = Math.Min(a, c); y2 = Math.Max(a, c); x1 = Math.Min(b, d); x2 = Math.Max(b, d);
    }

    /// <summary>Scratch longs <see cref="Unique"/> needs for <paramref name="len"/> slices.</summary>
    public static long UniqueScratch(long len) => 4 * len;

    /// <summary>
    /// Unique over the len slices along an axis of x viewed as [outer, len, inner] (outer = 1 and inner = 1 without axis).
    /// The distinct slices, in first-occurrence order or sorted ascending lexicographically (slice elements taken outer-major),
    /// go to y [outer, count, inner]; indices[u] = first occurrence, inverse[i] = position of slice i in y, counts[u] =
    /// occurrences. Any of y, indices, inverse, counts may be null. Returns false when the number of distinct slices is
    /// not <paramref name="count"/>.
    /// </summary>
    public static bool Unique<T>(T* x, T* y, long* indices, long* inverse, long* counts, long outer, long len, long inner, bool sorted, long count, long* scratch)
        where T : unmanaged, IComparable<T>
    {
        long* reps = scratch, cnt = scratch + len, inv = scratch + 2 * len, perm = scratch + 3 * len;
        long u = 0;
        for (long i = 0; i < len; i++)
        {
            long found = -1;
            for (long r = 0; r < u && found < 0; r++)
                if (Compare(x, reps[r], i, outer, len, inner) == 0) found = r;
            if (found < 0) { found = u; reps[u] = i; cnt[u] = 0; u++; }
            cnt[found]++;
            inv[i] = found;
        }
        if (u != count) return false;
        for (long r = 0; r < u; r++)
        {
            // perm: the y order of the representatives (insertion sort when sorted).
            long j = r;
            if (sorted)
                while (j > 0 && Compare(x, reps[perm[j - 1]], reps[r], outer, len, inner) > 0) { perm[j] = perm[j - 1]; j--; }
            perm[j] = r;
        }
        // reps[] is no longer needed in first-occurrence order once inverse is remapped: cnt is reused for the rank of each rep.
        for (long k = 0; k < u; k++)
        {
            long r = perm[k];
            if (indices != null) indices[k] = reps[r];
            if (counts != null) counts[k] = cnt[r];
            if (y != null)
                for (long o = 0; o < outer; o++)
                    for (long e = 0; e < inner; e++) y[(o * u + k) * inner + e] = x[(o * len + reps[r]) * inner + e];
        }
        for (long k = 0; k < u; k++) cnt[perm[k]] = k;
        if (inverse != null)
            for (long i = 0; i < len; i++) inverse[i] = cnt[inv[i]];
        return true;
    }

    private static int Compare<T>(T* x, long a, long b, long outer, long len, long inner) where T : unmanaged, IComparable<T>
    {
        for (long o = 0; o < outer; o++)
            for (long e = 0; e < inner; e++)
            {
                int c = x[(o * len + a) * inner + e].CompareTo(x[(o * len + b) * inner + e]);
                if (c != 0) return c;
            }
        return 0;
    }
}
