using Llmaot.Runtime.Kernels;
using Xunit;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>The shared broadcasting odometer against offsets computed from each row's multi-index.</summary>
public class BroadcastRowsTests
{
    [Theory]
    [InlineData(1, 1)]
    [InlineData(2, 2)]
    [InlineData(3, 3)]
    [InlineData(5, 4)]
    [InlineData(8, 5)]
    [InlineData(16, 6)]
    public void Row_offsets_match_the_multi_index_of_every_row(int rank, int seed)
    {
        var rnd = new Random(seed);
        var shape = new int[rank];
        for (int d = 0; d < rank; d++) shape[d] = rank > 8 ? rnd.Next(1, 3) : rnd.Next(1, 5);
        int[] Strides()
        {
            // row-major strides of a random broadcast source: each dimension either kept or broadcast (stride 0)
            var s = new int[rank];
            int acc = 1;
            for (int d = rank - 1; d >= 0; d--)
            {
                bool kept = rnd.Next(3) != 0;
                s[d] = kept ? acc : 0;
                if (kept) acc *= shape[d];
            }
            return s;
        }
        int[] s0 = Strides(), s1 = Strides(), s2 = Strides();
        var rows = new BroadcastRows(shape, s0, s1, s2);
        long expectedRows = 1;
        for (int d = 0; d < rank - 1; d++) expectedRows *= shape[d];
        Assert.Equal(expectedRows, rows.Count);
        for (long r = 0; r < rows.Count; r++, rows.Next())
        {
            long rem = r, e0 = 0, e1 = 0, e2 = 0;
            for (int d = rank - 2; d >= 0; d--)
            {
                long i = rem % shape[d];
                rem /= shape[d];
                e0 += i * s0[d]; e1 += i * s1[d]; e2 += i * s2[d];
            }
            Assert.Equal((e0, e1, e2), (rows.A, rows.B, rows.C));
        }
        Assert.Equal((0L, 0L, 0L), (rows.A, rows.B, rows.C)); // after the last row every counter has wrapped back to 0
    }

    [Fact]
    public void Absent_operands_stay_at_zero()
    {
        int[] shape = [3, 2, 4];
        var rows = new BroadcastRows(shape, [8, 4, 1]);
        for (long r = 0; r < rows.Count; r++, rows.Next())
        {
            Assert.Equal(r * 4, rows.A);
            Assert.Equal((0L, 0L), (rows.B, rows.C));
        }
    }

    [Fact]
    public void A_rank_above_16_is_refused_with_a_code()
    {
        var e = Assert.Throws<ArgumentOutOfRangeException>(() => new BroadcastRows(new int[17], new int[17]));
        Assert.Contains("LLMAOT9020", e.Message);
    }
}
