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
        using var model = Pipeline.Compile(path, options);
        return ModelEmitter.Emit(model, emit);
    }

    /// <summary>A PascalCase class name from a file stem (e.g. "cnn_mnist_pytorch" → "CnnMnistPytorch").</summary>
    public static string ClassNameFor(string stem)
    {
        string id = Lit.Ident(stem, pascal: true).TrimStart('@');
        if (id.Length == 0 || !char.IsLetter(id[0])) id = "Model" + id;
        return id;
    }
}
