using System.Runtime.Intrinsics;
using Llmaot.Runtime.Kernels;

namespace Llmaot.Tests.Runtime.Kernels;

public unsafe class VectorMathTests
{
    private enum Fn { Exp, Tanh, Sigmoid, Erf, ExpFlushed }

    /// <summary>Evaluates f over x with the given vector width (0 = scalar fallback); tails use the scalar function.</summary>
    private static float[] Eval(Fn fn, float[] x, int width)
    {
        var y = new float[x.Length];
        fixed (float* px = x, py = y)
        {
            int i = 0;
            if (width == 512)
                for (; i <= x.Length - 16; i += 16)
                {
                    var v = Vector512.Load(px + i);
                    Vector512.Store(V(fn, v), py + i);
                }
            if (width == 256)
                for (; i <= x.Length - 8; i += 8)
                {
                    var v = Vector256.Load(px + i);
                    Vector256.Store(V(fn, v), py + i);
                }
            if (width == 128)
                for (; i <= x.Length - 4; i += 4)
                {
                    var v = Vector128.Load(px + i);
                    Vector128.Store(V(fn, v), py + i);
                }
            for (; i < x.Length; i++)
                py[i] = fn switch { Fn.Exp => VectorMath.Exp(px[i]), Fn.Tanh => VectorMath.Tanh(px[i]), Fn.Erf => VectorMath.Erf(px[i]), Fn.ExpFlushed => px[i] < -87.3365402f ? 0f : VectorMath.Exp(px[i]), _ => VectorMath.Sigmoid(px[i]) };
        }
        return y;
    }

    private static Vector512<float> V(Fn fn, Vector512<float> v) => fn switch
    {
        Fn.Exp => VectorMath.Exp(v), Fn.Tanh => VectorMath.Tanh(v), Fn.Erf => VectorMath.Erf(v), Fn.ExpFlushed => VectorMath.ExpFlushed(v), _ => VectorMath.Sigmoid(v),
    };

    private static Vector256<float> V(Fn fn, Vector256<float> v) => fn switch
    {
        Fn.Exp => VectorMath.Exp(v), Fn.Tanh => VectorMath.Tanh(v), Fn.Erf => VectorMath.Erf(v), Fn.ExpFlushed => VectorMath.ExpFlushed(v), _ => VectorMath.Sigmoid(v),
    };

    private static Vector128<float> V(Fn fn, Vector128<float> v) => fn switch
    {
        Fn.Exp => VectorMath.Exp(v), Fn.Tanh => VectorMath.Tanh(v), Fn.Erf => VectorMath.Erf(v), Fn.ExpFlushed => VectorMath.ExpFlushed(v), _ => VectorMath.Sigmoid(v),
    };

    private static double Ref(Fn fn, double x) => fn switch
    {
        Fn.Exp or Fn.ExpFlushed => Math.Exp(x),
        Fn.Erf => Llmaot.Runtime.Kernels.ScalarMath.Erf(x),
        Fn.Tanh => Math.Tanh(x),
        _ => 1.0 / (1.0 + Math.Exp(-x)),
    };

    private static float[] Grid(float lo, float hi, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = lo + (hi - lo) * i / (count - 1);
        return x;
    }

    /// <summary>Max relative error (in units of float epsilon 2^-23) where the true value is a normal float.</summary>
    private static void CheckAccuracy(Fn fn, float[] x, double maxUlps, double absFloor)
    {
        var widths = new List<int> { 0 };
        widths.AddRange(KernelTestUtil.Widths());
        foreach (int width in widths)
        {
            var y = Eval(fn, x, width);
            for (int i = 0; i < x.Length; i++)
            {
                double e = Ref(fn, x[i]);
                double err = Math.Abs(y[i] - e);
                double tol = Math.Max(absFloor, maxUlps * Math.Pow(2, -23) * Math.Abs(e));
                Assert.True(err <= tol, $"{fn} V{width} x={x[i]:R}: got {y[i]:R}, expected {e:R}, err {err:E3} tol {tol:E3}");
            }
        }
    }

    [Fact]
    public void ExpAccuracy()
    {
        CheckAccuracy(Fn.Exp, Grid(-87f, 88.7f, 200_003), 2.0, 1e-37);
        CheckAccuracy(Fn.Exp, Grid(-1f, 1f, 20_001), 2.0, 0);
        var r = new Random(4);
        CheckAccuracy(Fn.Exp, KernelTestUtil.Rand(r, 50_000, -20f, 20f), 2.0, 0);
    }

