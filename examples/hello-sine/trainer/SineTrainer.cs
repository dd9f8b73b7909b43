using Llmaot.Onnx;
using Llmaot.Runtime;

namespace Llmaot.Examples.HelloSine;

/// <summary>
/// The "hello world" model of llmaot: a 1 -> 16 -> 16 -> 1 ReLU network fitted to y = sin(x) on [0, 2π), trained here in
/// plain C# (seeded SplitMix64 data and initialization, mini-batch Adam, float32, scalar loops in a fixed order) and written
/// to ONNX with llmaot's own <see cref="OnnxWriter"/>. The same seed gives the same bytes on the same platform.
/// </summary>
public static class SineTrainer
{
    /// <summary>Hidden width of both hidden layers.</summary>
    public const int Hidden = 16;

    /// <summary>Seed of the committed examples/hello-sine/sine.onnx.</summary>
    public const ulong DefaultSeed = 1;

    /// <summary>Adam steps of the committed model.</summary>
    public const int DefaultSteps = 40000;

    /// <summary>The trained parameters, Gemm layout (W is [out, in], used with transB=1).</summary>
    public sealed class Mlp
    {
        public float[] W1 = new float[Hidden], B1 = new float[Hidden];
        public float[] W2 = new float[Hidden * Hidden], B2 = new float[Hidden];
        public float[] W3 = new float[Hidden], B3 = new float[1];

        /// <summary>The network on one x, in the order the ONNX graph computes it.</summary>
        public float Predict(float x)
        {
            Span<float> h1 = stackalloc float[Hidden], h2 = stackalloc float[Hidden];
            Forward(x, h1, h2, out float y);
            return y;
        }

        internal void Forward(float x, Span<float> h1, Span<float> h2, out float y)
        {
            for (int j = 0; j < Hidden; j++) h1[j] = MathF.Max(0, x * W1[j] + B1[j]);
            for (int j = 0; j < Hidden; j++)
            {
                float s = 0;
                for (int k = 0; k < Hidden; k++) s += h1[k] * W2[j * Hidden + k];
                h2[j] = MathF.Max(0, s + B2[j]);
            }
            float o = 0;
            for (int k = 0; k < Hidden; k++) o += h2[k] * W3[k];
            y = o + B3[0];
        }
    }

    /// <summary>Trains the network: <paramref name="steps"/> Adam steps on batches of 32 points drawn uniformly from [0, 2π).</summary>
    public static Mlp Train(ulong seed = DefaultSeed, int steps = DefaultSteps)
    {
        var rng = new SplitMix(seed);
        var m = new Mlp();
        // He initialization (uniform with the same variance), biases zero.
        Init(m.W1, 1, ref rng);
        Init(m.W2, Hidden, ref rng);
        Init(m.W3, Hidden, ref rng);
        float[][] p = [m.W1, m.B1, m.W2, m.B2, m.W3, m.B3];
        var g = p.Select(a => new float[a.Length]).ToArray();
        var mom = p.Select(a => new float[a.Length]).ToArray();
        var vel = p.Select(a => new float[a.Length]).ToArray();
        const int batch = 32;
        const float beta1 = 0.9f, beta2 = 0.999f, eps = 1e-8f;
        Span<float> h1 = stackalloc float[Hidden], h2 = stackalloc float[Hidden], d2 = stackalloc float[Hidden];
        float b1t = 1, b2t = 1;
        for (int step = 0; step < steps; step++)
        {
            foreach (var a in g) Array.Clear(a);
            for (int s = 0; s < batch; s++)
            {
                float x = rng.NextFloat() * 2 * MathF.PI;
                float target = (float)Math.Sin(x);
                m.Forward(x, h1, h2, out float y);
                // Mean squared error: dL/dy = 2 (y - t) / batch.
                float dy = 2 * (y - target) / batch;
                g[5][0] += dy;
                for (int k = 0; k < Hidden; k++)
                {
                    g[4][k] += dy * h2[k];
                    d2[k] = h2[k] > 0 ? dy * m.W3[k] : 0;
                }
                for (int j = 0; j < Hidden; j++)
                {
                    if (d2[j] == 0) continue;
                    g[3][j] += d2[j];
                    for (int k = 0; k < Hidden; k++) g[2][j * Hidden + k] += d2[j] * h1[k];
                }
                for (int k = 0; k < Hidden; k++)
                {
                    if (h1[k] <= 0) continue;
                    float d1 = 0;
                    for (int j = 0; j < Hidden; j++) d1 += d2[j] * m.W2[j * Hidden + k];
                    g[1][k] += d1;
                    g[0][k] += d1 * x;
                }
            }
            // Adam with a learning rate that decays linearly from 0.01 to 0.0005.
            float lr = 0.01f + (0.0005f - 0.01f) * step / steps;
            b1t *= beta1;
            b2t *= beta2;
            for (int t = 0; t < p.Length; t++)
                for (int i = 0; i < p[t].Length; i++)
                {
                    mom[t][i] = beta1 * mom[t][i] + (1 - beta1) * g[t][i];
                    vel[t][i] = beta2 * vel[t][i] + (1 - beta2) * g[t][i] * g[t][i];
                    float mh = mom[t][i] / (1 - b1t), vh = vel[t][i] / (1 - b2t);
                    p[t][i] -= lr * mh / (MathF.Sqrt(vh) + eps);
                }
        }
        return m;
    }

    private static void Init(float[] w, int fanIn, ref SplitMix rng)
    {
        float limit = MathF.Sqrt(6f / fanIn);
        for (int i = 0; i < w.Length; i++) w[i] = (rng.NextFloat() * 2 - 1) * limit;
    }

    /// <summary>
    /// The ONNX model (opset 17): input x [batch, 1], three Gemm nodes (transB=1) with Relu between, output y [batch, 1].
    /// </summary>
    public static byte[] ToOnnx(Mlp m)
    {
        var w = new OnnxWriter { GraphName = "hello_sine", Producer = "llmaot hello-sine trainer" };
        w.Input("x", ElementType.Float, "batch", 1L);
        w.Output("y", ElementType.Float, "batch", 1L);
        w.Initializer("fc1.weight", ElementType.Float, [Hidden, 1], m.W1);
        w.Initializer("fc1.bias", ElementType.Float, [Hidden], m.B1);
        w.Initializer("fc2.weight", ElementType.Float, [Hidden, Hidden], m.W2);
        w.Initializer("fc2.bias", ElementType.Float, [Hidden], m.B2);
        w.Initializer("fc3.weight", ElementType.Float, [1, Hidden], m.W3);
        w.Initializer("fc3.bias", ElementType.Float, [1], m.B3);
        w.Node("Gemm", ["x", "fc1.weight", "fc1.bias"], ["h1_pre"], ("transB", 1L));
        w.Node("Relu", ["h1_pre"], ["h1"]);
        w.Node("Gemm", ["h1", "fc2.weight", "fc2.bias"], ["h2_pre"], ("transB", 1L));
        w.Node("Relu", ["h2_pre"], ["h2"]);
        w.Node("Gemm", ["h2", "fc3.weight", "fc3.bias"], ["y"], ("transB", 1L));
        return w.ToBytes();
    }

    /// <summary>The evenly spaced points the example prints: x_i = 2π·i/n, i &lt; n.</summary>
    public static float[] EvalPoints(int n) => Enumerable.Range(0, n).Select(i => (float)(2 * Math.PI * i / n)).ToArray();
}
