using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// The table-driven elementwise families. Adding a unary or binary op is one row here plus its operator struct in the
/// runtime (Kernels/UnaryOps.cs, ActivationOps.cs, BinaryOps.cs). Ops with their own rules live in Ops/Elementwise/.
/// </summary>
public static class ElementwiseOps
{
    private const double SeluAlpha = 1.67326319217681884765625, SeluGamma = 1.05070102214813232421875;

    public static IEnumerable<OpDef> All() =>
    [
        // unary math (opset 6/13; trigonometric 7, hyperbolic 9)
        new UnaryOp("Relu", "ReluOp", Types.Signed, x => x > 0 ? x : 0, x => x > 0 ? x : 0, floatStruct: "ReluOp"),
        new UnaryOp("Sigmoid", "SigmoidOp", Types.Float, x => 1 / (1 + Math.Exp(-x)), floatStruct: "SigmoidOp"),
        new UnaryOp("Tanh", "TanhOp", Types.Float, Math.Tanh, floatStruct: "TanhOp"),
        new UnaryOp("Abs", "AbsOp", Types.Numeric, Math.Abs, Math.Abs),
        new UnaryOp("Neg", "NegOp", Types.Signed, x => -x, x => -x),
        new UnaryOp("Sqrt", "SqrtOp", Types.Float, Math.Sqrt),
        new UnaryOp("Exp", "ExpOp", Types.Float, Math.Exp),
        new UnaryOp("Log", "LogOp", Types.Float, Math.Log),
        new UnaryOp("Reciprocal", "ReciprocalOp", Types.Float, x => 1 / x),
        new UnaryOp("Floor", "FloorOp", Types.Float, Math.Floor),
        new UnaryOp("Ceil", "CeilOp", Types.Float, Math.Ceiling),
        new UnaryOp("Round", "RoundOp", Types.Float, x => Math.Round(x, MidpointRounding.ToEven)),
        new UnaryOp("Sign", "SignOp", Types.Numeric, x => double.IsNaN(x) ? x : Math.Sign(x), x => Math.Sign(x), map: true),
        new UnaryOp("Erf", "ErfOp", Types.Float, null),
        new UnaryOp("Sin", "SinOp", Types.Float, Math.Sin),
        new UnaryOp("Cos", "CosOp", Types.Float, Math.Cos),
        new UnaryOp("Tan", "TanOp", Types.Float, Math.Tan, map: true),
        new UnaryOp("Asin", "AsinOp", Types.Float, Math.Asin, map: true),
        new UnaryOp("Acos", "AcosOp", Types.Float, Math.Acos, map: true),
        new UnaryOp("Atan", "AtanOp", Types.Float, Math.Atan, map: true),
        new UnaryOp("Sinh", "SinhOp", Types.Float, Math.Sinh, map: true),
        new UnaryOp("Cosh", "CoshOp", Types.Float, Math.Cosh, map: true),
        new UnaryOp("Asinh", "AsinhOp", Types.Float, Math.Asinh, map: true),
        new UnaryOp("Acosh", "AcoshOp", Types.Float, Math.Acosh, map: true),
        new UnaryOp("Atanh", "AtanhOp", Types.Float, Math.Atanh, map: true),
        new UnaryOp("BitwiseNot", "BitNotOp", Types.Int, null, x => ~x),
        new UnaryOp("Not", "NotOp", Types.Bool, null, x => x == 0 ? 1 : 0, boolAsByte: true),
        // activations without parameters
        new UnaryOp("Softsign", "SoftsignOp", Types.Float, x => x / (1 + Math.Abs(x))),
        new UnaryOp("Softplus", "SoftplusOp", Types.Float, x => Math.Log(1 + Math.Exp(x))),
        new UnaryOp("HardSwish", "HardSwishOp", Types.Float, x => x * Math.Max(0, Math.Min(1, x / 6 + 0.5))),
        new UnaryOp("Mish", "MishOp", Types.Float, x => x * Math.Tanh(Math.Log(1 + Math.Exp(x)))),
        // activations with attributes (alpha, beta)
        new ParamUnaryOp("LeakyRelu", "LeakyReluOp", n => (n.Float("alpha", 0.01f), 0)),
        new ParamUnaryOp("Elu", "EluOp", n => (n.Float("alpha", 1f), 0)),
        new ParamUnaryOp("Selu", "SeluOp", n => (n.Attrs.ContainsKey("alpha") ? n.Float("alpha", 0) : SeluAlpha, n.Attrs.ContainsKey("gamma") ? n.Float("gamma", 0) : SeluGamma)),
        new ParamUnaryOp("Celu", "CeluOp", n => (n.Float("alpha", 1f), 0)),
        new ParamUnaryOp("HardSigmoid", "HardSigmoidOp", n => (n.Float("alpha", 0.2f), n.Float("beta", 0.5f))),
        new ParamUnaryOp("ThresholdedRelu", "ThresholdedReluOp", n => (n.Float("alpha", 1f), 0)),
        new ParamUnaryOp("Shrink", "ShrinkOp", n => (n.Float("lambd", 0.5f), n.Float("bias", 0f))),
        new ParamUnaryOp("Swish", "SwishOp", n => (n.Float("alpha", 1f), 0)),
        new GeluOp(), new ClipOp(), new IsNaNOp(), new IsInfOp(),
        // binary arithmetic with broadcasting
        new BinaryOp("Add", "AddOp", Types.Numeric, (a, b) => a + b, (a, b) => a + b),
        new BinaryOp("Sub", "SubOp", Types.Numeric, (a, b) => a - b, (a, b) => a - b),
        new BinaryOp("Mul", "MulOp", Types.Numeric, (a, b) => a * b, (a, b) => a * b),
        new BinaryOp("Div", "DivOp", Types.Numeric, (a, b) => a / b, (a, b) => b == 0 ? 0 : a / b),
        new BinaryOp("Mod", n => n.Int("fmod", 0) == 1 ? "FModOp" : "ModOp", Types.Numeric, (a, b) => a % b, (a, b) => b == 0 ? 0 : a % b,
            foldFor: n => n.Int("fmod", 0) == 1 ? null : (a, b) => b == 0 ? 0 : ((a % b) + b) % b),
        new BinaryOp("BitShift", n => n.Str("direction", "") == "LEFT" ? "ShiftLeftOp" : "ShiftRightOp", Types.UnsignedInt, null, null),
        new BinaryOp("BitwiseAnd", "BitAndOp", Types.Int, null, (a, b) => a & b),
        new BinaryOp("BitwiseOr", "BitOrOp", Types.Int, null, (a, b) => a | b),
        new BinaryOp("BitwiseXor", "BitXorOp", Types.Int, null, (a, b) => a ^ b),
        new BinaryOp("And", "BitAndOp", Types.Bool, null, (a, b) => a & b, boolAsByte: true),
        new BinaryOp("Or", "BitOrOp", Types.Bool, null, (a, b) => a | b, boolAsByte: true),
        new BinaryOp("Xor", "BitXorOp", Types.Bool, null, (a, b) => a ^ b, boolAsByte: true),
        new BinaryOp("PRelu", "PReluOp", Types.Signed, (a, b) => a >= 0 ? a : a * b, (a, b) => a >= 0 ? a : a * b),
        new PowOp(),
        // comparisons (bool output)
        new CompareOp("Less", "LessOp", (a, b) => a < b, (a, b) => a < b),
        new CompareOp("LessOrEqual", "LessOrEqualOp", (a, b) => a <= b, (a, b) => a <= b),
        new CompareOp("Greater", "GreaterOp", (a, b) => a > b, (a, b) => a > b),
        new CompareOp("GreaterOrEqual", "GreaterOrEqualOp", (a, b) => a >= b, (a, b) => a >= b),
        new CompareOp("Equal", "EqualOp", (a, b) => a == b, (a, b) => a == b),
        new WhereOp(),
        // variadic with broadcasting
        new VariadicOp("Max", "MaxOp", Math.Max, Math.Max),
        new VariadicOp("Min", "MinOp", Math.Min, Math.Min),
        new VariadicOp("Sum", "AddOp", (a, b) => a + b, (a, b) => a + b),
        new VariadicOp("Mean", "AddOp", (a, b) => a + b, null),
        // inference-time identities and conversions
        new DropoutOp(), new CastLikeOp(), new BitCastOp(),
    ];
}

