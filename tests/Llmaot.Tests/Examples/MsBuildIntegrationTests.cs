using System.Diagnostics;
using System.Globalization;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;
using Llmaot.Verify;

namespace Llmaot.Tests.Examples;

/// <summary>
/// The MSBuild integration end to end: examples/consumer and examples/vad run.sh (pack Llmaot.Build and
/// Llmaot.Generated.Runtime locally, build against them, run, build again without regenerating), a throwaway project that
/// changes an item's options and feeds the compiler a broken model, and `llmaot build --emit library` referenced from an app.
/// In the NativeAot collection: these run `dotnet` builds (vad.sh publishes with NativeAOT) and share examples/.packages.
/// </summary>
[Collection("NativeAot")]
public class MsBuildIntegrationTests
{
    private static (int Code, string Out) Exec(string file, string workDir, params string[] args)
    {
        var (code, o, e) = Proc.Run(file, workDir, TimeSpan.FromMinutes(10), args, null, Proc.QuietDotnet);
        return (code, o + e);
    }

    private static string Script(string relative)
    {
        SharedData.File("models/onnx/silero_vad_16k_op15.onnx");
        return Path.Combine(SharedData.RepoRoot, relative);
    }

    /// <summary>The part of a run.sh log after its "== second build"/"== build again" header.</summary>
    private static string SecondBuild(string log, string header)
    {
        int i = log.LastIndexOf(header, StringComparison.Ordinal);
        Assert.True(i >= 0, $"no '{header}' in the log:\n{log}");
        return log[i..];
    }

    [Fact]
    public void Consumer_example_generates_once_runs_and_is_up_to_date_on_the_second_build()
    {
        var (code, log) = Exec("bash", SharedData.RepoRoot, Script("examples/consumer/run.sh"));
        Assert.True(code == 0, $"examples/consumer/run.sh failed ({code}):\n{log}");
        int second = log.LastIndexOf("== second build", StringComparison.Ordinal);
        Assert.Contains("llmaot: generating SileroVad", log[..second]);
        Assert.Contains("frame 7: speech probability", log);
        var after = SecondBuild(log, "== second build");
        Assert.Contains("llmaot: SileroVad up to date", after);
        Assert.DoesNotContain("llmaot: generating", after);
    }

    [Fact]
    public void Vad_example_finds_the_three_bursts_also_under_native_aot_and_regenerates_nothing()
    {
        var (code, log) = Exec("bash", SharedData.RepoRoot, Script("examples/vad/run.sh"));
        Assert.True(code == 0, $"examples/vad/run.sh failed ({code}):\n{log}");
        // run.sh compares each segment with its burst; here: the JIT and the NativeAOT runs both found three, equal.
        var segments = log.Split('\n').Where(l => l.StartsWith("speech ", StringComparison.Ordinal)).ToList();
        Assert.Equal(6, segments.Count);
        Assert.Equal(segments.Take(3), segments.Skip(3));
        Assert.Equal(2, log.Split('\n').Count(l => l.StartsWith("segments match the 3 bursts", StringComparison.Ordinal)));
        var after = SecondBuild(log, "== build again");
        Assert.Contains("llmaot: SileroVad up to date", after);
        Assert.DoesNotContain("llmaot: generating", after);
    }

