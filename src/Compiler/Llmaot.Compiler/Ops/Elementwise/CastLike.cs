using Llmaot.Emit;
using Llmaot.Ir;

namespace Llmaot.Ops;

/// <summary>
/// CastLike (opset 15/19/21/23/24/25): Cast of input 0 to the element type of input 1 (whose values are not read), with
/// Cast's rules and its 'saturate' and 'round_mode' attributes (float8, float4 and packed integer types included).
/// </summary>
public sealed class CastLikeOp : OpDef
{
    public override string Op => "CastLike";

    public override void Infer(Node n) => Set(n, 0, CastOp.Check(n, Input(n, 0).Elem, Input(n, 1).Elem), InShape(n, 0));

    public override TensorData[]? Fold(Node n) => CastOp.FoldCast(Input(n, 0), Input(n, 1).Elem);

    public override void Select(Node n) => n.Kernel = CastOp.SelectCast(n.Inputs[0]!.Elem, n.Outputs[0].Elem);

    public override void Emit(Node n, EmitContext e) => CastOp.EmitCast(n, e, n.Inputs[0]!, n.Outputs[0]);
}
