using System.CommandLine;
using System.Globalization;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Runtime.IO;
using Llmaot.Verify;

namespace Llmaot.Cli;

/// <summary>
/// `llmaot verify MODEL [--dim/--shape ...] [--input IN=FILE ...] [--seed S] [--atol A] [--rtol R]`: compiles the generated C# in
/// memory, runs it and ONNX Runtime on the same inputs, prints per-output errors, exits 0 only if all are within tolerance.
/// </summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var model = Shared.Model();
        var dim = Shared.Dim();
        var shape = Shared.Shape();
        var consts = Shared.Const();
        var input = new Option<string[]>("--input") { Description = "An input from a file: NAME=FILE (.npy or .pb)", Arity = ArgumentArity.ZeroOrMore };
        var seed = new Option<ulong>("--seed") { Description = "Seed for the inputs not given by --input", DefaultValueFactory = _ => 42 };
        var atol = new Option<double>("--atol") { Description = "Absolute tolerance", DefaultValueFactory = _ => 1e-4 };
        var rtol = new Option<double>("--rtol") { Description = "Relative tolerance", DefaultValueFactory = _ => 1e-4 };
        var cmd = new Command("verify", "Check generated code against ONNX Runtime on the same inputs") { model, dim, shape, consts, input, seed, atol, rtol };
        cmd.SetAction(r =>
        {
            try { return Run(r.GetValue(model)!, r.GetValue(dim), r.GetValue(shape), r.GetValue(consts), r.GetValue(input), r.GetValue(seed), r.GetValue(atol), r.GetValue(rtol)); }
            catch (Exception e) { return Program.Report(e); }
        });
        return cmd;
    }

    /// <summary>The scalar given with --const as a tensor of the input's declared type and shape, for ONNX Runtime.</summary>
    private static HostTensor ConstScalarTensor(string path, string name, double value)
    {
        using var m = Passes.Frontends.Load(path);
        var v = m.Graph.Inputs.First(i => i.Name == name);
        long[] shape = v.Type.Shape is { Rank: 1 } ? [1] : [];
        var data = Ops.ConstEval.IsFloat(v.Elem) ? Ops.ConstEval.FromDoubles(v.Elem, [value]) : Ops.ConstEval.FromLongs(v.Elem, [(long)value]);
        return new HostTensor(v.Elem, shape, data.Span.ToArray());
    }

    private static int Run(string path, string[]? dims, string[]? shapes, string[]? consts, string[]? inputs, ulong seed, double atol, double rtol)
    {
        var co = Shared.Compile(dims, shapes);
        Shared.AddConsts(co, consts);
        var name = Path.GetFileNameWithoutExtension(path);
        var g = Compiler.Compile(path, co, new EmitOptions { ClassName = Compiler.ClassNameFor(name), Name = name });
        foreach (var w in co.Warnings) Console.Error.WriteLine("warning " + w);
        using var loaded = InMemoryCompiler.Compile([g]);
        using var generated = loaded.Create($"{g.Options.Namespace}.{g.ClassName}");
        var feed = Verifier.RandomInputs(generated.Info, seed);
        foreach (var i in inputs ?? [])
        {
            int eq = i.IndexOf('=');
            if (eq <= 0) throw new LlmaotException(Codes.BadOption, $"--input takes NAME=FILE, got '{i}'");
            if (!feed.ContainsKey(i[..eq])) throw new LlmaotException(Codes.BadOption, $"the model has no input '{i[..eq]}'");
            try { feed[i[..eq]] = HostTensor.ReadFile(i[(eq + 1)..]); }
            catch (Exception e) when (e is IOException or InvalidDataException or ProtoFormatException) { throw new LlmaotException(Codes.BadTensorFile, $"cannot read '{i[(eq + 1)..]}': {e.Message}"); }
        }
        var ours = Verifier.Run(generated, feed);
        // ONNX Runtime still takes the inputs that llmaot fixed at compile time.
        var ortFeed = new Dictionary<string, HostTensor>(feed, StringComparer.Ordinal);
        foreach (var (k, t) in co.ConstInputs) ortFeed[k] = t;
        foreach (var (k, d) in co.ConstScalars) ortFeed[k] = ConstScalarTensor(path, k, d);
        Dictionary<string, HostTensor> theirs;
        try
        {
            using var ort = new OrtOracle(path);
            theirs = ort.Run(ortFeed);
        }
        catch (Exception e) when (e is not LlmaotException)
        {
            throw new LlmaotException(Codes.OracleFailed, $"ONNX Runtime could not run the model: {e.Message.Split('\n')[0]}");
        }
        bool ok = true;
        var ci = CultureInfo.InvariantCulture;
        Console.WriteLine($"{"output",-32} {"elements",10} {"max_abs",12} {"max_rel",12}  result");
        foreach (var (oname, expected) in theirs)
        {
            var c = Verifier.Compare(oname, ours[oname], expected, atol, rtol);
            ok &= c.Pass;
            Console.WriteLine(string.Create(ci, $"{oname,-32} {c.Count,10} {c.MaxAbs,12:G4} {c.MaxRel,12:G4}  {(c.Pass ? "ok" : "FAIL")}{(c.Problem != null ? " (" + c.Problem + ")" : "")}"));
        }
        Console.WriteLine(ok ? $"verify: all outputs within atol {atol.ToString(ci)} + rtol {rtol.ToString(ci)}" : $"error {Codes.VerifyMismatch}: outputs differ from ONNX Runtime beyond tolerance");
        return ok ? 0 : 1;
    }
}
