using Llmaot.Diagnostics;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// How a reduction over a set of axes of a static shape runs: size-1 dims are dropped and neighbouring dims that are
/// both reduced or both kept are merged, which leaves one of three layouts the kernels handle directly, or a general
/// one that is first transposed so the reduced dims come last.
/// </summary>
internal sealed record ReducePlan(string Layout, long Outer, long N, long Inner, long[] TransposeShape, long[] Perm)
{
    /// <summary>Contiguous rows: [Outer, N], reduce N.</summary>
    public const string Rows = "rows";
    /// <summary>[Outer, N, Inner], reduce N.</summary>
    public const string Strided = "strided";
    /// <summary>Transpose x (collapsed to <see cref="TransposeShape"/>) by <see cref="Perm"/>, then rows [Outer, N].</summary>
    public const string Transposed = "transposed";
    /// <summary>Nothing to compute: the output is empty.</summary>
    public const string Empty = "empty";

    public static ReducePlan For(long[] shape, bool[] reduced)
    {
        long total = shape.Aggregate(1L, (a, b) => a * b);
        long outCount = shape.Where((d, i) => !reduced[i]).Aggregate(1L, (a, b) => a * b);
        long redCount = shape.Where((d, i) => reduced[i]).Aggregate(1L, (a, b) => a * b);
        if (outCount == 0) return new(Empty, 0, 0, 1, [], []);
        if (total == 0) return new(Rows, outCount, 0, 1, [], []); // empty reduction: every output is the identity
        var segs = new List<(long Size, bool Red)>();
        for (int i = 0; i < shape.Length; i++)
        {
            if (shape[i] == 1) continue;
            if (segs.Count > 0 && segs[^1].Red == reduced[i]) segs[^1] = (segs[^1].Size * shape[i], reduced[i]);
            else segs.Add((shape[i], reduced[i]));
        }
        if (segs.Count == 0) return new(Rows, 1, 1, 1, [], []);
        if (segs.All(s => !s.Red)) return new(Rows, outCount, 1, 1, [], []);
        if (segs.Count == 1) return new(Rows, 1, segs[0].Size, 1, [], []);
        if (segs.Count == 2 && !segs[0].Red) return new(Rows, segs[0].Size, segs[1].Size, 1, [], []);
        if (segs.Count == 2) return new(Strided, 1, segs[0].Size, segs[1].Size, [], []);
        if (segs.Count == 3 && !segs[0].Red) return new(Strided, segs[0].Size, segs[1].Size, segs[2].Size, [], []);
        var perm = Enumerable.Range(0, segs.Count).Where(i => !segs[i].Red).Concat(Enumerable.Range(0, segs.Count).Where(i => segs[i].Red)).Select(i => (long)i).ToArray();
        return new(Transposed, outCount, redCount, 1, segs.Select(s => s.Size).ToArray(), perm);
    }

    /// <summary>The normalized, de-duplicated reduced-axis mask for <paramref name="axes"/> (empty: every axis).</summary>
    public static bool[] Mask(Node n, long[] axes, int rank)
    {
        var mask = new bool[rank];
        if (axes.Length == 0) Array.Fill(mask, true);
        foreach (var a in axes)
        {
            if (a < -rank || a >= rank) throw new LlmaotException(Codes.BadAttribute, n, $"axis {a} is out of range for rank {rank}");
            mask[a < 0 ? a + rank : a] = true;
        }
        return mask;
    }
}
