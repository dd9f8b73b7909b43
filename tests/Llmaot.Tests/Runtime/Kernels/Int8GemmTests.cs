using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>Every <see cref="Int8Path"/> the machine supports against the scalar <see cref="IntegerGemm.Run{TA, TB}"/> reference.</summary>
public unsafe class Int8GemmTests
{
    public static TheoryData<Int8Path> Paths() => new(Enum.GetValues<Int8Path>());

    [Theory]
    [MemberData(nameof(Paths))]
    public void Path_matches_the_scalar_reference_on_odd_shapes(Int8Path path)
    {
        if (!Int8Gemm.IsSupported(path))
        {
            Assert.False(Int8Gemm.Best == path, $"{path} is the best path but not supported");
            return; // this machine cannot run it; another machine (or qemu) does
        }
        int cases = 0;
        foreach (var (m, n, k) in new[] { (1, 1, 1), (1, 17, 3), (3, 5, 7), (5, 33, 9), (4, 16, 64), (7, 31, 130), (1, 100, 257), (9, 48, 1) })
            foreach (bool aSigned in new[] { false, true })
                foreach (bool bUnsigned in new[] { false, true })
                    foreach (int zeros in new[] { 0, 1, 2 })
                    {
                        Check(path, m, n, k, aSigned, bUnsigned, zeros, new Random(m * 1000 + n * 10 + k + zeros));
                        cases++;
                    }
        Assert.Equal(8 * 2 * 2 * 3, cases);
    }

    [Fact]
    public void Extreme_values_do_not_saturate_on_any_supported_path()
    {
        // 255 · 127 pairs overflow int16 (vpmaddubsw would saturate); every path must still be exact.
        foreach (var path in Enum.GetValues<Int8Path>().Where(Int8Gemm.IsSupported))
        {
            int m = 3, n = 20, k = 37;
            var a = Enumerable.Repeat((byte)255, m * k).ToArray();
            var b = Enumerable.Repeat((byte)127, k * n).ToArray();
            var y = Product(path, a, b, m, n, k, aSigned: false, bUnsigned: false, null, false, null, false);
            Assert.All(y, v => Assert.Equal(255 * 127 * k, v));
        }
    }

    private static void Check(Int8Path path, int m, int n, int k, bool aSigned, bool bUnsigned, int zeros, Random rng)
    {
        var a = new byte[m * k];
        var b = new byte[k * n];
        rng.NextBytes(a);
        rng.NextBytes(b);
        byte[]? za = zeros == 0 ? null : new byte[zeros == 2 ? m : 1];
        byte[]? zb = zeros == 0 ? null : new byte[zeros == 2 ? n : 1];
        if (za != null) rng.NextBytes(za);
        if (zb != null) rng.NextBytes(zb);
        var got = Product(path, a, b, m, n, k, aSigned, bUnsigned, za, zeros == 2, zb, zeros == 2);
        var want = new int[m * n];
        fixed (byte* pa = a, pb = b, pza = za, pzb = zb)
        fixed (int* pw = want)
        {
            if (aSigned && bUnsigned) IntegerGemm.Run<QInt8, QUInt8>(pa, pb, pza, zeros == 2, pzb, zeros == 2, pw, m, n, k);
            else if (aSigned) IntegerGemm.Run<QInt8, QInt8>(pa, pb, pza, zeros == 2, pzb, zeros == 2, pw, m, n, k);
            else if (bUnsigned) IntegerGemm.Run<QUInt8, QUInt8>(pa, pb, pza, zeros == 2, pzb, zeros == 2, pw, m, n, k);
            else IntegerGemm.Run<QUInt8, QInt8>(pa, pb, pza, zeros == 2, pzb, zeros == 2, pw, m, n, k);
        }
        for (int i = 0; i < want.Length; i++)
            Assert.True(want[i] == got[i], $"{path} m={m} n={n} k={k} aSigned={aSigned} bUnsigned={bUnsigned} zeros={zeros}: y[{i}] {got[i]} vs {want[i]}");
    }

    internal static int[] Product(Int8Path path, byte[] a, byte[] b, int m, int n, int k, bool aSigned, bool bUnsigned, byte[]? za, bool zaRow, byte[]? zb, bool zbCol)
    {
        var packed = new byte[Int8Gemm.PackedBytes(n, k) + 64];
        var y = new int[m * n];
        fixed (byte* pa = a, pb = b, pp = packed, pza = za, pzb = zb)
        fixed (int* py = y)
        {
            byte* aligned = (byte*)(((nint)pp + 63) & ~(nint)63);
            Int8Gemm.Pack(pb, bUnsigned, transposed: false, aligned, n, k);
            Int8Gemm.Run(pa, k, aSigned, pza, zaRow, aligned, bUnsigned, pzb, zbCol, py, n, m, n, k, path);
        }
        return y;
    }
}
