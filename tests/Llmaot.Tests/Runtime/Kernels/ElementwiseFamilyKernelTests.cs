using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

/// <summary>Vector paths of the elementwise family against their scalar forms, and the scalar helpers against known values.</summary>
public unsafe class ElementwiseFamilyKernelTests
{
    private static float[] R(int n, int seed, float scale = 8)
    {
        var r = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * scale - scale / 2)).ToArray();
    }

    [Fact]
    public void Vector_unary_ops_match_their_scalar_form()
    {
        var x = R(131, 1);
        Check<ExpOp<float>>(x, 1e-6);
        Check<SinOp<float>>(x, 1e-6);
        Check<RoundOp<float>>(x, 0);
        Check<SoftplusOp<float>>(x, 1e-6);
        Check<MishOp<float>>(x, 1e-6);
        Check<GeluTanhOp<float>>(x, 1e-6);
        Check<AbsOp<float>>(x, 0);
    }

    private static void Check<TOp>(float[] x, double tol) where TOp : IUnaryOp<float>
    {
        var y = new float[x.Length];
        var s = new float[x.Length];
        fixed (float* px = x, py = y, ps = s)
        {
            Elementwise.Unary<TOp, float>(px, py, x.Length);
            Elementwise.UnaryScalar<TOp, float>(px, ps, x.Length);
        }
        for (int i = 0; i < x.Length; i++)
            Assert.True(Math.Abs(y[i] - s[i]) <= tol * (1 + Math.Abs(s[i])), $"{typeof(TOp).Name}({x[i]}) = {y[i]}, scalar {s[i]}");
    }

    [Fact]
    public void Clip_vector_matches_scalar_for_ints_and_floats()
    {
        var xi = Enumerable.Range(-40, 90).Select(i => (sbyte)i).ToArray();
        var yi = new sbyte[xi.Length];
        fixed (sbyte* px = xi, py = yi) Elementwise.UnaryParam<ClipOp<sbyte>, sbyte>(px, py, xi.Length, -5, 7);
        Assert.Equal(xi.Select(v => (sbyte)Math.Clamp((int)v, -5, 7)), yi);
    }

    [Fact]
    public void Round_is_half_to_even_and_erf_matches_known_values()
    {
        float[] x = [0.5f, 1.5f, 2.5f, -0.5f, -1.5f];
        var y = new float[x.Length];
        fixed (float* px = x, py = y) Elementwise.Unary<RoundOp<float>, float>(px, py, x.Length);
        Assert.Equal([0f, 2f, 2f, -0f, -2f], y);
        Assert.Equal(0.8427007929497149, ScalarMath.Erf(1.0), 1e-14);
        Assert.Equal(-0.9999779095030014, ScalarMath.Erf(-3.0), 1e-14);
        Assert.Equal(0.9999999845827421, ScalarMath.Erf(4.0), 1e-14);
    }

    [Fact]
    public void Mod_follows_the_divisor_sign_and_shift_past_width_is_zero()
    {
        Assert.Equal(2, ModOp<int>.Invoke(-4, 3));
        Assert.Equal(-2, ModOp<int>.Invoke(4, -3));
        Assert.Equal(-1, FModOp<int>.Invoke(-4, 3));
        Assert.Equal((byte)0, ShiftLeftOp<byte>.Invoke(1, 8));
        Assert.Equal((uint)8, ShiftLeftOp<uint>.Invoke(1, 3));
        Assert.Equal(9L, PowOp<long, long>.Invoke(3, 2));
    }

    [Fact]
    public void Float8_round_trips_and_saturates()
    {
        Assert.Equal(0x7E, Float8.Encode(1000, ElementType.Float8E4M3FN, saturate: true)); // 448
        Assert.Equal(0x7F, Float8.Encode(1000, ElementType.Float8E4M3FN, saturate: false)); // NaN
        Assert.Equal(0x7C, Float8.Encode(1e6, ElementType.Float8E5M2, saturate: false)); // +inf
        Assert.Equal(448.0, Float8.Decode(0x7E, ElementType.Float8E4M3FN));
        Assert.Equal(240.0, Float8.Decode(0x7F, ElementType.Float8E4M3FNUZ));
        for (int b = 0; b < 256; b++)
            foreach (var t in new[] { ElementType.Float8E4M3FN, ElementType.Float8E4M3FNUZ, ElementType.Float8E5M2, ElementType.Float8E5M2FNUZ })
            {
                double v = Float8.Decode((byte)b, t);
                if (double.IsNaN(v) || v == 0 && (b & 0x80) != 0 && t is ElementType.Float8E4M3FNUZ or ElementType.Float8E5M2FNUZ) continue;
                Assert.Equal((byte)b, Float8.Encode(v, t, saturate: false));
            }
    }
}
