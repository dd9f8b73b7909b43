using System.Runtime.InteropServices;
using Llmaot.Emit;
using Llmaot.Runtime;
using Llmaot.Runtime.IO;

namespace Llmaot.Verify;

/// <summary>The comparison of one output.</summary>
public sealed record OutputComparison(string Name, long Count, double MaxAbs, double MaxRel, bool Pass, string? Problem = null);

/// <summary>Runs generated code and ONNX Runtime on the same inputs and compares every output.</summary>
public static unsafe class Verifier
{
    /// <summary>Seeded inputs matching the model's declared inputs (the same values the generated host's --bench uses).</summary>
    public static Dictionary<string, HostTensor> RandomInputs(ModelInfo info, ulong seed)
    {
        var rng = new SplitMix(seed);
        var d = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
        foreach (var ti in info.Inputs)
        {
            var bytes = new byte[ti.Bytes];
            fixed (byte* p = bytes) Host.FillRandom(ti, p, ref rng);
            d[ti.Name] = new HostTensor(ti.Type, Array.ConvertAll(ti.Shape, x => (long)x), bytes);
        }
        return d;
    }

    /// <summary>Runs a generated model once on named inputs; returns the outputs by name.</summary>
    public static Dictionary<string, HostTensor> Run(IGeneratedModel model, IReadOnlyDictionary<string, HostTensor> inputs)
    {
        var info = model.Info;
        var handles = new List<GCHandle>();
        try
        {
            var ins = new void*[info.Inputs.Length];
            for (int i = 0; i < ins.Length; i++)
            {
                var ti = info.Inputs[i];
                if (!inputs.TryGetValue(ti.Name, out var t)) throw new ArgumentException($"missing input '{ti.Name}'");
                if (t.Type != ti.Type || t.Data.LongLength != ti.Bytes)
                    throw new ArgumentException($"input '{ti.Name}' is {ElementTypes.Name(t.Type)}[{string.Join(",", t.Shape)}], the model takes {ElementTypes.Name(ti.Type)}[{string.Join(",", ti.Shape)}]");
                var h = GCHandle.Alloc(t.Data, GCHandleType.Pinned);
                handles.Add(h);
                ins[i] = (void*)h.AddrOfPinnedObject();
            }
            var results = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
            var outs = new void*[info.Outputs.Length];
            var outArrays = new byte[info.Outputs.Length][];
            for (int i = 0; i < outs.Length; i++)
            {
                outArrays[i] = new byte[Math.Max(1, info.Outputs[i].Bytes)];
                var h = GCHandle.Alloc(outArrays[i], GCHandleType.Pinned);
                handles.Add(h);
                outs[i] = (void*)h.AddrOfPinnedObject();
            }
            fixed (void** pi = ins)
            fixed (void** po = outs)
                model.Run(pi, po);
            for (int i = 0; i < outs.Length; i++)
            {
                var to = info.Outputs[i];
                results.TryAdd(to.Name, new HostTensor(to.Type, Array.ConvertAll(to.Shape, x => (long)x), outArrays[i].AsSpan(0, (int)to.Bytes).ToArray()));
            }
            return results;
        }
        finally
        {
            foreach (var h in handles) h.Free();
        }
    }

