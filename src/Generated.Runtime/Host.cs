using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Runtime.Intrinsics;
using System.Text;
using Llmaot.Runtime.IO;

namespace Llmaot.Runtime;

/// <summary>
/// The command line of a generated executable:
/// <c>NAME --input IN=FILE ... --output-dir DIR</c>, <c>NAME --bench N [--input ...]</c>, <c>NAME --info</c>,
/// <c>NAME --mem</c> (one seeded run; prints the stack depth and peak RSS it measured, see <see cref="MemoryProbe"/>).
/// Errors print one line and return exit code 1.
/// </summary>
public static unsafe class Host
{
    /// <summary>Runs the command line against the model made by <paramref name="create"/>.</summary>
    public static int Main(string[] args, Func<IGeneratedModel> create)
    {
        try
        {
            return Run(args, create);
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            string msg = e.Message.StartsWith("LLMAOT", StringComparison.Ordinal) ? e.Message : "LLMAOT9000: " + e.Message;
            StdIo.Err("error " + msg);
            return 1;
        }
    }

    private static int Run(string[] args, Func<IGeneratedModel> create)
    {
        var inputs = new List<(string Name, string File)>();
        string? outDir = null;
        int bench = 0;
        bool info = false, mem = false;
        ulong seed = 42;
        for (int i = 0; i < args.Length; i++)
        {
            string a = args[i];
            string Next() => i + 1 < args.Length ? args[++i] : throw new ArgumentException($"LLMAOT9010: {a} needs a value");
            switch (a)
            {
                case "--input":
                case "-i":
                    {
                        string v = Next();
                        int eq = v.IndexOf('=');
                        if (eq <= 0) throw new ArgumentException($"LLMAOT9011: --input takes NAME=FILE, got '{v}'");
                        inputs.Add((v[..eq], v[(eq + 1)..]));
                        break;
                    }
                case "--output-dir": case "-o": outDir = Next(); break;
                case "--bench": bench = int.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--seed": seed = ulong.Parse(Next(), CultureInfo.InvariantCulture); break;
                case "--info": info = true; break;
                case "--mem": mem = true; break;
                case "--mmap": WeightBlob.PreferMapping = true; break;
                case "--help":
                case "-h":
                    StdIo.Out("usage: NAME --input IN=FILE ... --output-dir DIR | NAME --bench N [--input IN=FILE ...] | NAME --info | NAME --mem  [--mmap]");
                    StdIo.Out("  --mmap: keep a weights file memory-mapped instead of reading it into huge-page memory");
                    return 0;
                default: throw new ArgumentException($"LLMAOT9012: unknown argument '{a}'; see --help");
            }
        }

        using var model = create();
        var mi = model.Info;
        if (info)
        {
            StdIo.Out(InfoJson(mi));
            return 0;
        }
        if (bench <= 0 && outDir == null && !mem) throw new ArgumentException("LLMAOT9013: give --output-dir DIR (with --input NAME=FILE for each input), --bench N or --info");

        var inBufs = new void*[mi.Inputs.Length];
        var outBufs = new void*[mi.Outputs.Length];
        try
        {
            var rng = new SplitMix(seed);
            for (int k = 0; k < mi.Inputs.Length; k++)
            {
                var ti = mi.Inputs[k];
                inBufs[k] = NativeMemory.AlignedAlloc((nuint)Math.Max(1, ti.Bytes), 64);
                int found = inputs.FindIndex(x => x.Name == ti.Name);
                if (found >= 0) Load(ti, inputs[found].File, inBufs[k]);
                else if (bench > 0 || mem) FillRandom(ti, inBufs[k], ref rng);
                else throw new ArgumentException($"LLMAOT9014: missing --input {ti.Name}=FILE ({ElementTypes.Name(ti.Type)} [{string.Join(",", ti.Shape)}])");
            }
            foreach (var (name, _) in inputs)
                if (Array.FindIndex(mi.Inputs, t => t.Name == name) < 0)
                    throw new ArgumentException($"LLMAOT9015: the model has no input '{name}'; inputs are: {string.Join(", ", Array.ConvertAll(mi.Inputs, t => t.Name))}");
            for (int k = 0; k < mi.Outputs.Length; k++) outBufs[k] = NativeMemory.AlignedAlloc((nuint)Math.Max(1, mi.Outputs[k].Bytes), 64);

            fixed (void** pi = inBufs)
            fixed (void** po = outBufs)
            {
                if (mem)
                {
                    // One run on seeded inputs with the stack below this frame poisoned: what it uses beyond the arena.
                    nint low = MemoryProbe.PoisonStack();
                    model.Run(pi, po);
                    long stack = MemoryProbe.StackUsed(low);
                    StdIo.Out(string.Create(CultureInfo.InvariantCulture,
                        $"{{\"arena_bytes\":{mi.ArenaBytes},\"weights_bytes\":{mi.WeightsBytes},\"stack_bytes\":{stack},\"probe_bytes\":{MemoryProbe.StackWindow},\"rss_peak_bytes\":{MemoryProbe.PeakRssBytes()}}}"));
                }
                else if (bench > 0)
                {
                    for (int w = 0; w < Math.Min(bench, 10); w++) model.Run(pi, po);
                    var times = new double[bench];
                    for (int r = 0; r < bench; r++)
                    {
                        long t0 = Stopwatch.GetTimestamp();
                        model.Run(pi, po);
                        times[r] = Stopwatch.GetElapsedTime(t0).TotalMicroseconds;
                    }
                    Array.Sort(times);
                    StdIo.Out(string.Create(CultureInfo.InvariantCulture,
                        $"{{\"runs\":{bench},\"median_us\":{Percentile(times, 0.5):0.###},\"p90_us\":{Percentile(times, 0.9):0.###},\"min_us\":{times[0]:0.###}}}"));
                }
                else
                {
                    model.Run(pi, po);
                }
            }
            if (outDir != null)
            {
                Directory.CreateDirectory(outDir);
                for (int k = 0; k < mi.Outputs.Length; k++)
                {
                    var to = mi.Outputs[k];
                    var data = new ReadOnlySpan<byte>(outBufs[k], checked((int)to.Bytes)).ToArray();
                    new HostTensor(to.Type, Array.ConvertAll(to.Shape, d => (long)d), data).WriteNpy(Path.Combine(outDir, HostTensor.SafeFileName(to.Name) + ".npy"));
                }
            }
        }
        finally
        {
            foreach (var p in inBufs) if (p != null) NativeMemory.AlignedFree(p);
            foreach (var p in outBufs) if (p != null) NativeMemory.AlignedFree(p);
        }
        return 0;
    }

