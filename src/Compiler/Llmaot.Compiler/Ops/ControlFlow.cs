using System.Globalization;
using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Passes;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// The control-flow family (If, Loop, Scan) and the walks over subgraph bodies that every pass shares.
/// A body is an <see cref="Graph"/> whose nodes may read values of enclosing graphs directly. Every pass processes
/// bodies too: shape inference types a body's inputs from its op and infers it; simplification prunes it and hoists its
/// constants into the weights; the planner gives its values arena space for the whole control-flow node; the emitter
/// writes its nodes inside the C# <c>if</c>/<c>for</c> that the op emits.
/// </summary>
public static class ControlFlow
{
    public static IEnumerable<OpDef> All() => [new IfOp(), new LoopOp(), new ScanOp()];

    /// <summary>The subgraph bodies of a node, in attribute order.</summary>
    public static IEnumerable<Graph> Bodies(Node n)
    {
        foreach (var a in n.Attrs.Values)
        {
            if (a.G != null) yield return a.G;
            foreach (var g in a.Graphs) yield return g;
        }
    }

    /// <summary><paramref name="g"/> and every graph nested in it, outer graphs first.</summary>
    public static IEnumerable<Graph> AllGraphs(Graph g)
    {
        yield return g;
        foreach (var n in g.Nodes)
            foreach (var b in Bodies(n))
                foreach (var x in AllGraphs(b))
                    yield return x;
    }

    /// <summary>Every node of <paramref name="g"/> and of the bodies nested in it; a node comes before its bodies' nodes.</summary>
    public static IEnumerable<Node> AllNodes(Graph g)
    {
        foreach (var n in g.Nodes)
        {
            yield return n;
            foreach (var b in Bodies(n))
                foreach (var x in AllNodes(b))
                    yield return x;
        }
    }

    /// <summary><paramref name="n"/> and every node nested in its bodies.</summary>
    public static IEnumerable<Node> SelfAndNested(Node n)
    {
        yield return n;
        foreach (var b in Bodies(n))
            foreach (var x in AllNodes(b))
                yield return x;
    }

    /// <summary>Every value a body of <paramref name="n"/> (or a body nested in one) defines: inputs and node outputs.</summary>
    public static IEnumerable<Value> BodyValues(Node n)
    {
        foreach (var b in Bodies(n))
        {
            foreach (var v in b.Inputs) yield return v;
            foreach (var m in b.Nodes)
            {
                foreach (var v in m.Outputs) yield return v;
                foreach (var v in BodyValues(m)) yield return v;
            }
        }
    }

    /// <summary>
    /// Values defined outside <paramref name="n"/>'s bodies that they read (as node inputs or as body outputs), in the
    /// order first read. They must stay alive, and unchanged, until the control-flow node ends.
    /// </summary>
    public static List<Value> OuterReads(Node n)
    {
        var defined = new HashSet<Value>(BodyValues(n));
        var seen = new HashSet<Value>();
        var list = new List<Value>();
        void Read(Value? v)
        {
            if (v != null && !defined.Contains(v) && seen.Add(v)) list.Add(v);
        }
        void Walk(Graph b)
        {
            foreach (var m in b.Nodes)
            {
                foreach (var v in m.Inputs) Read(v);
                foreach (var inner in Bodies(m)) Walk(inner);
            }
            foreach (var v in b.Outputs) Read(v);
        }
        foreach (var b in Bodies(n)) Walk(b);
        return list;
    }
}

/// <summary>What If, Loop and Scan share: reading their bodies, typing them, and passing loop-carried values on.</summary>
public abstract class ControlFlowOp : OpDef
{
    /// <summary>The facts key of the loop-carried plan: one of <see cref="Same"/>, <see cref="Copy"/>, <see cref="Stage"/> per value.</summary>
    public const string CarryFact = "carry";
    /// <summary>The body returns its carried input unchanged: nothing to do between iterations.</summary>
    public const string Same = "same";
    /// <summary>The body's output is copied into the carried input's buffer (the two are separate arena buffers).</summary>
    public const string Copy = "copy";
    /// <summary>The body's output is another carried input: staged through scratch first, so no copy overwrites a value still to be read.</summary>
    public const string Stage = "stage";

    protected static Graph Body(Node n, string attr) =>
        n.Attrs.TryGetValue(attr, out var a) && a.G != null ? a.G : throw Error(n, Codes.BadAttribute, $"graph attribute '{attr}' is missing");

