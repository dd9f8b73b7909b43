using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary><see cref="Resize.Gather{T}"/> (row reuse, 2x interleave fast path) against a naive per-element gather.</summary>
public unsafe class ResizeTests
{
    private static T[] Naive<T>(T[] x, int[] inShape, int[] outShape, int[] start, int[] idx)
    {
        int r = inShape.Length;
        var inStr = new long[r];
        long acc = 1, total = 1;
        for (int d = r - 1; d >= 0; d--) { inStr[d] = acc; acc *= inShape[d]; total *= outShape[d]; }
        var y = new T[total];
        var o = new int[r];
        for (long f = 0; f < total; f++)
        {
            long off = 0;
            for (int d = 0; d < r; d++) off += idx[start[d] + o[d]] * inStr[d];
            y[f] = x[off];
            for (int d = r - 1; d >= 0; d--) { if (++o[d] < outShape[d]) break; o[d] = 0; }
        }
        return y;
    }

    private static void Check<T>(Random r, int[] inShape, int[] outShape, Func<int, int, int, int> map, Func<Random, T> gen) where T : unmanaged
    {
        var start = new int[inShape.Length];
        var idx = new List<int>();
        for (int d = 0; d < inShape.Length; d++)
        {
            start[d] = idx.Count;
            for (int j = 0; j < outShape[d]; j++) idx.Add(Math.Min(inShape[d] - 1, map(j, inShape[d], outShape[d])));
        }
        var x = Enumerable.Range(0, inShape.Aggregate(1, (a, b) => a * b)).Select(_ => gen(r)).ToArray();
        var expected = Naive(x, inShape, outShape, start, idx.ToArray());
        var y = new T[expected.Length];
        var ia = idx.ToArray();
        fixed (T* px = x, py = y)
            Resize.Gather(px, py, inShape, outShape, start, ia);
        Assert.Equal(expected, y);
    }

    [Fact]
    public void MatchesNaiveGather()
    {
        var r = new Random(5);
        Func<int, int, int, int> floor = (j, i, o) => (int)((long)j * i / o);
        Check(r, [1, 3, 5, 20], [1, 3, 10, 40], floor, rr => (float)rr.NextDouble());          // 2x: interleave + row copy
        Check(r, [1, 2, 4, 3], [1, 2, 8, 6], floor, rr => (float)rr.NextDouble());            // 2x, narrower than a vector
        Check(r, [1, 24, 5, 5], [1, 24, 40, 40], floor, rr => (float)rr.NextDouble());        // 8x
        Check(r, [2, 3, 7], [2, 5, 4], floor, rr => rr.Next());                               // downsample, int
        Check(r, [3, 9], [4, 18], (j, i, o) => (j * 7 + 3) % i, rr => (short)rr.Next());       // arbitrary indices, 2-byte
        Check(r, [6, 17], [6, 34], floor, rr => rr.Next());                                    // 2x, odd input width, int
    }
}