    private static double Percentile(double[] sorted, double q)
    {
        double pos = q * (sorted.Length - 1);
        int lo = (int)pos;
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + (sorted[hi] - sorted[lo]) * (pos - lo);
    }

    private static void Load(TensorInfo ti, string file, void* dst)
    {
        var t = HostTensor.ReadFile(file);
        if (t.Type != ti.Type)
            throw new ArgumentException($"LLMAOT9016: input '{ti.Name}' from {file} is {ElementTypes.Name(t.Type)}, the model takes {ElementTypes.Name(ti.Type)}");
        bool same = t.Shape.Length == ti.Shape.Length;
        for (int d = 0; same && d < t.Shape.Length; d++) same = t.Shape[d] == ti.Shape[d];
        if (!same)
            throw new ArgumentException($"LLMAOT9017: input '{ti.Name}' from {file} has shape [{string.Join(",", t.Shape)}], the model was built for [{string.Join(",", ti.Shape)}]; rebuild with --shape {ti.Name}=... to change it");
        t.Data.AsSpan().CopyTo(new Span<byte>(dst, t.Data.Length));
    }

    /// <summary>Fills a buffer with seeded values: floats uniform in [-1, 1), integers in [0, 4), bools random.</summary>
    public static void FillRandom(TensorInfo ti, void* dst, ref SplitMix rng)
    {
        long n = ti.Count;
        switch (ti.Type)
        {
            case ElementType.Float: for (long i = 0; i < n; i++) ((float*)dst)[i] = rng.NextFloat() * 2 - 1; break;
            case ElementType.Double: for (long i = 0; i < n; i++) ((double*)dst)[i] = rng.NextFloat() * 2 - 1; break;
            case ElementType.Float16: for (long i = 0; i < n; i++) ((Half*)dst)[i] = (Half)(rng.NextFloat() * 2 - 1); break;
            case ElementType.Int64: for (long i = 0; i < n; i++) ((long*)dst)[i] = (long)(rng.Next() % 4); break;
            case ElementType.Int32: for (long i = 0; i < n; i++) ((int*)dst)[i] = (int)(rng.Next() % 4); break;
            default:
                var span = new Span<byte>(dst, checked((int)ti.Bytes));
                for (int i = 0; i < span.Length; i++) span[i] = (byte)(rng.Next() % (ti.Type == ElementType.Bool ? 2UL : 4UL));
                break;
        }
    }

