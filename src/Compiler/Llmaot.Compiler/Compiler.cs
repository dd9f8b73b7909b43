using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Passes;

namespace Llmaot;

/// <summary>The front door of the library: model file in, generated C# and weights out.</summary>
public static class Compiler
{
    /// <summary>Runs every phase and emits. The model's mapped files are released before returning.</summary>
    public static GeneratedModel Compile(string path, CompileOptions options, EmitOptions emit)
    {
        if (Llm.LlmFrontend.IsLanguageModel(path, options))
        {
            using var lm = Llm.LlmFrontend.Load(path, options);
            return Llm.LlmEmitter.Emit(lm, emit, options.Context, options.Quantize, options.KvCache);
        }
        if (options.Quantize != null && options.StopAfter == Phase.Planned)
            return Verify.QuantizationCheck.CompileQuantized(path, options, emit);
        using var model = Pipeline.Compile(path, options);
        return ModelEmitter.Emit(model, emit);
    }

    /// <summary>
    /// A PascalCase class name from a file stem (e.g. "cnn_mnist_pytorch" → "CnnMnistPytorch"). Names that would hide a
    /// runtime type used by generated code (e.g. "conv" → Conv) get a "Model" suffix.
    /// </summary>
    public static string ClassNameFor(string stem)
    {
        string id = Lit.Ident(stem, pascal: true).TrimStart('@');
        if (id.Length == 0 || !char.IsLetter(id[0])) id = "Model" + id;
        if (IsReserved(id)) id += "Model";
        return id;
    }

    /// <summary>True when a generated class of this name would hide a type that generated code refers to.</summary>
    public static bool IsReserved(string className) => ReservedNames.Value.Contains(className);

    private static readonly Lazy<HashSet<string>> ReservedNames = new(() =>
    {
        var names = new HashSet<string>(StringComparer.Ordinal) { "System", "Llmaot", "Math", "MathF", "Span", "ReadOnlySpan", "AppContext", "Half", "IndexOutOfRangeException", "ArgumentException" };
        foreach (var t in typeof(Runtime.Arena).Assembly.GetExportedTypes())
            if (t.Namespace is "Llmaot.Runtime" or "Llmaot.Runtime.Kernels") names.Add(t.Name.Split('`')[0]);
        return names;
    });
}
