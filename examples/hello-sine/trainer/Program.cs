using System.Globalization;
using System.Runtime.InteropServices;
using Llmaot.Examples.HelloSine;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;

// hello-sine trainer:
//   train OUT.onnx [--seed S] [--steps N]   fit the MLP to sin(x) and write the ONNX model
//   inputs X.npy N                           write N evenly spaced x in [0, 2π) as a float32 [N,1] .npy
//   compare X.npy Y.npy                      print the binary's predictions next to sin(x)
var ci = CultureInfo.InvariantCulture;
switch (args.Length > 0 ? args[0] : "")
{
    case "train":
        {
            ulong seed = SineTrainer.DefaultSeed;
            int steps = SineTrainer.DefaultSteps;
            for (int i = 2; i + 1 < args.Length; i += 2)
                if (args[i] == "--seed") seed = ulong.Parse(args[i + 1], ci);
                else if (args[i] == "--steps") steps = int.Parse(args[i + 1], ci);
            var t0 = System.Diagnostics.Stopwatch.GetTimestamp();
            var m = SineTrainer.Train(seed, steps);
            File.WriteAllBytes(args[1], SineTrainer.ToOnnx(m));
            double maxErr = SineTrainer.EvalPoints(1000).Max(x => Math.Abs(m.Predict(x) - Math.Sin(x)));
            Console.WriteLine(string.Create(ci, $"trained {steps} steps (seed {seed}) in {System.Diagnostics.Stopwatch.GetElapsedTime(t0).TotalSeconds:F1} s; max |y - sin x| on 1000 points: {maxErr:F4}; wrote {args[1]}"));
            return 0;
        }
    case "inputs":
        {
            var xs = SineTrainer.EvalPoints(int.Parse(args[2], ci));
            new HostTensor(ElementType.Float, [xs.Length, 1], MemoryMarshal.AsBytes(xs.AsSpan()).ToArray()).WriteNpy(args[1]);
            return 0;
        }
    case "compare":
        {
            var xs = MemoryMarshal.Cast<byte, float>(HostTensor.ReadFile(args[1]).Data).ToArray();
            var ys = MemoryMarshal.Cast<byte, float>(HostTensor.ReadFile(args[2]).Data).ToArray();
            Console.WriteLine("      x   predicted     sin(x)      error");
            double max = 0;
            for (int i = 0; i < xs.Length; i++)
            {
                double err = ys[i] - Math.Sin(xs[i]);
                max = Math.Max(max, Math.Abs(err));
                Console.WriteLine(string.Create(ci, $"{xs[i],7:F3} {ys[i],11:F5} {Math.Sin(xs[i]),10:F5} {err,10:F5}"));
            }
            Console.WriteLine(string.Create(ci, $"max abs error: {max:F4}"));
            return 0;
        }
    default:
        Console.Error.WriteLine("usage: trainer train OUT.onnx [--seed S] [--steps N] | inputs X.npy N | compare X.npy Y.npy");
        return 2;
}
