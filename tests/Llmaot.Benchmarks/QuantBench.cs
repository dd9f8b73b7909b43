using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Llmaot.Onnx;
using Llmaot.Runtime;
using Llmaot.Runtime.Kernels;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

/// <summary>
/// The quantized-kernel benchmark (issue 4): <c>dotnet run -c Release --project tests/Llmaot.Benchmarks -- --quant [--out FILE.md] [--seconds S]</c>.
/// Times, single-threaded and side by side in one process, the int8 GEMM (<see cref="Int8Gemm"/>, every path the machine
/// supports) against the fp32 GEMM (<see cref="Gemm"/>) on the same M×K×N shapes, the int8 GEMV against the fp32 GEMV
/// (<see cref="Transformer.MatVec"/>), and the 4-bit MatMulNBits GEMV (<see cref="NBits.MatVec4"/>, block 32) against the
/// fp32 GEMV; and ONNX Runtime (one intra-op thread) running single-op MatMulInteger / MatMulNBits / MatMul graphs of the
/// same shapes. Variants of one row are timed interleaved (see <see cref="Time"/>).
/// </summary>
internal static unsafe class QuantBench
{
    private static readonly CultureInfo Ci = CultureInfo.InvariantCulture;
    private static double seconds = 1.0;

    public static int Run(string[] args)
    {
        string? outFile = null;
        for (int i = 0; i < args.Length; i++)
        {
            switch (args[i])
            {
                case "--quant": break;
                case "--out": outFile = args[++i]; break;
                case "--seconds": seconds = double.Parse(args[++i], Ci); break;
                default: Console.Error.WriteLine($"unknown option {args[i]}"); return 2;
            }
        }
        var md = new StringBuilder();
        void Line(string s)
        {
            Console.WriteLine(s);
            md.AppendLine(s);
        }
        var paths = Enum.GetValues<Int8Path>().Where(Int8Gemm.IsSupported).ToArray();
        Line($"# Quantized kernels benchmark");
        Line("");
        Line($"Command: `dotnet run -c Release --project tests/Llmaot.Benchmarks -- --quant`. {Environment.ProcessorCount} logical CPUs, .NET {Environment.Version}, " +
             $"ONNX Runtime {typeof(InferenceSession).Assembly.GetName().Version} (1 intra-op thread). All single-threaded; every variant of a row timed interleaved in ~2 ms batches; the fastest batch counts (a shared, loaded machine).");
        Line($"Int8 paths supported here: {string.Join(", ", paths)} (best: {Int8Gemm.Best}).");
        Line("");
        Line("## int8 GEMM / GEMV vs fp32 (u8 activations × s8 weights → int32, zero points on both, weights pre-packed)");
        Line("");
        Line("| M×K×N | fp32 ms | int8 " + Int8Gemm.Best + " ms | int8 / fp32 speed-up | " + string.Join(" | ", paths.Where(p => p != Int8Gemm.Best).Select(p => $"{p} ms")) +
             " | ORT fp32 MatMul ms | ORT MatMulInteger ms | llmaot int8 vs ORT MatMulInteger |");
        Line("|---|---|---|---|" + string.Concat(paths.Where(p => p != Int8Gemm.Best).Select(_ => "---|")) + "---|---|---|");
        foreach (var (m, k, n) in new[] { (64, 768, 768), (128, 2048, 768), (128, 768, 2048), (1, 768, 2048), (1, 2048, 5632) })
        {
            var r = new Random(m + k + n);
            var af = RandFloats(r, m * k);
            var bf = RandFloats(r, k * n);
            var bt = RandFloats(r, k * n); // [N, K] layout for the fp32 GEMV
            var a8 = RandBytes(r, m * k);
            var b8 = RandBytes(r, k * n);
            var packed = new byte[Int8Gemm.PackedBytes(n, k)];
            var yf = new float[m * n];
            var yi = new int[m * n];
            var zeros = new byte[] { 128, 3 };
            var timed = paths.Where(p => p != Int8Path.Scalar || (long)m * k * n <= 20_000_000).ToArray();
            double[] t;
            using var ortF = new OrtRunner(FloatMatMul(m, k, n, bf), NamedOnnxValue.CreateFromTensor("a", new DenseTensor<float>(af, [m, k])));
            using var ortI = new OrtRunner(IntMatMul(m, k, n, b8), NamedOnnxValue.CreateFromTensor("a", new DenseTensor<byte>(a8, [m, k])));
            fixed (float* pa = af, pb = bf, pbt = bt, py = yf)
            fixed (byte* pa8 = a8, pb8 = b8, pp = packed, pz = zeros)
            fixed (int* pyi = yi)
            {
                float* cpa = pa, cpb = pb, cpbt = pbt, cpy = py;
                byte* cpa8 = pa8, cpb8 = pb8, cpp = pp, az = pz, bz = pz + 1;
                int* cpyi = pyi;
                Int8Gemm.Pack(cpb8, false, false, cpp, n, k);
                var fs = new List<Action>
                {
                    m == 1
                        ? () => Transformer.MatVec(cpbt, cpa, cpy, k, 0, n)
                        : () => Gemm.Run(m, n, k, cpa, k, false, cpb, n, false, cpy, n, 1f, 0f, null, Epilogue.None),
                    ortF.Run,
                    ortI.Run,
                };
                foreach (var path in timed) fs.Add(() => Int8Gemm.Run(cpa8, k, false, az, false, cpp, false, bz, false, cpyi, n, m, n, k, path));
                t = Time(fs.ToArray());
            }
            double fp32 = t[0], of = t[1], oi = t[2];
            double best = t[3 + Array.IndexOf(timed, Int8Gemm.Best)];
            var others = paths.Where(p => p != Int8Gemm.Best).Select(p => Array.IndexOf(timed, p) is int i and >= 0 ? t[3 + i] : double.NaN);
            Line(string.Create(Ci, $"| {m}×{k}×{n}{(m == 1 ? " (GEMV)" : "")} | {fp32 * 1e3:F3} | {best * 1e3:F3} | **{fp32 / best:F2}×** | ") +
                 string.Concat(others.Select(x => double.IsNaN(x) ? "(skipped) | " : string.Create(Ci, $"{x * 1e3:F3} | "))) +
                 string.Create(Ci, $"{of * 1e3:F3} | {oi * 1e3:F3} | {oi / best:F2}× |"));
        }
        Line("");
        Line("fp32 baseline: `Gemm.Run` (blocked, register-tiled, AVX-512 here) for M > 1, `Transformer.MatVec` (the LLM fp32 matvec) for M = 1.");
        Line("");
        Line("## 4-bit MatMulNBits GEMV vs fp32 GEMV (block 32, with zero points)");
        Line("");
        Line("| K×N | fp32 GEMV ms | 4-bit GEMV ms | 4-bit / fp32 speed-up | ORT fp32 MatMul ms | ORT MatMulNBits ms | llmaot 4-bit vs ORT MatMulNBits |");
        Line("|---|---|---|---|---|---|---|");
        foreach (var (k, n) in new[] { (768, 2048), (2048, 768), (2048, 5632), (5632, 2048) })
        {
            const int block = 32;
            int kb = k / block;
            var r = new Random(k * 7 + n);
            var x = RandFloats(r, k);
            var w = RandFloats(r, k * n);
            var q = RandBytes(r, n * kb * block / 2);
            var scales = RandFloats(r, n * kb);
            var zp = RandBytes(r, n * ((kb + 1) / 2));
            var perm = new float[kb * block];
            var y = new float[n];
            using var ortF = new OrtRunner(FloatMatMul(1, k, n, w), NamedOnnxValue.CreateFromTensor("a", new DenseTensor<float>(x, [1, k])));
            using var ortQ = new OrtRunner(NBitsMatMul(k, n, block, q, scales, zp), NamedOnnxValue.CreateFromTensor("a", new DenseTensor<float>(x, [1, k])));
            double[] t;
            fixed (float* px = x, pw = w, ps = scales, pperm = perm, py = y)
            fixed (byte* pq = q, pz = zp)
            {
                float* cx = px, cw = pw, cs = ps, cperm = pperm, cy = py;
                byte* cq = pq, cz = pz;
                t = Time(
                    () => Transformer.MatVec(cw, cx, cy, k, 0, n),
                    () =>
                    {
                        NBits.PermuteActivations4(cx, cperm, k, kb * block);
                        NBits.MatVec4(cperm, cq, cs, cz, cy, kb, block, 0, n);
                    },
                    ortF.Run,
                    ortQ.Run);
            }
            double fp32 = t[0], q4 = t[1], of = t[2], oq = t[3];
            Line(string.Create(Ci, $"| {k}×{n} | {fp32 * 1e3:F3} | {q4 * 1e3:F3} | **{fp32 / q4:F2}×** | {of * 1e3:F3} | {oq * 1e3:F3} | {oq / q4:F2}× |"));
        }
        Line("");
        Line("Weight bytes per GEMV: fp32 4·K·N, 4-bit K·N/2 plus one float scale and half a byte of zero point per 32 weights (≈ 0.64·K·N).");
        if (outFile != null) File.WriteAllText(outFile, md.ToString());
        return 0;
    }

