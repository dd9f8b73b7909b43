using System.CommandLine;
using System.Globalization;
using Llmaot.Build;
using Llmaot.Diagnostics;
using Llmaot.Emit;

namespace Llmaot.Cli;

/// <summary>`llmaot build MODEL -o DIR [--name NAME] [--target RID] [--isa ISA] [--dim SYM=N]... [--shape INPUT=dims]... [--emit exe|source] [--weights embedded|file] [--size] [--report] [--report-json FILE]`</summary>
public static class BuildCommand
{
    private static string? Tokenizer;
    private static int? Context;
    private static string? Quantize;
    private static string? Namespace;
    private static string? ClassName;
    private static bool Report;
    private static string? ReportJson;
    private static string? KvCache;

    public static Command Create()
    {
        var model = Shared.Model();
        var output = new Option<string>("--output", "-o") { Description = "Output directory", Required = true };
        var name = new Option<string?>("--name") { Description = "Executable name (default: the model file's stem)" };
        var target = new Option<string>("--target") { Description = "Runtime identifier", DefaultValueFactory = _ => "linux-x64" };
        target.AcceptOnlyFromAmong(BuildOptions.Targets);
        var isa = new Option<string?>("--isa") { Description = "IlcInstructionSet (default x86-64-v3 on linux-x64, armv8.2-a on linux-arm64; e.g. x86-64-v4, native, armv8.2-a+dotprod)" };
        var dim = Shared.Dim();
        var shape = Shared.Shape();
        var consts = Shared.Const();
        var emit = new Option<string>("--emit") { Description = "exe: a native executable; source: the generated C# project; library: a class-library project; class: only NAME.g.cs and the weights (for MSBuild)", DefaultValueFactory = _ => "exe" };
        emit.AcceptOnlyFromAmong("exe", "source", "library", "class");
        var ns = new Option<string?>("--namespace") { Description = "Namespace of the generated class (default Llmaot.Generated)" };
        var className = new Option<string?>("--class") { Description = "Name of the generated class (default: from --name)" };
        var errorFormat = new Option<string>("--error-format") { Description = "text: `error LLMAOT####: ...`; msbuild: `MODEL: error LLMAOT####: ...` (canonical MSBuild format)", DefaultValueFactory = _ => "text" };
        errorFormat.AcceptOnlyFromAmong("text", "msbuild");
        var weights = new Option<string>("--weights") { Description = "embedded: inside the binary; file: NAME.weights beside it, read into huge-page memory at start when 4 MiB or more (memory-mapped with the binary's --mmap, or when smaller)", DefaultValueFactory = _ => "embedded" };
        weights.AcceptOnlyFromAmong("embedded", "file");
        var size = new Option<bool>("--size") { Description = "Optimize the binary for size rather than speed" };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer file for language-model checkpoints without one (llama2.c tokenizer.bin)" };
        var ctx = new Option<int?>("--ctx") { Description = "KV-cache length of a language model (default: the model's context)" };
        var quantize = new Option<string?>("--quantize") { Description = "Compress weights at compile time: q8_0 or q4_0 (blocks of 32, symmetric, one scale per block), or int8 (ONNX models: symmetric, one scale per output channel); prints an accuracy report" };
        quantize.AcceptOnlyFromAmong("q8_0", "q4_0", "int8");
        var report = new Option<bool>("--report") { Description = "Print a fit report: flash (code + weights) and RAM (arena, KV cache, measured stack and runtime)" };
        var reportJson = new Option<string?>("--report-json") { Description = "Also write the fit report as JSON to this file" };

        var kvCache = new Option<string?>("--kv-cache") { Description = "KV-cache element type of a language model: f32 (default), f16 or int8 (one scale per position and head)" };
        kvCache.AcceptOnlyFromAmong("f32", "f16", "int8");

        var cmd = new Command("build", "Compile a model to a native executable (or to C# source)") { model, output, name, target, isa, dim, shape, consts, emit, weights, size, tokenizer, ctx, quantize, ns, className, errorFormat, report, reportJson, kvCache };
        cmd.SetAction(r =>
        {
            try
            {
                if (r.GetValue(errorFormat) == "msbuild") Program.ErrorOrigin = Path.GetFullPath(r.GetValue(model)!);
                Namespace = r.GetValue(ns);
                ClassName = r.GetValue(className);
                Shared.Consts = r.GetValue(consts);
                Tokenizer = r.GetValue(tokenizer);
                Context = r.GetValue(ctx);
                Quantize = r.GetValue(quantize);
                ReportJson = r.GetValue(reportJson);
                Report = r.GetValue(report) || ReportJson != null;
                KvCache = r.GetValue(kvCache);
                return Run(r.GetValue(model)!, r.GetValue(output)!, r.GetValue(name), r.GetValue(target)!, r.GetValue(isa), r.GetValue(dim), r.GetValue(shape),
                    r.GetValue(emit) switch { "source" => EmitKind.Source, "library" => EmitKind.Library, "class" => EmitKind.Class, _ => EmitKind.Exe }, r.GetValue(weights) == "file" ? WeightsMode.File : WeightsMode.Embedded, r.GetValue(size));
            }
            catch (Exception e) { return Program.Report(e); }
        });
        return cmd;
    }