    /// <summary>Each body with the types of the inputs the op passes it (known once the node's inputs are typed).</summary>
    public abstract List<(Graph Body, List<TensorType> Inputs)> BodyInputs(Node n);

    /// <summary>Types a body's inputs as the op passes them (shape inference then infers the body's nodes).</summary>
    public static void TypeInputs(Node n, Graph body, List<TensorType> inputs)
    {
        if (body.Inputs.Count != inputs.Count)
            throw Error(n, Codes.BadGraph, $"body '{body.Name}' takes {body.Inputs.Count} inputs, but the op passes {inputs.Count}");
        for (int k = 0; k < inputs.Count; k++)
        {
            var declared = body.Inputs[k].Type.Elem;
            if (declared != ElementType.Undefined && declared != inputs[k].Elem)
                throw Error(n, Codes.BadGraph, $"body input '{body.Inputs[k].Name}' is declared {ElementTypes.Name(declared)}, but the op passes {ElementTypes.Name(inputs[k].Elem)}");
            body.Inputs[k].Type = inputs[k];
        }
    }

    /// <summary>Checks that shape inference typed every output of a body.</summary>
    protected static void RequireTyped(Node n, Graph body)
    {
        foreach (var v in body.Outputs)
            if (v.Type.Elem == ElementType.Undefined) throw Error(n, Codes.BadGraph, $"body output '{v.Name}' of '{body.Name}' got no type");
    }

    /// <summary>A loop-carried value must keep its type and static shape from one iteration to the next.</summary>
    protected static void RequireSameType(Node n, Value initial, Value bodyOut, TensorType expected)
    {
        if (bodyOut.Type != expected)
            throw Error(n, Codes.ShapeMismatch, $"the loop-carried value '{initial.Name}' is {expected} on entry but the body returns {bodyOut.Type} ('{bodyOut.Name}'); llmaot needs loop-carried values of one static type and shape");
    }

    /// <summary>The value whose storage <paramref name="v"/> shares, following view ops (Identity, Reshape, ...) inside bodies.</summary>
    protected static Value ViewRoot(Value v)
    {
        while (v.Producer is { } p && p.Inputs.Count > 0 && p.Inputs[0] is { } src && !v.IsConst && OpRegistry.Find(p.Domain, p.Op)?.IsView(p) == true) v = src;
        return v;
    }

    /// <summary>
    /// Decides, per loop-carried value, how the body's output becomes the next iteration's input, records it as the
    /// <see cref="CarryFact"/> fact, and reserves scratch for the staged ones. Returns a short text for the kernel name.
    /// </summary>
    protected static string PlanCarry(Node n, IReadOnlyList<Value> ins, IReadOnlyList<Value> outs)
    {
        var inRoots = ins.Select(ViewRoot).ToList();
        var plan = new string[ins.Count];
        long scratch = 0;
        for (int k = 0; k < ins.Count; k++)
        {
            var r = ViewRoot(outs[k]);
            plan[k] = r == inRoots[k] ? Same : inRoots.Contains(r) ? Stage : Copy;
            if (plan[k] == Stage) scratch += Align(ins[k].Bytes);
        }
        n.Facts[CarryFact] = string.Join(",", plan);
        n.ScratchBytes = scratch;
        return plan.Length == 0 ? "none" : string.Join(",", plan);
    }

    private static long Align(long b) => (b + MemoryPlanner.Alignment - 1) / MemoryPlanner.Alignment * MemoryPlanner.Alignment;

    /// <summary>Writes the copies that pass the body's carried outputs on as the next iteration's inputs (see <see cref="PlanCarry"/>).</summary>
    protected static void EmitCarry(Node n, EmitContext e, IReadOnlyList<Value> ins, IReadOnlyList<Value> outs)
    {
        if (ins.Count == 0) return;
        var plan = n.Facts[CarryFact].Split(',');
        e.W.Comment("loop-carried values for the next iteration");
        var stage = new long[ins.Count];
        long off = n.ScratchOffset;
        for (int k = 0; k < ins.Count; k++)
            if (plan[k] == Stage)
            {
                stage[k] = off;
                off += Align(ins[k].Bytes);
                e.W.Line($"DataMovement.Copy({e.P(outs[k])}, a + {stage[k]}, {ins[k].Bytes}); // '{Lit.Comment(outs[k].Name)}' staged: it is another carried input");
            }
        for (int k = 0; k < ins.Count; k++)
        {
            if (plan[k] == Copy) e.W.Line($"DataMovement.Copy({e.P(outs[k])}, {e.P(ins[k])}, {ins[k].Bytes}); // '{Lit.Comment(outs[k].Name)}' -> '{Lit.Comment(ins[k].Name)}'");
            else if (plan[k] == Same) e.W.Line($"// '{Lit.Comment(ins[k].Name)}' is returned unchanged");
        }
        for (int k = 0; k < ins.Count; k++)
            if (plan[k] == Stage) e.W.Line($"DataMovement.Copy(a + {stage[k]}, {e.P(ins[k])}, {ins[k].Bytes}); // staged '{Lit.Comment(outs[k].Name)}' -> '{Lit.Comment(ins[k].Name)}'");
    }

