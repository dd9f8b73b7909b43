using System.CommandLine;
using System.Globalization;
using Llmaot.Llm;

namespace Llmaot.Cli;

/// <summary>
/// `llmaot gguf-synth --shape 15m|110m|1b --type f32|q8_0|q4_0 -o FILE [--seed S] [--ctx N]`: writes a llama-architecture GGUF
/// with seeded random weights at the benchmark shapes of issue 5 (see <see cref="GgufSynth"/>). Same seed, same bytes.
/// </summary>
public static class GgufSynthCommand
{
    public static Command Create()
    {
        var shape = new Option<string>("--shape") { Description = "Model shape: " + string.Join(", ", SynthShape.All.Select(s => $"{s.Name} (dim {s.Dim}, {s.Layers} layers, {s.Heads}/{s.KvHeads} heads, hidden {s.Hidden}, vocab {s.Vocab})")), Required = true };
        shape.AcceptOnlyFromAmong(SynthShape.All.Select(s => s.Name).ToArray());
        var type = new Option<string>("--type") { Description = "Weight format of the matrices: f32, q8_0 or q4_0", DefaultValueFactory = _ => "q4_0" };
        type.AcceptOnlyFromAmong("f32", "q8_0", "q4_0");
        var output = new Option<string>("--output", "-o") { Description = "The .gguf file to write", Required = true };
        var seed = new Option<ulong>("--seed") { Description = "Random seed", DefaultValueFactory = _ => 1 };
        var ctx = new Option<int>("--ctx") { Description = "Context length recorded in the metadata", DefaultValueFactory = _ => 2048 };
        var cmd = new Command("gguf-synth", "Write a synthetic llama GGUF with seeded random weights (benchmark shapes 15m, 110m, 1b)") { shape, type, output, seed, ctx };
        cmd.SetAction(r =>
        {
            try
            {
                var s = SynthShape.Find(r.GetValue(shape)!);
                var t = GgufSynth.ParseType(r.GetValue(type)!);
                string path = r.GetValue(output)!;
                var sw = System.Diagnostics.Stopwatch.StartNew();
                GgufSynth.Write(path, s, t, r.GetValue(seed), r.GetValue(ctx));
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"wrote {path}: {s.Name} {GgufSynth.TypeName(t)}, {new FileInfo(path).Length:N0} bytes, {s.BytesPerToken(t):N0} weight bytes read per token, in {sw.Elapsed.TotalSeconds:F1} s"));
                return 0;
            }
            catch (Exception e) { return Program.Report(e); }
        });
        return cmd;
    }
}