    private static float[] RandFloats(Random r, int n) => Enumerable.Range(0, n).Select(_ => (float)(r.NextDouble() * 2 - 1)).ToArray();

    private static byte[] RandBytes(Random r, int n)
    {
        var b = new byte[n];
        r.NextBytes(b);
        return b;
    }

    /// <summary>
    /// Per-call seconds of each function, measured interleaved: after 0.3 s of warm-up each (so the JIT has promoted the
    /// kernels to fully optimised code; NativeAOT binaries always are), batches of about 2 ms of each function in turn
    /// until --seconds per function have passed; each result is the fastest batch's per-call time, which on a shared
    /// machine is the least disturbed one, and the functions saw the same conditions.
    /// </summary>
    private static double[] Time(params Action[] fs)
    {
        var per = new int[fs.Length];
        var best = new double[fs.Length];
        var sw = new Stopwatch();
        for (int i = 0; i < fs.Length; i++)
        {
            sw.Restart();
            int calls = 0;
            for (; calls < 20 || sw.Elapsed.TotalSeconds < 0.3; calls++) fs[i]();
            per[i] = Math.Max(1, (int)(0.002 * calls / sw.Elapsed.TotalSeconds));
            best[i] = double.MaxValue;
        }
        var total = Stopwatch.StartNew();
        while (total.Elapsed.TotalSeconds < seconds * fs.Length)
            for (int i = 0; i < fs.Length; i++)
            {
                sw.Restart();
                for (int c = 0; c < per[i]; c++) fs[i]();
                best[i] = Math.Min(best[i], sw.Elapsed.TotalSeconds / per[i]);
            }
        return best;
    }