    /// <summary>Writes a body's nodes, one commented block each, at the writer's current indentation.</summary>
    protected static void EmitBody(Graph body, string label, EmitContext e)
    {
        e.W.Comment($"{label} '{Lit.Comment(body.Name)}': {body.Nodes.Count} node{(body.Nodes.Count == 1 ? "" : "s")}");
        ModelEmitter.EmitNodes(body.Nodes, e);
    }

    /// <summary>A bool scalar as a C# expression: a literal when constant, else the first element.</summary>
    protected static string BoolExpr(Value v, EmitContext e) =>
        v.IsConst ? Lit.B(v.Const!.Span.IndexOfAnyExcept((byte)0) >= 0) : $"{e.P(v)}[0]";

    protected static string Name(Value v) => Lit.Comment(v.Name);
}

/// <summary>
/// If (opset 1, 11, 13, 16, 19, 21+; tensor values only, not sequences or optionals):
/// y = cond ? then_branch() : else_branch(). When the condition is known at compile time (a constant, or an input
/// fixed with --const) shape inference inlines the taken branch, so no control flow remains. A run-time
/// condition becomes <c>if (cond[0]) { then nodes } else { else nodes }</c>, each branch copying its results into the If's
/// outputs; the two branches must therefore give each output the same type and static shape.
/// </summary>
public sealed class IfOp : ControlFlowOp
{
    public override string Op => "If";

    public override void Infer(Node n)
    {
        var cond = Input(n, 0);
        if (cond.Elem != ElementType.Bool) throw Error(n, Codes.UnsupportedType, $"the condition '{cond.Name}' is {ElementTypes.Name(cond.Elem)}, not bool");
        if (cond.Type.Shape is { IsStatic: true } cs && cs.Count != 1)
            throw Error(n, Codes.ShapeMismatch, $"the condition '{cond.Name}' has shape {cs}; it must hold one element");
        var then = Body(n, "then_branch");
        var els = Body(n, "else_branch");
        RequireTyped(n, then);
        RequireTyped(n, els);
        if (then.Outputs.Count != n.Outputs.Count || els.Outputs.Count != n.Outputs.Count)
            throw Error(n, Codes.BadGraph, $"the branches return {then.Outputs.Count} and {els.Outputs.Count} values, the node has {n.Outputs.Count} outputs");
        for (int k = 0; k < n.Outputs.Count; k++)
        {
            TensorType t = then.Outputs[k].Type, f = els.Outputs[k].Type;
            if (t != f)
                throw Error(n, Codes.ShapeMismatch, $"output {k} ('{n.Outputs[k].Name}') is {t} in then_branch but {f} in else_branch; with a run-time condition llmaot needs both branches to give the same type and static shape (fix the condition at compile time with --const to inline one branch)");
            n.Outputs[k].Type = t;
        }
    }

    /// <summary>The branches take no inputs: they read outer values directly.</summary>
    public override List<(Graph Body, List<TensorType> Inputs)> BodyInputs(Node n) => [(Body(n, "then_branch"), []), (Body(n, "else_branch"), [])];

    public override void Select(Node n) => n.Kernel = "if/else on the run-time condition";

    public override void Emit(Node n, EmitContext e)
    {
        var cond = n.Inputs[0]!;
        e.W.Open($"if ({BoolExpr(cond, e)})");
        Branch(n, Body(n, "then_branch"), "then_branch", e);
        e.W.Close();
        e.W.Open("else");
        Branch(n, Body(n, "else_branch"), "else_branch", e);
        e.W.Close();
    }