    /// <summary>
    /// Compares an actual output with the expected one: floats pass when |a - e| &lt;= atol + rtol * |e| everywhere
    /// (NaN must match NaN), integers and bools must be equal.
    /// </summary>
    public static OutputComparison Compare(string name, HostTensor actual, HostTensor expected, double atol, double rtol)
    {
        if (actual.Type != expected.Type) return new(name, 0, double.NaN, double.NaN, false, $"type {actual.Type} vs expected {expected.Type}");
        if (!actual.Shape.SequenceEqual(expected.Shape))
        {
            // Scalars and [1] are sometimes interchangeable in ONNX Runtime's output; require equal counts at least.
            if (actual.Count != expected.Count || actual.Count != 1)
                return new(name, 0, double.NaN, double.NaN, false, $"shape [{string.Join(",", actual.Shape)}] vs expected [{string.Join(",", expected.Shape)}]");
        }
        var a = ToDoubles(actual);
        var e = ToDoubles(expected);
        double maxAbs = 0, maxRel = 0;
        bool pass = true;
        bool exact = !(actual.Type is ElementType.Float or ElementType.Double or ElementType.Float16 or ElementType.BFloat16) || Float8.Is(actual.Type);
        for (long i = 0; i < a.Length; i++)
        {
            double x = a[i], y = e[i];
            if (double.IsNaN(x) || double.IsNaN(y))
            {
                if (double.IsNaN(x) != double.IsNaN(y)) { pass = false; maxAbs = double.PositiveInfinity; }
                continue;
            }
            if (double.IsInfinity(x) || double.IsInfinity(y))
            {
                if (x != y) { pass = false; maxAbs = double.PositiveInfinity; }
                continue;
            }
            double d = Math.Abs(x - y);
            maxAbs = Math.Max(maxAbs, d);
            if (y != 0) maxRel = Math.Max(maxRel, d / Math.Abs(y));
            if (exact ? d != 0 : d > atol + rtol * Math.Abs(y)) pass = false;
        }
        return new(name, a.Length, maxAbs, maxRel, pass);
    }

    /// <summary>Sub-byte integers, packed low bits first.</summary>
    private static double[] Unpack(HostTensor t)
    {
        int bits = t.Type is ElementType.Int4 or ElementType.UInt4 ? 4 : 2;
        bool signed = t.Type is ElementType.Int4 or ElementType.Int2;
        var r = new double[t.Count];
        for (long i = 0; i < r.Length; i++)
        {
            int per = 8 / bits;
            int v = (t.Data[i / per] >> (int)(i % per * bits)) & ((1 << bits) - 1);
            if (signed && v >= 1 << (bits - 1)) v -= 1 << bits;
            r[i] = v;
        }
        return r;
    }

    public static double[] ToDoubles(HostTensor t)
    {
        var b = t.Data.AsSpan();
        return t.Type switch
        {
            ElementType.Float => Array.ConvertAll(MemoryMarshal.Cast<byte, float>(b).ToArray(), x => (double)x),
            ElementType.Double => MemoryMarshal.Cast<byte, double>(b).ToArray(),
            ElementType.Float16 => Array.ConvertAll(MemoryMarshal.Cast<byte, Half>(b).ToArray(), x => (double)x),
            ElementType.BFloat16 => Array.ConvertAll(MemoryMarshal.Cast<byte, BFloat16>(b).ToArray(), x => (double)(float)x),
            ElementType.Int8 => Array.ConvertAll(MemoryMarshal.Cast<byte, sbyte>(b).ToArray(), x => (double)x),
            ElementType.UInt8 or ElementType.Bool => Array.ConvertAll(b.ToArray(), x => (double)x),
            ElementType.Int16 => Array.ConvertAll(MemoryMarshal.Cast<byte, short>(b).ToArray(), x => (double)x),
            ElementType.UInt16 => Array.ConvertAll(MemoryMarshal.Cast<byte, ushort>(b).ToArray(), x => (double)x),
            ElementType.Int32 => Array.ConvertAll(MemoryMarshal.Cast<byte, int>(b).ToArray(), x => (double)x),
            ElementType.UInt32 => Array.ConvertAll(MemoryMarshal.Cast<byte, uint>(b).ToArray(), x => (double)x),
            ElementType.Int64 => Array.ConvertAll(MemoryMarshal.Cast<byte, long>(b).ToArray(), x => (double)x),
            ElementType.UInt64 => Array.ConvertAll(MemoryMarshal.Cast<byte, ulong>(b).ToArray(), x => (double)x),
            ElementType.Int4 or ElementType.UInt4 or ElementType.Int2 or ElementType.UInt2 => Unpack(t),
            ElementType.Float4E2M1 => Enumerable.Range(0, (int)t.Count).Select(i => Float4.Decode(t.Data[i / 2] >> (i % 2 * 4))).ToArray(),
            _ when Float8.Is(t.Type) => Array.ConvertAll(b.ToArray(), x => Float8.Decode(x, t.Type)),
            _ => throw new NotSupportedException($"compare {t.Type}"),
        };
    }
}
