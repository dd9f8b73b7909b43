using System.CommandLine;
using Llmaot.Diagnostics;

namespace Llmaot.Cli;

/// <summary>The `llmaot` command line: one definition here, one handler file per verb.</summary>
public static class Program
{
    public static int Main(string[] args)
    {
        _errorOrigin = "";
        var root = new RootCommand("llmaot: compiles ONNX models ahead of time into C# and small NativeAOT executables.");
        root.Add(BuildCommand.Create());
        root.Add(InspectCommand.Create());
        root.Add(VerifyCommand.Create());
        root.Add(ConformanceCommand.Create());
        root.Add(GgufSynthCommand.Create());
        try
        {
            var parsed = root.Parse(args);
            return parsed.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>With `--error-format msbuild`: "MODEL: " before each error and warning line, the canonical MSBuild format.</summary>
    public static string ErrorOrigin
    {
        get => _errorOrigin.Length == 0 ? "" : _errorOrigin + ": ";
        set => _errorOrigin = value;
    }
    private static string _errorOrigin = "";

    /// <summary>Prints one error line (no stack trace) and returns exit code 1.</summary>
    public static int Report(Exception e)
    {
        Console.Error.Write(ErrorOrigin);
        _errorOrigin = "";
        switch (e)
        {
            case LlmaotException le:
                Console.Error.WriteLine("error " + le.Message);
                break;
            case FileNotFoundException fe when fe.FileName?.StartsWith("Microsoft.ML.OnnxRuntime", StringComparison.Ordinal) == true:
            case DllNotFoundException de when de.Message.Contains("onnxruntime", StringComparison.Ordinal):
                Console.Error.WriteLine($"error {Codes.OracleFailed}: ONNX Runtime is not part of this installation (the Llmaot.Build package leaves it out); run `verify` from the llmaot repository or the Llmaot.Tool package");
                break;
            case FileNotFoundException fe when fe.FileName?.StartsWith("Microsoft.CodeAnalysis", StringComparison.Ordinal) == true:
                Console.Error.WriteLine($"error {Codes.OracleFailed}: Roslyn, which `verify` and `conformance` use to compile generated code in memory, is not part of this installation (the Llmaot.Build package leaves it out); run them from the llmaot repository or the Llmaot.Tool package");
                break;
            case OutOfMemoryException:
                Console.Error.WriteLine($"error {Codes.MalformedModel}: out of memory while reading the model; the file is corrupt or too large");
                break;
            default:
                Console.Error.WriteLine($"error {Codes.Internal}: internal error ({e.GetType().Name}: {e.Message.Split('\n')[0]}); please report it with the model");
                break;
        }
        return 1;
    }
}

/// <summary>Options shared by several verbs, defined once.</summary>
public static class Shared
{
    /// <summary>The --const values of the current invocation, for the provenance text.</summary>
    public static string[]? Consts { get; set; }

    public static Option<string[]> Dim() => new("--dim") { Description = "Bind a symbolic dim: SYM=N (repeatable)", Arity = ArgumentArity.ZeroOrMore, AllowMultipleArgumentsPerToken = false };

    public static Option<string[]> Shape() => new("--shape") { Description = "Give an input's shape: INPUT=d0,d1,... (repeatable)", Arity = ArgumentArity.ZeroOrMore };

    public static Argument<string> Model() => new("MODEL") { Description = "The model file (.onnx)" };

    public static Option<string[]> Const() => new("--const") { Description = "Fix an input at compile time: INPUT=NUMBER (a scalar) or INPUT=FILE (.npy/.pb); the model then no longer takes it", Arity = ArgumentArity.ZeroOrMore };

    /// <summary>Adds --const bindings to compile options.</summary>
    public static void AddConsts(Passes.CompileOptions o, string[]? consts)
    {
        foreach (var c in consts ?? [])
        {
            int eq = c.IndexOf('=');
            if (eq <= 0) throw new LlmaotException(Codes.BadBinding, $"--const takes INPUT=NUMBER or INPUT=FILE, got '{c}'");
            string name = c[..eq], val = c[(eq + 1)..];
            if (double.TryParse(val, System.Globalization.NumberStyles.Float, System.Globalization.CultureInfo.InvariantCulture, out double d) && !File.Exists(val))
                o.ConstScalars[name] = d;
            else
            {
                try { o.ConstInputs[name] = Runtime.IO.HostTensor.ReadFile(val); }
                catch (Exception e) when (e is IOException or InvalidDataException or Runtime.IO.ProtoFormatException or UnauthorizedAccessException)
                {
                    throw new LlmaotException(Codes.BadTensorFile, $"--const {name}: cannot read '{val}': {e.Message}");
                }
            }
        }
    }

    /// <summary>Parses --dim and --shape values into compile options.</summary>
    public static Passes.CompileOptions Compile(string[]? dims, string[]? shapes)
    {
        var o = new Passes.CompileOptions();
        foreach (var d in dims ?? [])
        {
            int eq = d.IndexOf('=');
            if (eq <= 0 || !long.TryParse(d[(eq + 1)..], out long v) || v < 0)
                throw new LlmaotException(Codes.BadBinding, $"--dim takes SYM=N with N >= 0, got '{d}'");
            o.Dims[d[..eq]] = v;
        }
        foreach (var s in shapes ?? [])
        {
            int eq = s.LastIndexOf('=');
            if (eq <= 0) throw new LlmaotException(Codes.BadBinding, $"--shape takes INPUT=d0,d1,..., got '{s}'");
            var parts = s[(eq + 1)..].Split(',', StringSplitOptions.TrimEntries);
            var dimsOut = new long[parts.Length == 1 && parts[0].Length == 0 ? 0 : parts.Length];
            for (int i = 0; i < dimsOut.Length; i++)
                if (!long.TryParse(parts[i], out dimsOut[i]) || dimsOut[i] < 0)
                    throw new LlmaotException(Codes.BadBinding, $"--shape {s[..eq]}: '{parts[i]}' is not a non-negative integer");
            o.Shapes[s[..eq]] = dimsOut;
        }
        return o;
    }

    /// <summary>Deterministic text of the options, for the provenance header.</summary>
    public static string OptionsText(string[]? dims, string[]? shapes, params string[] more)
    {
        var parts = new List<string>();
        foreach (var c in Consts ?? []) parts.Add("--const " + c);
        foreach (var d in dims ?? []) parts.Add("--dim " + d);
        foreach (var s in shapes ?? []) parts.Add("--shape " + s);
        parts.AddRange(more.Where(m => m.Length > 0));
        return string.Join(" ", parts);
    }
}