    [Fact]
    public void ExpSpecialValues()
    {
        float[] x = [float.NegativeInfinity, -1000f, -104f, -103f, -100f, -88f, 0f, -0f, 88.7f, 88.8f, 89f, 100f, float.PositiveInfinity, float.NaN, 1f, 2f];
        foreach (int width in new[] { 0 }.Concat(KernelTestUtil.Widths()))
        {
            var y = Eval(Fn.Exp, x, width);
            Assert.Equal(0f, y[0]);
            Assert.Equal(0f, y[1]);
            Assert.True(y[2] >= 0f && y[2] < 1e-44f, $"V{width} exp(-104) = {y[2]}");
            Assert.Equal(Math.Exp(-103), y[3], 1e-45);
            Assert.Equal(Math.Exp(-100), y[4], 1e-45);
            Assert.Equal(1f, y[6]);
            Assert.Equal(1f, y[7]);
            Assert.True(float.IsFinite(y[8]) && Math.Abs(y[8] - Math.Exp(x[8])) <= 2.5e-7 * Math.Exp(x[8]), $"V{width} exp(88.7) = {y[8]}");
            Assert.True(float.IsPositiveInfinity(y[9]) && float.IsPositiveInfinity(y[10]) && float.IsPositiveInfinity(y[11]) && float.IsPositiveInfinity(y[12]), $"V{width} overflow");
            Assert.True(float.IsNaN(y[13]), $"V{width} NaN");
        }
    }

    [Fact]
    public void TanhAccuracy()
    {
        CheckAccuracy(Fn.Tanh, Grid(-12f, 12f, 200_001), 3.0, 0);
        CheckAccuracy(Fn.Tanh, Grid(-1e-3f, 1e-3f, 2_001), 3.0, 0);
        CheckAccuracy(Fn.Tanh, Grid(0.6f, 0.65f, 2_001), 3.0, 0);
        float[] x = [-100f, -20f, 20f, 100f, float.PositiveInfinity, float.NegativeInfinity, 1e-30f, -1e-30f];
        foreach (int width in new[] { 0 }.Concat(KernelTestUtil.Widths()))
        {
            var y = Eval(Fn.Tanh, x, width);
            Assert.Equal([-1f, -1f, 1f, 1f, 1f, -1f, 1e-30f, -1e-30f], y);
        }
    }

    [Fact]
    public void SigmoidAccuracy()
    {
        CheckAccuracy(Fn.Sigmoid, Grid(-87f, 40f, 200_001), 3.0, 1e-37);
        float[] x = [-200f, 200f, 0f, float.PositiveInfinity, float.NegativeInfinity];
        foreach (int width in new[] { 0 }.Concat(KernelTestUtil.Widths()))
        {
            var y = Eval(Fn.Sigmoid, x, width);
            Assert.Equal([0f, 1f, 0.5f, 1f, 0f], y);
        }
    }

    [Fact]
    public void ErfAccuracy()
    {
        CheckAccuracy(Fn.Erf, Grid(-5f, 5f, 200_001), 3.0, 0);
        CheckAccuracy(Fn.Erf, Grid(-1e-3f, 1e-3f, 2_001), 3.0, 0);
        CheckAccuracy(Fn.Erf, Grid(0.99f, 1.01f, 2_001), 3.0, 0);
        CheckAccuracy(Fn.Erf, Grid(3.9f, 3.95f, 2_001), 3.0, 0);
        float[] x = [float.NegativeInfinity, -100f, -4f, 0f, -0f, 1e-30f, -1e-30f, 4f, 100f, float.PositiveInfinity, float.NaN, 0.5f];
        foreach (int width in new[] { 0 }.Concat(KernelTestUtil.Widths()))
        {
            var y = Eval(Fn.Erf, x, width);
            Assert.Equal([-1f, -1f, -1f, 0f, -0f, 1.1283791e-30f, -1.1283791e-30f, 1f, 1f, 1f], y[..10]);
            Assert.True(float.IsNegative(y[4]), $"V{width} erf(-0)");
            Assert.True(float.IsNaN(y[10]), $"V{width} erf(NaN)");
        }
    }

    [Fact]
    public void ExpFlushedMatchesExpAboveMinNormalAndFlushesBelow()
    {
        CheckAccuracy(Fn.ExpFlushed, Grid(-87.3365f, 88.7f, 200_003), 2.0, 0);
        float[] x = [-87.34f, -100f, -104f, -1e4f, float.NegativeInfinity, float.NaN, 0f, 100f];
        foreach (int width in new[] { 0 }.Concat(KernelTestUtil.Widths()))
        {
            var y = Eval(Fn.ExpFlushed, x, width);
            Assert.Equal([0f, 0f, 0f, 0f, 0f], y[..5]);
            Assert.True(float.IsNaN(y[5]) && y[6] == 1f && float.IsPositiveInfinity(y[7]), $"V{width}");
        }
    }
}