    private static int Run(string modelPath, string outDir, string? name, string target, string? isa, string[]? dims, string[]? shapes, EmitKind kind, WeightsMode weights, bool size)
    {
        name ??= Path.GetFileNameWithoutExtension(modelPath);
        if (name.Length == 0 || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains(' '))
            throw new LlmaotException(Codes.BadOption, $"--name '{name}' is not a valid file name");
        if (Namespace != null && Namespace.Split('.').Any(part => part.Length == 0 || Lit.Ident(part) != part))
            throw new LlmaotException(Codes.BadOption, $"--namespace '{Namespace}' is not a valid C# namespace (dot-separated identifiers, no keywords)");
        var b = new BuildOptions { Target = target, Isa = isa, Size = size };
        var co = Shared.Compile(dims, shapes);
        Shared.AddConsts(co, Shared.Consts);
        co.Tokenizer = Tokenizer;
        co.Context = Context;
        co.Quantize = Quantize;
        co.KvCache = KvCache;
        var eo = new EmitOptions
        {
            ClassName = ClassName ?? Compiler.ClassNameFor(name),
            Namespace = Namespace ?? "Llmaot.Generated",
            Name = name,
            Weights = weights,
            OptionsText = Shared.OptionsText(dims, shapes, weights == WeightsMode.File ? "--weights file" : "", Quantize != null ? "--quantize " + Quantize : "", Context != null ? "--ctx " + Context : "", KvCache != null ? "--kv-cache " + KvCache : ""),
        };
        var g = Compiler.Compile(modelPath, co, eo);
        foreach (var wmsg in co.Warnings) Console.Error.WriteLine(Program.ErrorOrigin + "warning " + wmsg);
        string full = Path.GetFullPath(outDir);
        long binary = 0;
        string where;
        if (kind == EmitKind.Class)
        {
            where = BuildDriver.WriteClass(g, full);
        }
        else if (kind == EmitKind.Library)
        {
            where = Path.GetDirectoryName(BuildDriver.WriteLibrary(g, full))!;
        }
        else if (kind == EmitKind.Source)
        {
            where = Path.GetDirectoryName(BuildDriver.WriteProject(g, full, b))!;
        }
        else
        {
            string proj = BuildDriver.WriteProject(g, Path.Combine(full, ".llmaot", name), b);
            Console.Error.WriteLine($"publishing {name} with NativeAOT ({b.Target}, {b.EffectiveIsa})...");
            where = BuildDriver.Publish(proj, full, g, b, Console.Error);
            binary = new FileInfo(where).Length;
        }
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine($"built {Path.GetFileName(modelPath)} -> {where}");
        Console.WriteLine(string.Create(ci, $"  ops:          {g.NodeCount}"));
        Console.WriteLine(string.Create(ci, $"  parameters:   {g.Parameters:N0}"));
        Console.WriteLine(string.Create(ci, $"  weights_bytes: {g.WeightsBytes:N0}"));
        Console.WriteLine(string.Create(ci, $"  arena_bytes:  {g.ArenaBytes:N0}"));
        Console.WriteLine(kind switch
        {
            EmitKind.Exe => string.Create(ci, $"  binary_bytes: {binary:N0} ({b.Target}, {b.EffectiveIsa})"),
            EmitKind.Source => "  binary_bytes: (source only; run `dotnet publish -c Release` in the folder)",
            _ => "  binary_bytes: (no binary; reference the project or add the class to yours)",
        });
        // The code part: the executable minus the weights embedded in it (all of it with --weights file).
        if (kind == EmitKind.Exe) Console.WriteLine(string.Create(ci, $"  code_bytes:   {binary - (weights == WeightsMode.Embedded ? g.WeightsBytes : 0):N0}{(size ? " (--size)" : "")}"));
        if (Report)
        {
            var f = FitReport.Measure(g, b, kind == EmitKind.Exe ? where : null, binary, weights == WeightsMode.Embedded);
            Console.WriteLine();
            Console.Write(FitReport.Table(f));
            if (ReportJson != null) File.WriteAllText(ReportJson, FitReport.Json(f) + "\n");
        }
        if (g.Quantization != null) Console.Write(g.Quantization.Format());
        foreach (var note in g.Notes) Console.WriteLine("note: " + note);
        return 0;
    }
}