    private static void Branch(Node n, Graph body, string label, EmitContext e)
    {
        EmitBody(body, label, e);
        e.W.Line();
        e.W.Comment("the branch's results become the If's outputs");
        for (int k = 0; k < n.Outputs.Count; k++)
            e.W.Line($"DataMovement.Copy({e.P(body.Outputs[k])}, {e.P(n.Outputs[k])}, {n.Outputs[k].Bytes}); // '{Name(body.Outputs[k])}' -> '{Name(n.Outputs[k])}'");
    }

    /// <summary>The branch taken when the condition is constant, or null.</summary>
    public static Graph? TakenBranch(Node n)
    {
        var c = n.In(0);
        if (c?.Const == null) return null;
        bool cond = c.Const.Span.Length > 0 && c.Const.Span.IndexOfAnyExcept((byte)0) >= 0;
        return Body(n, cond ? "then_branch" : "else_branch");
    }
}

/// <summary>
/// Loop (opset 1, 11, 13, 16, 19, 21+; tensor values only, not sequences or optionals):
/// <c>for (i = 0; i &lt; M &amp;&amp; cond; i++) { cond, v..., scan... = body(i, cond, v...) }</c>.
/// Inputs M (int64 [], optional), cond (bool [], optional) and the N initial loop-carried values; the body takes
/// (i int64 [], cond bool [], v...) and returns (cond, v..., K per-iteration scan values); outputs are the N final values
/// then the K scan values concatenated along a new axis 0. Loop-carried values keep one static type and live in two
/// arena buffers (the body's input and output; see <see cref="ControlFlowOp.PlanCarry"/>). Scan outputs need a static
/// length: the trip count M when it is known at compile time, else the model's declared output shape. When the loop may
/// run another number of iterations (it can stop early on cond, or M is only known at run time), the generated code
/// checks the count and throws LLMAOT9021 rather than return partial outputs.
/// </summary>
public sealed class LoopOp : ControlFlowOp
{
    public override string Op => "Loop";

    /// <summary>Above this trip count a constant M is taken for "no limit" (exporters write INT64_MAX) rather than a scan length.</summary>
    private const long MaxStaticTrips = 1 << 24;

    /// <summary>The body takes the iteration number (int64 []), the condition (bool []) and the loop-carried values.</summary>
    public override List<(Graph Body, List<TensorType> Inputs)> BodyInputs(Node n)
    {
        int carried = n.Inputs.Count - 2;
        if (carried < 0) throw Error(n, Codes.BadGraph, "Loop takes the inputs M and cond (either may be empty) before the loop-carried values");
        var types = new List<TensorType> { new(ElementType.Int64, Shape.Scalar), new(ElementType.Bool, Shape.Scalar) };
        for (int k = 0; k < carried; k++) types.Add(Input(n, 2 + k).Type);
        return [(Body(n, "body"), types)];
    }

    public override void Infer(Node n)
    {
        var body = Body(n, "body");
        int carried = n.Inputs.Count - 2;
        if (n.In(0) is { } m && (m.Elem != ElementType.Int64 || m.Type.Shape is { IsStatic: true } ms && ms.Count != 1))
            throw Error(n, Codes.BadGraph, $"the trip count '{m.Name}' must be one int64");
        if (n.In(1) is { } c && (c.Elem != ElementType.Bool || c.Type.Shape is { IsStatic: true } cs && cs.Count != 1))
            throw Error(n, Codes.BadGraph, $"the condition '{c.Name}' must be one bool");
        var types = BodyInputs(n)[0].Inputs;
        RequireTyped(n, body);
        int scans = body.Outputs.Count - 1 - carried;
        if (scans < 0 || n.Outputs.Count != carried + scans)
            throw Error(n, Codes.BadGraph, $"the body returns {body.Outputs.Count} values; it must return cond, the {carried} loop-carried values and the scan values ({n.Outputs.Count - carried} by the node's outputs)");
        if (body.Outputs[0].Elem != ElementType.Bool) throw Error(n, Codes.BadGraph, $"the body's first output '{body.Outputs[0].Name}' (the condition) must be bool");
        for (int k = 0; k < carried; k++)
        {
            RequireSameType(n, n.Inputs[2 + k]!, body.Outputs[1 + k], types[2 + k]);
            n.Outputs[k].Type = types[2 + k];
        }
        if (scans == 0) return;
        long length = ScanLength(n, carried);
        for (int j = 0; j < scans; j++)
        {
            var s = body.Outputs[1 + carried + j];
            if (s.Type.Shape == null) throw Error(n, Codes.UnboundDim, $"the scan value '{s.Name}' has no known shape");
            n.Outputs[carried + j].Type = new TensorType(s.Elem, new Shape(new[] { Dim.Of(length) }.Concat(s.Type.Shape.Dims).ToArray()));
        }
    }