/// <summary>
/// y = f(x) elementwise for the types in the row. <c>Struct</c> names the runtime operator struct, generic over the
/// element type (<c>AbsOp&lt;T&gt;</c>); <c>floatStruct</c> is an older float-only struct kept for float32. Map rows
/// run the scalar <c>Elementwise.Map</c> skeleton; the others the vectorized <c>Elementwise.Unary</c>.
/// Bool rows (Not) run on the bytes 0/1.
/// </summary>
public sealed class UnaryOp(string op, string structName, ElementType[] types, Func<double, double>? fd, Func<long, long>? fl = null,
    bool map = false, string? floatStruct = null, bool boolAsByte = false) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, types);
        Set(n, 0, x.Elem, InShape(n, 0));
    }

    public override TensorData[]? Fold(Node n)
    {
        var x = Input(n, 0);
        return Ew.FoldN(n, x.Elem, fd == null ? null : a => fd(a[0]), fl == null ? null : a => fl(a[0]));
    }

    public override void Select(Node n) => n.Kernel = $"Elementwise.{(map ? "Map" : "Unary")}<{structName}>";

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        long count = y.Shape.Count;
        if (boolAsByte)
        {
            e.W.Line($"Elementwise.Unary<{structName}, byte>({Ew.Ptr(e, x, "byte")}, {Ew.Ptr(e, y, "byte")}, {count});");
            return;
        }
        string t = EmitContext.T(y);
        string s = floatStruct != null && y.Elem == ElementType.Float ? floatStruct : $"{structName}<{t}>";
        if (map) e.W.Line($"Elementwise.Map<{s}, {t}, {t}>({e.P(x)}, {e.P(y)}, {count});");
        else e.W.Line($"Elementwise.Unary<{s}, {t}>({e.P(x)}, {e.P(y)}, {count});");
    }
}