    /// <summary>A project in a temp folder that uses the locally packed packages.</summary>
    private static (string Dir, string Version) TempProject(string itemXml, string program)
    {
        var (pc, version) = Exec("bash", SharedData.RepoRoot, Script("examples/pack-local.sh"));
        Assert.True(pc == 0, $"pack-local.sh failed:\n{version}");
        version = version.Trim().Split('\n')[^1].Trim();
        string dir = SharedData.TempDir("msbuild");
        File.WriteAllText(Path.Combine(dir, "nuget.config"), $"""
            <?xml version="1.0" encoding="utf-8"?>
            <configuration>
              <packageSources>
                <clear />
                <add key="llmaot-local" value="{Path.Combine(SharedData.RepoRoot, "examples", ".packages")}" />
                <add key="nuget.org" value="https://api.nuget.org/v3/index.json" protocolVersion="3" />
              </packageSources>
            </configuration>
            """);
        WriteProject(dir, version, itemXml);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program);
        return (dir, version);
    }

    private static void WriteProject(string dir, string version, string itemXml) =>
        File.WriteAllText(Path.Combine(dir, "app.csproj"), $"""
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup>
                <OutputType>Exe</OutputType>
                <TargetFramework>net10.0</TargetFramework>
                <RootNamespace>App</RootNamespace>
                <Nullable>enable</Nullable>
                <TreatWarningsAsErrors>true</TreatWarningsAsErrors>
              </PropertyGroup>
              <ItemGroup>
                <PackageReference Include="Llmaot.Build" Version="{version}" />
                {itemXml}
              </ItemGroup>
            </Project>
            """);

    [Fact]
    public void Changed_item_options_regenerate_and_compiler_errors_are_msbuild_errors_with_model_and_code()
    {
        string model = SharedData.File("models/onnx/mnist.onnx");
        const string program = "var m = new App.Digits(); System.Console.WriteLine(App.Digits.Input3Length + \" \" + m.Info.Name);\n";
        // Two models: each is its own batch of the generating target, with its own stamp.
        string vad = $"<LlmaotModel Include=\"{SharedData.File("models/onnx/silero_vad_16k_op15.onnx")}\" ClassName=\"Vad\" Shapes=\"input=1,512;state=2,1,128\" Consts=\"sr=16000\" />";
        var (dir, version) = TempProject($"<LlmaotModel Include=\"{model}\" ClassName=\"Digits\" />" + vad, program);
        string[] build = ["build", "-nologo", "-v", "m", "-clp:NoSummary"];

        var (c1, o1) = Exec("dotnet", dir, build);
        Assert.True(c1 == 0, o1);
        Assert.Contains("llmaot: generating Digits", o1);
        Assert.Contains("llmaot: generating Vad", o1);
        Assert.DoesNotContain("up to date", o1);
        var (c2, o2) = Exec("dotnet", dir, build);
        Assert.True(c2 == 0, o2);
        Assert.Contains("llmaot: Digits up to date", o2);
        Assert.Contains("llmaot: Vad up to date", o2);
        Assert.DoesNotContain("llmaot: generating", o2);

        // New metadata: the options stamp changes, so the class is generated again, in the new namespace.
        WriteProject(dir, version, $"<LlmaotModel Include=\"{model}\" ClassName=\"Digits\" Namespace=\"App.Models\" />" + vad);
        File.WriteAllText(Path.Combine(dir, "Program.cs"), program.Replace("App.", "App.Models.", StringComparison.Ordinal));
        var (c3, o3) = Exec("dotnet", dir, build);
        Assert.True(c3 == 0, o3);
        Assert.Contains("llmaot: generating Digits", o3);
        Assert.Contains("llmaot: Vad up to date", o3);
        string generated = File.ReadAllText(Path.Combine(dir, "obj", "Debug", "net10.0", "llmaot", "Digits.g.cs"));
        Assert.Contains("namespace App.Models;", generated);
        var (r, ro) = Exec("dotnet", dir, "run", "--no-build");
        Assert.True(r == 0, ro);
        Assert.Equal("784 Digits", ro.Trim());

        // A broken model: one MSBuild error naming the model file, with the compiler's code and message.
        string junk = Path.Combine(dir, "junk.onnx");
        File.WriteAllBytes(junk, [0x08, 0xFF, 0xFF, 0x12, 0x99, 0x01, 0x02]);
        WriteProject(dir, version, $"<LlmaotModel Include=\"junk.onnx\" ClassName=\"Digits\" />");
        var (c4, o4) = Exec("dotnet", dir, build);
        Assert.NotEqual(0, c4);
        var errors = o4.Split('\n').Where(l => l.Contains(": error ", StringComparison.Ordinal)).Distinct().ToList();
        Assert.True(errors.Count == 1, o4);
        Assert.StartsWith($"{junk} : error LLMAOT0002: ", errors[0]);

        // The same through the compiler's own check of Quantize (not implemented for ONNX graphs yet): a clear error, no crash.
        WriteProject(dir, version, $"<LlmaotModel Include=\"{model}\" ClassName=\"Digits\" Quantize=\"int8\" />");
        var (c5, o5) = Exec("dotnet", dir, build);
        if (c5 != 0) Assert.Contains($"{model} : error LLMAOT", o5);
        else Assert.Contains("llmaot: generating Digits", o5);
    }

    [Fact]
    public void Emit_library_project_is_referenced_by_an_app_and_matches_onnx_runtime()
    {
        string model = SharedData.File("models/onnx/mnist.onnx");
        string root = SharedData.TempDir("emit-library");
        string lib = Path.Combine(root, "mnist");
        var (bc, bo) = Exec(Path.Combine(SharedData.RepoRoot, "llmaot"), SharedData.RepoRoot, "build", model, "--emit", "library", "-o", lib, "--namespace", "Models");
        Assert.True(bc == 0, bo);
        Assert.True(File.Exists(Path.Combine(lib, "mnist.csproj")), bo);
        Assert.True(File.Exists(Path.Combine(lib, "lib", "Llmaot.Runtime.dll")));

        // An app that references the library and writes the scores of a seeded input.
        string app = Path.Combine(root, "app");
        Directory.CreateDirectory(app);
        File.WriteAllText(Path.Combine(app, "app.csproj"), """
            <Project Sdk="Microsoft.NET.Sdk">
              <PropertyGroup><OutputType>Exe</OutputType><TargetFramework>net10.0</TargetFramework><Nullable>enable</Nullable></PropertyGroup>
              <ItemGroup><ProjectReference Include="../mnist/mnist.csproj" /><Reference Include="../mnist/lib/Llmaot.Runtime.dll" /></ItemGroup>
            </Project>
            """);
        File.WriteAllText(Path.Combine(app, "Program.cs"), """
            using var m = new Models.Mnist();
            var x = new float[Models.Mnist.Input3Length];
            ulong s = 7;
            for (int i = 0; i < x.Length; i++) { s = s * 6364136223846793005UL + 1442695040888963407UL; x[i] = (s >> 40) / (float)(1 << 24); }
            var y = new float[Models.Mnist.Plus214Output0Length];
            m.Run(x, y);
            System.Console.WriteLine(string.Join(" ", System.Linq.Enumerable.Select(y, v => v.ToString("R", System.Globalization.CultureInfo.InvariantCulture))));
            """);
        var (rc, ro) = Exec("dotnet", app, "run", "-nologo", "-v", "q");
        Assert.True(rc == 0, ro);
        var ours = ro.Trim().Split('\n')[^1].Split(' ').Select(v => float.Parse(v, CultureInfo.InvariantCulture)).ToArray();

        var x = new float[784];
        ulong s = 7;
        for (int i = 0; i < x.Length; i++) { s = s * 6364136223846793005UL + 1442695040888963407UL; x[i] = (s >> 40) / (float)(1 << 24); }
        var t = new HostTensor(ElementType.Float, [1, 1, 28, 28], System.Runtime.InteropServices.MemoryMarshal.AsBytes(x.AsSpan()).ToArray());
        using var ort = new OrtOracle(model);
        var theirs = ort.Run(new Dictionary<string, HostTensor> { ["Input3"] = t })["Plus214_Output_0"];
        var expected = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, float>(theirs.Data).ToArray();
        Assert.Equal(expected.Length, ours.Length);
        for (int i = 0; i < ours.Length; i++) Assert.True(Math.Abs(ours[i] - expected[i]) <= 1e-4, $"score {i}: {ours[i]} vs {expected[i]}");
    }
}
