using Llmaot.Diagnostics;
using Llmaot.Passes;

namespace Llmaot.Llm;

/// <summary>Recognizes language-model checkpoints (GGUF by its magic, llama2.c .bin given with a tokenizer) and loads them.</summary>
public static class LlmFrontend
{
    public static bool IsGguf(string path)
    {
        if (!File.Exists(path)) return false;
        using var f = File.OpenRead(path);
        Span<byte> magic = stackalloc byte[4];
        return f.Read(magic) == 4 && magic.SequenceEqual("GGUF"u8);
    }

    public static bool IsLanguageModel(string path, CompileOptions o) =>
        IsGguf(path) || o.Tokenizer != null && !path.EndsWith(".onnx", StringComparison.OrdinalIgnoreCase);

    public static LlmModel Load(string path, CompileOptions o)
    {
        if (!File.Exists(path)) throw new LlmaotException(Codes.FileNotFound, $"model file '{path}' not found; check the path");
        if (IsGguf(path))
        {
            var m = GgufReader.ReadLlama(path);
            if (o.Tokenizer != null) m.Vocab = Llama2cReader.ReadTokenizer(o.Tokenizer, m.Config.Vocab);
            return m;
        }
        return Llama2cReader.Read(path, o.Tokenizer);
    }
}