/// <summary>
/// y = f(x; alpha, beta) elementwise, float types, with the parameters from the node's attributes baked in as
/// literals: LeakyRelu (6/16), Elu (6), Selu (6), Celu (12), HardSigmoid (6), ThresholdedRelu (10), Shrink (9), Swish (24).
/// bfloat16 (all but Shrink) is computed in float32 scratch and rounded once to nearest even at the end.
/// </summary>
public sealed class ParamUnaryOp(string op, string structName, Func<Node, (double Alpha, double Beta)> parameters) : OpDef
{
    public override string Op => op;

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        Ew.Require(n, x, op == "Shrink" ? Types.Numeric : [.. Types.Float, ElementType.BFloat16]);
        Set(n, 0, x.Elem, InShape(n, 0));
    }

    public override void Select(Node n)
    {
        n.Kernel = $"Elementwise.UnaryParam<{structName}>";
        if (n.Outputs[0].Elem == ElementType.BFloat16) n.ScratchBytes = n.Outputs[0].Shape.Count * sizeof(float);
    }

    public override void Emit(Node n, EmitContext e)
    {
        var x = n.Inputs[0]!;
        var y = n.Outputs[0];
        var (a, b) = parameters(n);
        if (y.Elem == ElementType.BFloat16)
        {
            string f = EmitContext.Scratch(n, "float");
            long count = y.Shape.Count;
            e.W.Line($"Cast.FromBFloat16<float>({e.P(x)}, {f}, {count});");
            e.W.Line($"Elementwise.UnaryParam<{structName}<float>, float>({f}, {f}, {count}, alpha: {Ew.Literal(ElementType.Float, a)}, beta: {Ew.Literal(ElementType.Float, b)});");
            e.W.Line($"Cast.ToBFloat16<float>({f}, {e.P(y)}, {count});");
            return;
        }
        string t = EmitContext.T(y);
        e.W.Line($"Elementwise.UnaryParam<{structName}<{t}>, {t}>({e.P(x)}, {e.P(y)}, {y.Shape.Count}, alpha: {Ew.Literal(y.Elem, a)}, beta: {Ew.Literal(y.Elem, b)});");
    }
}