    /// <summary>An ONNX Runtime session (one intra-op thread) with its input fed, for timing.</summary>
    private sealed class OrtRunner : IDisposable
    {
        private readonly SessionOptions opts = new() { IntraOpNumThreads = 1, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        private readonly InferenceSession session;
        private readonly List<NamedOnnxValue> feed;

        public OrtRunner(byte[] model, NamedOnnxValue input)
        {
            session = new InferenceSession(model, opts);
            feed = [input];
        }

        public void Run()
        {
            using var r = session.Run(feed);
        }

        public void Dispose()
        {
            session.Dispose();
            opts.Dispose();
        }
    }

    private static byte[] FloatMatMul(int m, int k, int n, float[] b) =>
        new OnnxWriter().Opset(17).Input("a", ElementType.Float, (long)m, (long)k).Output("y", ElementType.Float, (long)m, (long)n)
            .Initializer("b", ElementType.Float, [k, n], b)
            .Node("MatMul", ["a", "b"], ["y"]).ToBytes();

    private static byte[] IntMatMul(int m, int k, int n, byte[] b) =>
        new OnnxWriter().Opset(17).Input("a", ElementType.UInt8, (long)m, (long)k).Output("y", ElementType.Int32, (long)m, (long)n)
            .Initializer("b", ElementType.Int8, [k, n], b)
            .Initializer("az", ElementType.UInt8, [], new byte[] { 128 })
            .Initializer("bz", ElementType.Int8, [], new byte[] { 3 })
            .Node("MatMulInteger", ["a", "b", "az", "bz"], ["y"]).ToBytes();

    private static byte[] NBitsMatMul(int k, int n, int block, byte[] q, float[] scales, byte[] zp) =>
        new OnnxWriter().Opset(17).Opset(1, "com.microsoft").Input("a", ElementType.Float, 1L, (long)k).Output("y", ElementType.Float, 1L, (long)n)
            .Initializer("b", ElementType.UInt8, [n, k / block, block / 2], q)
            .Initializer("s", ElementType.Float, [n * (k / block)], scales)
            .Initializer("z", ElementType.UInt8, [zp.Length], zp)
            .NodeIn("com.microsoft", "MatMulNBits", ["a", "b", "s", "z"], ["y"], ("K", (long)k), ("N", (long)n), ("bits", 4L), ("block_size", (long)block))
            .ToBytes();
}
