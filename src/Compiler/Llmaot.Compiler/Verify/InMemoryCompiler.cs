using System.Reflection;
using System.Runtime.Loader;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Runtime;
using Microsoft.CodeAnalysis;
using Microsoft.CodeAnalysis.CSharp;

namespace Llmaot.Verify;

/// <summary>
/// Compiles generated C# with Roslyn into memory and loads it in a collectible context, so tests and
/// <c>llmaot verify</c> run generated code on the JIT without a NativeAOT publish. Several models can share one
/// compilation (one assembly), which is how large test batches stay fast.
/// </summary>
public static class InMemoryCompiler
{
    private static readonly Lazy<MetadataReference[]> References = new(() =>
    {
        var tpa = ((string?)AppContext.GetData("TRUSTED_PLATFORM_ASSEMBLIES") ?? "").Split(Path.PathSeparator, StringSplitOptions.RemoveEmptyEntries);
        var refs = tpa.Where(p => Path.GetFileName(p) is var f && (f.StartsWith("System.", StringComparison.Ordinal) || f is "mscorlib.dll" or "netstandard.dll"))
            .Select(p => (MetadataReference)MetadataReference.CreateFromFile(p)).ToList();
        refs.Add(MetadataReference.CreateFromFile(typeof(Arena).Assembly.Location));
        return refs.ToArray();
    });

    /// <summary>The compile options generated code must build under: unsafe, optimized, nullable, all warnings on.</summary>
    public static CSharpCompilationOptions Options => new CSharpCompilationOptions(OutputKind.DynamicallyLinkedLibrary)
        .WithAllowUnsafe(true)
        .WithOptimizationLevel(OptimizationLevel.Release)
        .WithNullableContextOptions(NullableContextOptions.Enable)
        .WithWarningLevel(9999)
        .WithDeterministic(true);

    /// <summary>A loaded assembly of generated models.</summary>
    public sealed class Loaded(Assembly assembly, AssemblyLoadContext context, IReadOnlyList<Diagnostic> warnings) : IDisposable
    {
        public Assembly Assembly { get; } = assembly;
        public IReadOnlyList<Diagnostic> Warnings { get; } = warnings;

        /// <summary>Creates an instance of the generated class <paramref name="fullName"/>.</summary>
        public IGeneratedModel Create(string fullName)
        {
            var t = Assembly.GetType(fullName) ?? throw new InvalidOperationException($"type {fullName} not found in the compiled assembly");
            return (IGeneratedModel)Activator.CreateInstance(t)!;
        }

        public void Dispose() => context.Unload();
    }

    /// <summary>Compiles models (each with its weights as a manifest resource) into one in-memory assembly.</summary>
    public static Loaded Compile(IEnumerable<GeneratedModel> models, string assemblyName = "Llmaot.Generated.InMemory")
    {
        var list = models.ToList();
        var parse = new CSharpParseOptions(LanguageVersion.Latest);
        var trees = list.Select((g, i) => CSharpSyntaxTree.ParseText(g.Source, parse, path: $"{g.ClassName}.g.cs")).ToList();
        var comp = CSharpCompilation.Create(assemblyName, trees, References.Value, Options);
        using var pe = new MemoryStream();
        var resources = list.Where(g => g.Options.Weights == WeightsMode.Embedded && g.Weights.Length > 0)
            .Select(g => new ResourceDescription(g.Options.ResourceName, () => new MemoryStream(g.Weights, writable: false), isPublic: true)).ToList();
        var result = comp.Emit(pe, manifestResources: resources);
        var warnings = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Warning).ToList();
        if (!result.Success)
        {
            var errs = result.Diagnostics.Where(d => d.Severity == DiagnosticSeverity.Error).Take(10).Select(d => d.ToString());
            throw new LlmaotException(Codes.GeneratedCodeInvalid, "the generated C# does not compile (a bug in llmaot; please report it): " + string.Join(" | ", errs));
        }
        pe.Position = 0;
        var ctx = new AssemblyLoadContext(assemblyName, isCollectible: true);
        var asm = ctx.LoadFromStream(pe);
        return new Loaded(asm, ctx, warnings);
    }
}
