using System.CommandLine;
using Llmaot.Ir;
using Llmaot.Passes;

namespace Llmaot.Cli;

/// <summary>`llmaot inspect MODEL [--stop-after PHASE] [--dim ...] [--shape ...]`: the IR at a phase, an op table, and every unsupported op.</summary>
public static class InspectCommand
{
    public static Command Create()
    {
        var model = Shared.Model();
        var stop = new Option<string>("--stop-after") { Description = "Phase to stop after: " + string.Join(", ", Enum.GetNames<Phase>().Select(p => p.ToLowerInvariant())), DefaultValueFactory = _ => "imported" };
        stop.AcceptOnlyFromAmong(Enum.GetNames<Phase>().Select(p => p.ToLowerInvariant()).ToArray());
        var dim = Shared.Dim();
        var shape = Shared.Shape();
        var consts = Shared.Const();
        var cmd = new Command("inspect", "Print the IR at a phase, an op table and every unsupported op") { model, stop, dim, shape, consts };
        cmd.SetAction(r =>
        {
            try
            {
                var o = Shared.Compile(r.GetValue(dim), r.GetValue(shape));
                Shared.AddConsts(o, r.GetValue(consts));
                o.StopAfter = Enum.Parse<Phase>(r.GetValue(stop)!, ignoreCase: true);
                using var m = Frontends.Load(r.GetValue(model)!);
                var unsupported = ShapeInference.Unsupported(m.Graph);
                if (unsupported.Count == 0 || o.StopAfter == Phase.Imported) Pipeline.Run(m, o);
                foreach (var w in o.Warnings) Console.Error.WriteLine("warning " + w);
                Console.Write(IrPrinter.Print(m));
                Console.WriteLine();
                Console.Write(IrPrinter.OpTable(m));
                if (unsupported.Count > 0)
                {
                    Console.WriteLine();
                    Console.WriteLine($"unsupported: {unsupported.Count} node(s)");
                    foreach (var n in unsupported) Console.WriteLine($"  '{n.Name}' ({n.OpLabel})");
                    return 1;
                }
                return 0;
            }
            catch (Exception e) { return Program.Report(e); }
        });
        return cmd;
    }
}
