using Llmaot.Ir;
using Llmaot.Runtime;

namespace Llmaot.Llm;

/// <summary>Hyper-parameters of a llama-family decoder.</summary>
public sealed record LlmConfig(
    string Architecture, int Dim, int HiddenDim, int Layers, int Heads, int KvHeads, int Vocab, int ContextLength,
    float RopeTheta, float RmsEps, bool TiedOutput)
{
    public int HeadSize => Dim / Heads;
    public int KvDim => KvHeads * HeadSize;
}

/// <summary>One weight tensor: element type, shape (outermost first: [rows, cols] for a matrix), and its bytes.</summary>
public sealed record LlmTensor(string Name, ElementType Type, long[] Shape, TensorData Data)
{
    public long Count => Shape.Aggregate(1L, (a, b) => a * b);
}

/// <summary>
/// The vocabulary: pieces as UTF-8 bytes, merge scores, special ids, and the tokenizer flavour ("llama": SentencePiece-style
/// merges by score; "gpt2": byte-level BPE with <see cref="Merges"/>, pieces as raw bytes).
/// </summary>
public sealed record LlmVocab(byte[][] Pieces, float[] Scores, int Bos, int Eos, string Kind)
{
    /// <summary>Byte-level BPE merges in rank order: (left id, right id, merged id).</summary>
    public (int Left, int Right, int Merged)[]? Merges { get; init; }

    /// <summary>Byte-level BPE pre-tokenizer: Gpt2, Llama3 or Qwen2 (<see cref="Runtime.Llm.BpePreTokenizer"/>).</summary>
    public string PreTokenizer { get; init; } = "Gpt2";

    /// <summary>Whether a prompt starts with BOS.</summary>
    public bool AddBos { get; init; } = true;
}

/// <summary>
/// A decoder-only language model read from a checkpoint (llama2.c .bin or GGUF): configuration, weights by canonical
/// name (token_embd, blk.{i}.attn_norm, blk.{i}.attn_q, attn_k, attn_v, attn_output, ffn_norm, ffn_gate, ffn_down,
/// ffn_up, output_norm, output), and vocabulary.
/// </summary>
public sealed class LlmModel : IDisposable
{
    public required LlmConfig Config { get; init; }
    public required Dictionary<string, LlmTensor> Tensors { get; init; }
    public LlmVocab? Vocab { get; set; }
    public required string SourceName { get; init; }
    public required string Sha256 { get; init; }
    public List<IDisposable> Owned { get; } = [];

    public LlmTensor Tensor(string name) => Tensors.TryGetValue(name, out var t) ? t
        : throw new Diagnostics.LlmaotException(Diagnostics.Codes.BadGraph, $"{SourceName}: tensor '{name}' is missing");

    public void Dispose()
    {
        foreach (var d in Owned) d.Dispose();
        Owned.Clear();
    }
}
