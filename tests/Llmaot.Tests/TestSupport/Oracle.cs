using Llmaot.Emit;
using Llmaot.Onnx;
using Llmaot.Passes;
using Llmaot.Runtime.IO;
using Llmaot.Verify;

namespace Llmaot.Tests.TestSupport;

/// <summary>
/// Oracle tests: compile a model with llmaot, run the generated C# in memory, run ONNX Runtime on the same seeded
/// inputs, and compare every output.
/// </summary>
public static class Oracle
{
    /// <summary>Writes the model to a temp file and returns its path.</summary>
    public static string Save(OnnxWriter w, string name)
    {
        string dir = SharedData.TempDir("model");
        string p = Path.Combine(dir, name + ".onnx");
        w.Save(p);
        return p;
    }

    /// <summary>Compiles and emits a model file.</summary>
    public static GeneratedModel Generate(string path, CompileOptions? co = null, string? className = null)
    {
        string name = Path.GetFileNameWithoutExtension(path);
        return global::Llmaot.Compiler.Compile(path, co ?? new CompileOptions(), new EmitOptions { ClassName = className ?? global::Llmaot.Compiler.ClassNameFor(name), Name = name });
    }

    /// <summary>Runs the model through llmaot and ONNX Runtime; asserts every output is within tolerance. Returns the comparisons.</summary>
    public static List<OutputComparison> Check(string path, CompileOptions? co = null, double atol = 1e-4, double rtol = 1e-4, ulong seed = 42,
        Dictionary<string, HostTensor>? inputs = null)
    {
        var g = Generate(path, co);
        using var loaded = InMemoryCompiler.Compile([g]);
        Assert.Empty(loaded.Warnings);
        using var model = loaded.Create($"{g.Options.Namespace}.{g.ClassName}");
        var feed = Verifier.RandomInputs(model.Info, seed);
        if (inputs != null) foreach (var (k, v) in inputs) feed[k] = v;
        var ours = Verifier.Run(model, feed);
        using var ort = new OrtOracle(path);
        var theirs = ort.Run(feed);
        var results = new List<OutputComparison>();
        foreach (var (name, expected) in theirs)
        {
            var c = Verifier.Compare(name, ours[name], expected, atol, rtol);
            results.Add(c);
            Assert.True(c.Pass, $"{Path.GetFileName(path)} output '{name}': max abs {c.MaxAbs:G4}, max rel {c.MaxRel:G4} {c.Problem}");
        }
        Assert.NotEmpty(results);
        return results;
    }
}