    /// <summary>The static number of rows of the scan outputs: a compile-time M, or the model's declared output length.</summary>
    private static long ScanLength(Node n, int carried)
    {
        if (n.In(0)?.Const is { } mc && mc.ToInt64(ElementType.Int64)[0] is var m && m >= 0 && m <= MaxStaticTrips) return m;
        foreach (var y in n.Outputs.Skip(carried))
            if (y.Type.Shape is { Rank: > 0 } s && s[0].IsKnown) return s[0].Value;
        throw Error(n, Codes.DataDependentShape,
            $"the scan outputs need a static number of iterations, but the trip count '{n.In(0)?.Name ?? "(none)"}' is only known at run time; fix it at compile time (--const), or declare the outputs' static shapes in the model (checked at run time)");
    }

    /// <summary>The constant trip count, or null when it is only known at run time (or absent).</summary>
    private static long? StaticTrips(Node n) => n.In(0)?.Const is { } mc ? mc.ToInt64(ElementType.Int64)[0] : null;

    /// <summary>True when the loop can only end by its trip count: cond starts true and the body keeps it true.</summary>
    private static bool CondAlwaysTrue(Node n, Graph body)
    {
        bool startsTrue = n.In(1) is not { } c || c.IsConst && c.Const!.Span.IndexOfAnyExcept((byte)0) >= 0;
        var co = body.Outputs[0];
        bool staysTrue = co.IsConst ? co.Const!.Span.IndexOfAnyExcept((byte)0) >= 0 : ViewRoot(co) == body.Inputs[1];
        return startsTrue && staysTrue;
    }

    public override void Select(Node n)
    {
        var body = Body(n, "body");
        int carried = n.Inputs.Count - 2;
        string carry = PlanCarry(n, body.Inputs.Skip(2).ToList(), body.Outputs.Skip(1).Take(carried).ToList());
        long? m = StaticTrips(n);
        string trips = m is { } t ? t.ToString(CultureInfo.InvariantCulture) : n.In(0) == null ? "unbounded" : "run-time M";
        string scans = n.Outputs.Count > carried ? $", scan length {n.Outputs[carried].Shape[0]}" : "";
        n.Kernel = $"for loop (trips: {trips}{(CondAlwaysTrue(n, body) ? "" : ", while cond")}{scans}; carried: {carry})";
        if (n.In(0) == null && CondAlwaysTrue(n, body))
            throw Error(n, Codes.BadGraph, "this loop has no trip count and its condition never becomes false: it would never end");
    }

