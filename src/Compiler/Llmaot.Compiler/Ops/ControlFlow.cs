using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// If (opset 1-21): runs then_branch or else_branch. When the condition is known at compile time (a constant, or an input
/// fixed with --const) shape inference inlines the taken branch into the parent graph, so no control flow remains.
/// A condition computed at run time is not supported yet and is reported as such.
/// </summary>
public sealed class IfOp : OpDef
{
    public override string Op => "If";

    public override void Infer(Node n) =>
        throw Error(n, Codes.DataDependentShape, $"the condition '{n.In(0)?.Name}' is only known at run time; fix the inputs it depends on at compile time (--const INPUT=FILE) so the taken branch can be inlined");

    public override void Emit(Node n, EmitContext e) => throw Error(n, Codes.Internal, "If should have been inlined");

    /// <summary>The branch taken when the condition is constant, or null.</summary>
    public static Graph? TakenBranch(Node n)
    {
        var c = n.In(0);
        if (c?.Const == null) return null;
        bool cond = c.Const.Span.Length > 0 && c.Const.Span.IndexOfAnyExcept((byte)0) >= 0;
        string attr = cond ? "then_branch" : "else_branch";
        return n.Attrs.TryGetValue(attr, out var a) && a.G != null ? a.G : throw Error(n, Codes.BadAttribute, $"attribute '{attr}' is missing");
    }
}
