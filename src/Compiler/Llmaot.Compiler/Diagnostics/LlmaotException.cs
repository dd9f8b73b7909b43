namespace Llmaot.Diagnostics;

/// <summary>
/// A compile error the user can act on. <see cref="Message"/> is one line:
/// <c>LLMAOT####: [node 'name' (Op, opset N):] what is wrong; what to do</c>.
/// </summary>
public sealed class LlmaotException : Exception
{
    /// <summary>The stable code, e.g. <c>LLMAOT0101</c>.</summary>
    public string Code { get; }

    /// <summary>The node the error is about, if any.</summary>
    public string? NodeName { get; }

    public LlmaotException(string code, string message, Exception? inner = null) : base($"{code}: {message}", inner)
    {
        Code = code;
    }

    public LlmaotException(string code, Ir.Node node, string message) : base($"{code}: node '{node.Name}' ({node.OpLabel}): {message}")
    {
        Code = code;
        NodeName = node.Name;
    }
}

/// <summary>The catalogue of error codes. Codes never change meaning once released.</summary>
public static class Codes
{
    // 00xx: input files
    /// <summary>The model file does not exist or cannot be read.</summary>
    public const string FileNotFound = "LLMAOT0001";
    /// <summary>The file is not a valid ONNX protobuf (truncated, random bytes, wrong format).</summary>
    public const string MalformedModel = "LLMAOT0002";
    /// <summary>The model's IR version or opset is outside what llmaot reads.</summary>
    public const string UnsupportedVersion = "LLMAOT0003";
    /// <summary>External data is missing or out of range.</summary>
    public const string ExternalData = "LLMAOT0004";
    /// <summary>An input tensor file cannot be read.</summary>
    public const string BadTensorFile = "LLMAOT0005";

    // 01xx: graph structure
    /// <summary>A node uses an op (domain, opset) that llmaot does not implement.</summary>
    public const string UnsupportedOp = "LLMAOT0101";
    /// <summary>An attribute is missing, of the wrong kind or has a value llmaot does not support.</summary>
    public const string BadAttribute = "LLMAOT0102";
    /// <summary>A node references a value nobody produces, or the graph has a cycle.</summary>
    public const string BadGraph = "LLMAOT0103";
    /// <summary>A data type is not supported for this op.</summary>
    public const string UnsupportedType = "LLMAOT0104";

    // 02xx: shapes
    /// <summary>Input shapes are incompatible with the op.</summary>
    public const string ShapeMismatch = "LLMAOT0201";
    /// <summary>A dimension is still symbolic where a number is needed.</summary>
    public const string UnboundDim = "LLMAOT0202";
    /// <summary>A --dim/--shape option is malformed or names nothing.</summary>
    public const string BadBinding = "LLMAOT0203";
    /// <summary>A shape depends on data only known at run time.</summary>
    public const string DataDependentShape = "LLMAOT0204";

    // 03xx: build
    /// <summary>dotnet publish failed.</summary>
    public const string BuildFailed = "LLMAOT0301";
    /// <summary>Bad command-line option value.</summary>
    public const string BadOption = "LLMAOT0302";
    /// <summary>The generated C# did not compile (a compiler bug: please report).</summary>
    public const string GeneratedCodeInvalid = "LLMAOT0303";

    // 04xx: verification
    /// <summary>Outputs differ from ONNX Runtime beyond tolerance.</summary>
    public const string VerifyMismatch = "LLMAOT0401";
    /// <summary>ONNX Runtime could not run the model.</summary>
    public const string OracleFailed = "LLMAOT0402";

    /// <summary>An internal error: a bug in llmaot.</summary>
    public const string Internal = "LLMAOT0999";
}