    /// <summary>The <c>--info</c> JSON object.</summary>
    public static string InfoJson(ModelInfo mi)
    {
        var sb = new StringBuilder();
        sb.Append("{\"name\":").Append(Json(mi.Name));
        sb.Append(",\"inputs\":");
        Tensors(sb, mi.Inputs);
        sb.Append(",\"outputs\":");
        Tensors(sb, mi.Outputs);
        sb.Append(",\"arena_bytes\":").Append(mi.ArenaBytes);
        sb.Append(",\"weights_bytes\":").Append(mi.WeightsBytes);
        SizeFields(sb);
        sb.Append(",\"provenance\":").Append(Json(mi.Provenance));
        AppendIsa(sb);
        sb.Append('}');
        return sb.ToString();
    }

    /// <summary>Appends <c>,"isa":{...},"arch":...</c>: what the SIMD kernels test with IsSupported in this binary.</summary>
    public static void AppendIsa(StringBuilder sb)
    {
        sb.Append(",\"isa\":{");
        sb.Append("\"Vector512\":").Append(B(Vector512.IsHardwareAccelerated));
        sb.Append(",\"Vector256\":").Append(B(Vector256.IsHardwareAccelerated));
        sb.Append(",\"Vector128\":").Append(B(Vector128.IsHardwareAccelerated));
        sb.Append(",\"Avx512F\":").Append(B(System.Runtime.Intrinsics.X86.Avx512F.IsSupported));
        sb.Append(",\"Avx512BW\":").Append(B(System.Runtime.Intrinsics.X86.Avx512BW.IsSupported));
        sb.Append(",\"Avx2\":").Append(B(System.Runtime.Intrinsics.X86.Avx2.IsSupported));
        sb.Append(",\"Fma\":").Append(B(System.Runtime.Intrinsics.X86.Fma.IsSupported));
        sb.Append(",\"AvxVnni\":").Append(B(System.Runtime.Intrinsics.X86.AvxVnni.IsSupported));
        sb.Append(",\"AdvSimd\":").Append(B(System.Runtime.Intrinsics.Arm.AdvSimd.IsSupported));
        sb.Append(",\"Dp\":").Append(B(System.Runtime.Intrinsics.Arm.Dp.IsSupported));
        sb.Append("},\"arch\":").Append(Json(RuntimeInformation.ProcessArchitecture switch
        {
            Architecture.X64 => "x64", Architecture.Arm64 => "arm64", Architecture.X86 => "x86", Architecture.Arm => "arm",
            _ => "other",
        }));

        static string B(bool b) => b ? "true" : "false";
    }

    /// <summary>
    /// In a native executable: <c>"binary_bytes"</c> (its own file size) and <c>"code_bytes"</c> (that minus the embedded weights:
    /// code, runtime, metadata). Nothing when running on the JIT (tests), where the process is `dotnet`.
    /// </summary>
    public static void SizeFields(StringBuilder sb)
    {
        if (System.Runtime.CompilerServices.RuntimeFeature.IsDynamicCodeSupported || Environment.ProcessPath is not { } self || !File.Exists(self)) return;
        long binary = new FileInfo(self).Length;
        sb.Append(",\"binary_bytes\":").Append(binary);
        sb.Append(",\"code_bytes\":").Append(binary - WeightBlob.EmbeddedBytes);
    }

    private static void Tensors(StringBuilder sb, TensorInfo[] ts)
    {
        sb.Append('[');
        for (int i = 0; i < ts.Length; i++)
        {
            if (i > 0) sb.Append(',');
            sb.Append("{\"name\":").Append(Json(ts[i].Name)).Append(",\"dtype\":").Append(Json(ElementTypes.Name(ts[i].Type)));
            sb.Append(",\"shape\":[").Append(string.Join(",", ts[i].Shape)).Append("]}");
        }
        sb.Append(']');
    }

    /// <summary>A JSON string literal.</summary>
    public static string Json(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            if (c == '"' || c == '\\') sb.Append('\\').Append(c);
            else if (c < 0x20) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
            else sb.Append(c);
        }
        return sb.Append('"').ToString();
    }
}

/// <summary>SplitMix64: a tiny seeded generator, identical on every platform.</summary>
public struct SplitMix(ulong seed)
{
    private ulong _s = seed;

    /// <summary>Next 64 random bits.</summary>
    public ulong Next()
    {
        ulong z = _s += 0x9E3779B97F4A7C15UL;
        z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
        z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
        return z ^ (z >> 31);
    }

    /// <summary>Uniform in [0, 1) with 24 bits.</summary>
    public float NextFloat() => (Next() >> 40) * (1.0f / (1 << 24));
}
