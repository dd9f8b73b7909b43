using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// NonZero, Unique, Compress and NonMaxSuppression: their output shapes depend on the input values, which an AOT
/// build with a static arena cannot honour without an upper-bound design. They are recognized so the error is clear.
/// </summary>
public sealed class DataDependentOp(string op) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n) =>
        throw Error(n, Codes.DataDependentShape, $"{Op}'s output shape depends on the input values, which llmaot's static memory plan cannot express; compute it before export or replace it with a fixed-size equivalent");

    public override void Emit(Node n, EmitContext e) => throw Error(n, Codes.Internal, $"{Op} cannot be emitted");
}