/// <summary>
/// y = a op b with multidirectional broadcasting, for the types in the row (Add/Sub/Mul/Div 7/13/14, Mod 10/13,
/// BitShift 11, Bitwise* 18, And/Or/Xor 7, PRelu 9/16 with the slope broadcast to x). Bool rows run on bytes 0/1.
/// </summary>
public sealed class BinaryOp(string op, Func<Node, string> structFor, ElementType[] types, Func<double, double, double>? fd, Func<long, long, long>? fl,
    bool boolAsByte = false, Func<Node, Func<long, long, long>?>? foldFor = null) : OpDef
{
    public BinaryOp(string op, string structName, ElementType[] types, Func<double, double, double>? fd, Func<long, long, long>? fl, bool boolAsByte = false)
        : this(op, _ => structName, types, fd, fl, boolAsByte) { }

    public override string Op => op;

    public override void Infer(Node n)
    {
        var a = Input(n, 0);
        var b = Input(n, 1);
        if (a.Elem != b.Elem) throw Error(n, Codes.UnsupportedType, $"inputs are {ElementTypes.Name(a.Elem)} and {ElementTypes.Name(b.Elem)}; ONNX requires one type");
        Ew.Require(n, a, types);
        Set(n, 0, a.Elem, Broadcast(n, InShape(n, 0), InShape(n, 1)));
    }

    public override TensorData[]? Fold(Node n)
    {
        // An attribute may change the integer rule (Mod: fmod=0 takes the divisor's sign, fmod=1 the dividend's).
        var il = foldFor?.Invoke(n) ?? fl;
        return Ew.FoldN(n, n.Inputs[0]!.Elem, fd == null ? null : v => fd(v[0], v[1]), il == null ? null : v => il(v[0], v[1]));
    }

    /// <summary>
    /// Collapses the broadcast into the fewest dims: adjacent dims merge when both inputs broadcast them the same way.
    /// Returns the output dims with each input's element strides (0 where broadcast).
    /// </summary>
    public static (long[] Shape, long[] AStrides, long[] BStrides) Collapse(long[] outShape, long[] aShape, long[] bShape)
    {
        var (dims, s) = Ew.Collapse(outShape, aShape, bShape);
        return (dims, s[0], s[1]);
    }

    /// <summary>The skeleton for a broadcast: Binary (same shapes), BinaryScalarRight/Left (one side is one value) or BinaryBroadcast.</summary>
    public static string Skeleton(long[] outShape, long[] aShape, long[] bShape)
    {
        var (shape, sa, sb) = Collapse(outShape, aShape, bShape);
        bool aFull = sa.Length == shape.Length && sa.All(s => s != 0), bFull = sb.All(s => s != 0);
        bool aOne = sa.All(s => s == 0), bOne = sb.All(s => s == 0);
        return shape.Length <= 1 && aFull && bFull ? "Binary"
            : bOne ? "BinaryScalarRight"
            : aOne ? "BinaryScalarLeft"
            : "BinaryBroadcast";
    }

    public override void Select(Node n) =>
        n.Kernel = $"Elementwise.{Skeleton(n.Outputs[0].Shape.ToLongs(), n.Inputs[0]!.Shape.ToLongs(), n.Inputs[1]!.Shape.ToLongs())}<{structFor(n)}>";

    public override void Emit(Node n, EmitContext e)
    {
        string t = boolAsByte ? "byte" : EmitContext.T(n.Outputs[0]);
        EmitBinary(e, n.Kernel!.Split('<')[0], $"{structFor(n)}<{t}>", t, n.Inputs[0]!, n.Inputs[1]!, n.Outputs[0]);
    }

    /// <summary>Writes y = op(a, b) with the chosen skeleton; <paramref name="t"/> is the C# element type the kernel runs on.</summary>
    public static void EmitBinary(EmitContext e, string kernel, string opStruct, string t, Value a, Value b, Value y)
    {
        string op = $"{opStruct}, {t}";
        long count = y.Shape.Count;
        string pa = Ew.Ptr(e, a, t), pb = Ew.Ptr(e, b, t), py = Ew.Ptr(e, y, t);
        bool plain = EmitContext.T(a) == t;
        switch (kernel)
        {
            case "Elementwise.Binary":
                e.W.Line($"Elementwise.Binary<{op}>({pa}, {pb}, {py}, {count});");
                break;
            case "Elementwise.BinaryScalarRight":
                e.W.Line($"Elementwise.BinaryScalarRight<{op}>({pa}, {(plain ? Ew.Scalar(e, b) : "*" + pb)}, {py}, {count});");
                break;
            case "Elementwise.BinaryScalarLeft":
                e.W.Line($"Elementwise.BinaryScalarLeft<{op}>({(plain ? Ew.Scalar(e, a) : "*" + pa)}, {pb}, {py}, {count});");
                break;
            default:
                var (shape, sa, sb) = Collapse(y.Shape.ToLongs(), a.Shape.ToLongs(), b.Shape.ToLongs());
                e.W.Line($"Elementwise.BinaryBroadcast<{op}>({pa}, {pb}, {py}, {EmitContext.Ints(shape)}, {EmitContext.Ints(sa)}, {EmitContext.Ints(sb)});");
                break;
        }
    }
}