    public override void Emit(Node n, EmitContext e)
    {
        var body = Body(n, "body");
        int carried = n.Inputs.Count - 2;
        int scans = n.Outputs.Count - carried;
        var ins = body.Inputs.Skip(2).ToList();
        var outs = body.Outputs.Skip(1).Take(carried).ToList();
        string id = n.Id.ToString(CultureInfo.InvariantCulture);
        string i = "i" + id, m = "m" + id, cond = "cond" + id;
        long? staticM = StaticTrips(n);
        bool bounded = n.In(0) != null;
        bool checkCond = !CondAlwaysTrue(n, body);
        long length = scans > 0 ? n.Outputs[carried].Shape[0].Value : 0;
        // The count must be checked when the scan outputs could end up partial (or overflow).
        bool checkCount = scans > 0 && (checkCond || staticM != length);

        if (bounded) e.W.Line(staticM is { } sm ? $"long {m} = {Lit.I(sm)}; // trip count" : $"long {m} = {e.P(n.Inputs[0]!)}[0]; // trip count '{Name(n.Inputs[0]!)}'");
        if (checkCond) e.W.Line($"bool {cond} = {(n.In(1) is { } c ? BoolExpr(c, e) : "true")}; // condition{(n.In(1) is { } c2 ? $" '{Name(c2)}'" : "")}");
        for (int k = 0; k < carried; k++)
            e.W.Line($"DataMovement.Copy({e.P(n.Inputs[2 + k]!)}, {e.P(ins[k])}, {ins[k].Bytes}); // initial '{Name(n.Inputs[2 + k]!)}' -> '{Name(ins[k])}'");
        string test = string.Join(" && ", new[] { bounded ? $"{i} < {m}" : "", checkCond ? cond : "" }.Where(s => s.Length > 0));
        e.W.Line($"long {i} = 0;");
        e.W.Open($"for (; {test}; {i}++)");
        e.W.Line($"{e.P(body.Inputs[0])}[0] = {i}; // iteration number '{Name(body.Inputs[0])}'");
        e.W.Line($"{e.P(body.Inputs[1])}[0] = {(checkCond ? cond : "true")}; // condition '{Name(body.Inputs[1])}'");
        EmitBody(body, "body", e);
        e.W.Line();
        if (checkCond) e.W.Line($"{cond} = {BoolExpr(body.Outputs[0], e)}; // condition for the next iteration '{Name(body.Outputs[0])}'");
        if (scans > 0)
        {
            e.W.Comment("this iteration's scan values, at row i of the scan outputs");
            if (checkCount)
                e.W.Line($"if ({i} >= {length}) throw new InvalidOperationException({Lit.S($"LLMAOT9021: Loop '{n.Name}' runs more than the {length} iterations its scan outputs were compiled for")});");
            for (int j = 0; j < scans; j++)
            {
                var s = body.Outputs[1 + carried + j];
                var y = n.Outputs[carried + j];
                e.W.Line($"DataMovement.Copy({e.P(s)}, (byte*){e.P(y)} + {i} * {s.Bytes}, {s.Bytes}); // '{Name(s)}' -> '{Name(y)}'[{i}]");
            }
        }
        EmitCarry(n, e, ins, outs);
        e.W.Close();
        if (checkCount)
            e.W.Line($"if ({i} != {length}) throw new InvalidOperationException({Lit.S($"LLMAOT9021: Loop '{n.Name}' stopped after a number of iterations other than the {length} its scan outputs were compiled for")});");
        for (int k = 0; k < carried; k++)
            e.W.Line($"DataMovement.Copy({e.P(ins[k])}, {e.P(n.Outputs[k])}, {ins[k].Bytes}); // final '{Name(ins[k])}' -> '{Name(n.Outputs[k])}'");
    }
}

/// <summary>
/// Scan (opset 8 with a batch of 1; opset 9, 11, 16, 19, 21+): runs the body once per position along the scan axis. Inputs are N
/// initial state values then M scan inputs (opset 8: a leading sequence_lens, which must be empty or all full
/// length, and a batch axis 0 of size 1 on every input and output). Per iteration t the body takes (state...,
/// slice t of each scan input along scan_input_axes[j], read backwards when scan_input_directions[j] = 1) and returns
/// (state..., K scan values); outputs are the final states and the K scan values stacked along scan_output_axes[k]
/// (filled backwards when scan_output_directions[k] = 1). States are loop-carried (see <see cref="ControlFlowOp.PlanCarry"/>).
/// </summary>
public sealed class ScanOp : ControlFlowOp
{
    public override string Op => "Scan";

    /// <summary>The static layout of one scan: which inputs are states and scans, and where each slice sits.</summary>
    private sealed record Layout(int First, int States, int ScanIns, long Length, int[] InAxes, bool[] InReverse, int[] OutAxes, bool[] OutReverse, bool Batched);

