using Llmaot.Diagnostics;
using Llmaot.Emit;
using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Ops;

/// <summary>
/// TfIdfVectorizer (opset 9), integer tokens: counts the n-grams of pool_int64s (grouped by length from the offsets in
/// ngram_counts) in each row of X [N] or [B, N], for n in [min_gram_length, max_gram_length] with up to max_skip_count
/// tokens skipped between items; the k-th pool n-gram counts into output ngram_indexes[k]. mode TF gives the counts,
/// IDF min(count, 1)·weight, TFIDF count·weight. Y: float [max(ngram_indexes) + 1] or [B, that].
/// </summary>
public sealed class TfIdfVectorizerOp : OpDef
{
    public override string Op => "TfIdfVectorizer";
    public override int SinceVersion => 9;

    private static int Mode(Node n) => n.Str("mode", "TF") switch
    {
        "TF" => 0,
        "IDF" => 1,
        "TFIDF" => 2,
        var m => throw Error(n, Codes.BadAttribute, $"unknown mode '{m}'"),
    };

    public override void Infer(Node n)
    {
        var x = Input(n, 0);
        if (x.Elem is not (ElementType.Int32 or ElementType.Int64))
            throw Error(n, Codes.UnsupportedType, $"TfIdfVectorizer supports int32 and int64 tokens, not {ElementTypes.Name(x.Elem)}");
        if (n.Ints("pool_int64s") is not { Length: > 0 }) throw Error(n, Codes.BadAttribute, "pool_int64s is required (string pools are out of scope)");
        var idx = n.Ints("ngram_indexes") ?? throw Error(n, Codes.BadAttribute, "ngram_indexes is required");
        if (n.Ints("ngram_counts") is not { Length: > 0 }) throw Error(n, Codes.BadAttribute, "ngram_counts is required");
        Mode(n);
        var xs = ShapeHelpers.StaticShape(n, 0);
        long outSize = idx.Length == 0 ? 0 : idx.Max() + 1;
        if (xs.Length is not (1 or 2)) throw Error(n, Codes.ShapeMismatch, "X must be 1-D or 2-D");
        long[] y = xs.Length == 1 ? [outSize] : [xs[0], outSize];
        Set(n, 0, ElementType.Float, new Shape(y));
    }

    public override void Select(Node n) => n.Kernel = "TfIdf.Run[" + n.Str("mode", "TF") + "]";

    public override void Emit(Node n, EmitContext e)
    {
        var xs = n.Inputs[0]!.Shape.ToLongs();
        var ys = n.Outputs[0].Shape.ToLongs();
        var w = n.Attrs.TryGetValue("weights", out var wa) ? wa.Floats : [];
        e.W.Line($"TfIdf.Run({e.P(n.Inputs[0]!)}, {e.P(n.Outputs[0])}, batch: {(xs.Length == 2 ? xs[0] : 1)}, len: {xs[^1]}, minN: {n.Int("min_gram_length", 1)}, maxN: {n.Int("max_gram_length", 1)}, maxSkip: {n.Int("max_skip_count", 0)},");
        e.W.Line($"    pool: {EmitContext.Ints(n.Ints("pool_int64s")!)}, starts: {EmitContext.Ints(n.Ints("ngram_counts")!)},");
        e.W.Line($"    indexes: {EmitContext.Ints(n.Ints("ngram_indexes")!)}, weights: [{string.Join(", ", w.Select(Lit.F))}], mode: {Mode(n)}, outSize: {ys[^1]});");
    }
}
