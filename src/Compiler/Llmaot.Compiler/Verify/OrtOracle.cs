using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Microsoft.ML.OnnxRuntime;
using Microsoft.ML.OnnxRuntime.Tensors;

namespace Llmaot.Verify;

/// <summary>Runs a model in ONNX Runtime (single-threaded, CPU) on <see cref="HostTensor"/> inputs: the numerical oracle.</summary>
public sealed class OrtOracle : IDisposable
{
    private readonly InferenceSession _session;

    public OrtOracle(string modelPath, int threads = 1)
    {
        var so = new SessionOptions { IntraOpNumThreads = threads, InterOpNumThreads = 1, ExecutionMode = ExecutionMode.ORT_SEQUENTIAL };
        _session = new InferenceSession(modelPath, so);
    }

    public InferenceSession Session => _session;

    /// <summary>Runs with named inputs; returns every requested output (all graph outputs by default).</summary>
    public Dictionary<string, HostTensor> Run(IReadOnlyDictionary<string, HostTensor> inputs, IEnumerable<string>? outputNames = null)
    {
        var names = inputs.Keys.ToList();
        var values = names.Select(n => ToOrt(inputs[n])).ToList();
        var outs = (outputNames ?? _session.OutputMetadata.Keys).ToList();
        try
        {
            using var ro = new RunOptions();
            using var results = _session.Run(ro, names, values, outs);
            var d = new Dictionary<string, HostTensor>(StringComparer.Ordinal);
            for (int i = 0; i < outs.Count; i++) d[outs[i]] = FromOrt(results[i]);
            return d;
        }
        finally
        {
            foreach (var v in values) v.Dispose();
        }
    }

    public static OrtValue ToOrt(HostTensor t)
    {
        var type = t.Type switch
        {
            ElementType.Float => TensorElementType.Float, ElementType.Double => TensorElementType.Double,
            ElementType.Float16 => TensorElementType.Float16, ElementType.BFloat16 => TensorElementType.BFloat16,
            ElementType.Int8 => TensorElementType.Int8, ElementType.UInt8 => TensorElementType.UInt8,
            ElementType.Int16 => TensorElementType.Int16, ElementType.UInt16 => TensorElementType.UInt16,
            ElementType.Int32 => TensorElementType.Int32, ElementType.UInt32 => TensorElementType.UInt32,
            ElementType.Int64 => TensorElementType.Int64, ElementType.UInt64 => TensorElementType.UInt64,
            ElementType.Bool => TensorElementType.Bool,
            _ => throw new NotSupportedException($"ONNX Runtime input of type {t.Type}"),
        };
        var v = OrtValue.CreateAllocatedTensorValue(OrtAllocator.DefaultInstance, type, t.Shape);
        t.Data.AsSpan().CopyTo(v.GetTensorMutableRawData());
        return v;
    }

    public static HostTensor FromOrt(OrtValue v)
    {
        var info = v.GetTensorTypeAndShape();
        var type = info.ElementDataType switch
        {
            TensorElementType.Float => ElementType.Float, TensorElementType.Double => ElementType.Double,
            TensorElementType.Float16 => ElementType.Float16, TensorElementType.BFloat16 => ElementType.BFloat16,
            TensorElementType.Int8 => ElementType.Int8, TensorElementType.UInt8 => ElementType.UInt8,
            TensorElementType.Int16 => ElementType.Int16, TensorElementType.UInt16 => ElementType.UInt16,
            TensorElementType.Int32 => ElementType.Int32, TensorElementType.UInt32 => ElementType.UInt32,
            TensorElementType.Int64 => ElementType.Int64, TensorElementType.UInt64 => ElementType.UInt64,
            TensorElementType.Bool => ElementType.Bool,
            var x => throw new NotSupportedException($"ONNX Runtime output of type {x}"),
        };
        return new HostTensor(type, info.Shape, v.GetTensorDataAsSpan<byte>().ToArray());
    }

    public void Dispose() => _session.Dispose();
}