    /// <summary>The layout; the output axes only once <paramref name="body"/> (typed) is given.</summary>
    private static Layout Plan(Node n, Graph? body)
    {
        bool batched = n.Opset < 9;
        int first = batched ? 1 : 0;
        long numScan = n.Int("num_scan_inputs", -1);
        int total = n.Inputs.Count - first;
        if (numScan < 1 || numScan > total) throw Error(n, Codes.BadAttribute, $"num_scan_inputs must be between 1 and {total}");
        int states = total - (int)numScan, scanIns = (int)numScan;
        int scanOuts = n.Outputs.Count - states;
        if (scanOuts < 0) throw Error(n, Codes.BadGraph, $"the node has {n.Outputs.Count} outputs but {states} state values");
        long[] Attr(string name, int count, long dflt)
        {
            var a = n.Ints(name) ?? Enumerable.Repeat(dflt, count).ToArray();
            if (a.Length != count) throw Error(n, Codes.BadAttribute, $"attribute '{name}' has {a.Length} entries, expected {count}");
            return a;
        }
        var inAxes = new int[scanIns];
        var inDirs = Attr(batched ? "directions" : "scan_input_directions", scanIns, 0);
        var inAxesAttr = batched ? Enumerable.Repeat(1L, scanIns).ToArray() : Attr("scan_input_axes", scanIns, 0);
        long length = -1;
        for (int j = 0; j < scanIns; j++)
        {
            var x = Input(n, first + states + j);
            var xs = InShape(n, first + states + j);
            if (batched && (xs.Rank < 2 || xs[0] != Dim.Of(1)))
                throw Error(n, Codes.UnsupportedOp, $"opset-8 Scan is supported with a batch of 1 only; '{x.Name}' is {xs}");
            inAxes[j] = Axis(n, inAxesAttr[j], xs.Rank);
            var d = xs[inAxes[j]];
            if (!d.IsKnown) throw Error(n, Codes.UnboundDim, $"the scan axis of '{x.Name}' ({xs}) is symbolic; bind it with --shape");
            if (length >= 0 && d.Value != length) throw Error(n, Codes.ShapeMismatch, $"scan inputs have different lengths ({length} and {d.Value})");
            length = d.Value;
        }
        if (batched && n.In(0) is { } lens)
        {
            var l = lens.Const?.ToInt64(lens.Elem);
            if (l == null || l.Any(v => v != length))
                throw Error(n, Codes.UnsupportedOp, $"sequence_lens '{lens.Name}' must be constant and equal to the full length {length}");
        }
        var outDirs = batched ? new long[scanOuts] : Attr("scan_output_directions", scanOuts, 0);
        var outAxesAttr = batched ? Enumerable.Repeat(1L, scanOuts).ToArray() : Attr("scan_output_axes", scanOuts, 0);
        var outAxes = new int[scanOuts];
        if (body != null && body.Outputs.Count == states + scanOuts)
            for (int k = 0; k < scanOuts; k++)
                if (body.Outputs[states + k].Type.Shape is { } ss)
                    outAxes[k] = batched ? 1 : Axis(n, outAxesAttr[k], ss.Rank + 1);
        return new Layout(first, states, scanIns, length, inAxes, inDirs.Select(v => v != 0).ToArray(), outAxes, outDirs.Select(v => v != 0).ToArray(), batched);
    }

    private static Shape Without(Shape s, int axis) => new(s.Dims.Where((_, i) => i != axis).ToArray());

    /// <summary>The body takes the states (opset 8: without the batch axis) and one slice of each scan input.</summary>
    public override List<(Graph Body, List<TensorType> Inputs)> BodyInputs(Node n)
    {
        var body = Body(n, "body");
        var p = Plan(n, null);
        var types = new List<TensorType>();
        for (int k = 0; k < p.States; k++)
        {
            var v = Input(n, p.First + k);
            var s = InShape(n, p.First + k);
            if (p.Batched && (s.Rank < 1 || s[0] != Dim.Of(1)))
                throw Error(n, Codes.UnsupportedOp, $"opset-8 Scan is supported with a batch of 1 only; the state '{v.Name}' is {s}");
            types.Add(new TensorType(v.Elem, p.Batched ? Without(s, 0) : s));
        }
        for (int j = 0; j < p.ScanIns; j++)
        {
            var x = Input(n, p.First + p.States + j);
            var s = Without(x.Shape, p.InAxes[j]);
            types.Add(new TensorType(x.Elem, p.Batched ? Without(s, 0) : s));
        }
        return [(body, types)];
    }

    public override void Infer(Node n)
    {
        var body = Body(n, "body");
        var types = BodyInputs(n)[0].Inputs;
        RequireTyped(n, body);
        if (body.Outputs.Count != n.Outputs.Count)
            throw Error(n, Codes.BadGraph, $"the body returns {body.Outputs.Count} values, the node has {n.Outputs.Count} outputs");
        var p = Plan(n, body); // the output axes need the body's output ranks
        for (int k = 0; k < p.States; k++)
        {
            RequireSameType(n, n.Inputs[p.First + k]!, body.Outputs[k], types[k]);
            n.Outputs[k].Type = n.Inputs[p.First + k]!.Type;
        }
        for (int k = 0; k < n.Outputs.Count - p.States; k++)
        {
            var s = body.Outputs[p.States + k];
            var dims = (s.Type.Shape ?? throw Error(n, Codes.UnboundDim, $"the scan value '{s.Name}' has no known shape")).Dims.ToList();
            if (p.Batched) dims.Insert(0, Dim.Of(1));
            dims.Insert(p.OutAxes[k], Dim.Of(p.Length));
            n.Outputs[p.States + k].Type = new TensorType(s.Elem, new Shape(dims.ToArray()));
        }
    }

    public override void Select(Node n)
    {
        var body = Body(n, "body");
        var p = Plan(n, body);
        string carry = PlanCarry(n, body.Inputs.Take(p.States).ToList(), body.Outputs.Take(p.States).ToList());
        n.Kernel = $"for loop over the scan axis (length {p.Length}; carried: {carry})";
    }

    /// <summary>Rows before the axis and bytes per step along it: a slice t is <c>outer</c> chunks of <c>chunk</c> bytes, <c>len·chunk</c> apart.</summary>
    private static (long Outer, long Chunk) Geometry(Value v, int axis)
    {
        var s = v.Shape.ToLongs();
        long outer = 1, inner = 1;
        for (int d = 0; d < axis; d++) outer *= s[d];
        for (int d = axis + 1; d < s.Length; d++) inner *= s[d];
        return (outer, ElementTypes.ByteCount(v.Elem, inner));
    }

    public override void Emit(Node n, EmitContext e)
    {
        var body = Body(n, "body");
        var p = Plan(n, body);
        var ins = body.Inputs.Take(p.States).ToList();
        var outs = body.Outputs.Take(p.States).ToList();
        string t = "t" + n.Id.ToString(CultureInfo.InvariantCulture);
        for (int k = 0; k < p.States; k++)
            e.W.Line($"DataMovement.Copy({e.P(n.Inputs[p.First + k]!)}, {e.P(ins[k])}, {ins[k].Bytes}); // initial '{Name(n.Inputs[p.First + k]!)}' -> '{Name(ins[k])}'");
        e.W.Open($"for (long {t} = 0; {t} < {p.Length}; {t}++)");
        string Pos(bool reverse) => reverse ? $"({p.Length - 1} - {t})" : t;
        for (int j = 0; j < p.ScanIns; j++)
        {
            var x = n.Inputs[p.First + p.States + j]!;
            var slice = body.Inputs[p.States + j];
            var (outer, chunk) = Geometry(x, p.InAxes[j]);
            string at = $"{Pos(p.InReverse[j])} * {chunk}";
            e.W.Line(outer == 1
                ? $"DataMovement.Copy((byte*){e.P(x)} + {at}, {e.P(slice)}, {chunk}); // '{Name(x)}' slice -> '{Name(slice)}'"
                : $"Strided.SplitPart((byte*){e.P(x)}, (byte*){e.P(slice)}, outer: {outer}, chunkBytes: {chunk}, srcRowBytes: {p.Length * chunk}, srcOffsetBytes: {at}); // '{Name(x)}' slice -> '{Name(slice)}'");
        }
        EmitBody(body, "body", e);
        e.W.Line();
        if (n.Outputs.Count > p.States) e.W.Comment("this iteration's scan values, at their position along the output axis");
        for (int k = 0; k < n.Outputs.Count - p.States; k++)
        {
            var s = body.Outputs[p.States + k];
            var y = n.Outputs[p.States + k];
            var (outer, chunk) = Geometry(y, p.OutAxes[k]);
            string at = $"{Pos(p.OutReverse[k])} * {chunk}";
            e.W.Line(outer == 1
                ? $"DataMovement.Copy({e.P(s)}, (byte*){e.P(y)} + {at}, {chunk}); // '{Name(s)}' -> '{Name(y)}'"
                : $"DataMovement.ConcatPart((byte*){e.P(s)}, (byte*){e.P(y)}, outer: {outer}, chunkBytes: {chunk}, dstRowBytes: {p.Length * chunk}, dstOffsetBytes: {at}); // '{Name(s)}' -> '{Name(y)}'");
        }
        EmitCarry(n, e, ins, outs);
        e.W.Close();
        for (int k = 0; k < p.States; k++)
            e.W.Line($"DataMovement.Copy({e.P(ins[k])}, {e.P(n.Outputs[k])}, {ins[k].Bytes}); // final '{Name(ins[k])}' -> '{Name(n.Outputs[k])}'");
    }
}
