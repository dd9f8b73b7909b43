using System.Text;
using Google.Protobuf;
using Llmaot.Tests.TestSupport;
using Microsoft.ML.Tokenizers;

namespace Llmaot.Tests.Compiler.Llm;

/// <summary>
/// The llama2.c-rules tokenizer (SentencePiece-style BPE by piece score, byte fallback) against Microsoft.ML.Tokenizers'
/// LlamaTokenizer given a SentencePiece model proto written here from the same vocabulary and scores (tok512.bin).
/// </summary>
public class SentencePieceOracleTests
{
    /// <summary>
    /// A SentencePiece ModelProto (sentencepiece_model.proto): pieces (piece 1, score 2, type 3), trainer_spec 2 (model_type 3 = BPE,
    /// byte_fallback 35, unk/bos/eos ids 40-42), normalizer_spec 3 (add_dummy_prefix 3, remove_extra_whitespaces 4, escape_whitespaces 5).
    /// Spaces in llama2.c's pieces are SentencePiece's '▁'.
    /// </summary>
    private static byte[] ModelProto(byte[][] pieces, float[] scores)
    {
        static ByteString Message(Action<CodedOutputStream> write)
        {
            var ms = new MemoryStream();
            var s = new CodedOutputStream(ms);
            write(s);
            s.Flush();
            return ByteString.CopyFrom(ms.ToArray());
        }
        var ms = new MemoryStream();
        var o = new CodedOutputStream(ms);
        for (int i = 0; i < pieces.Length; i++)
        {
            string text = i is 1 or 2 ? (i == 1 ? "<s>" : "</s>") : Encoding.UTF8.GetString(pieces[i]).Replace(' ', '\u2581');
            int type = i == 0 ? 2 : i < 3 ? 3 : i < 259 ? 6 : 1; // unknown, control, byte, normal
            o.WriteTag(1, WireFormat.WireType.LengthDelimited);
            o.WriteBytes(Message(p =>
            {
                p.WriteTag(1, WireFormat.WireType.LengthDelimited); p.WriteString(text);
                p.WriteTag(2, WireFormat.WireType.Fixed32); p.WriteFloat(scores[i]);
                p.WriteTag(3, WireFormat.WireType.Varint); p.WriteEnum(type);
            }));
        }
        o.WriteTag(2, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(Message(t =>
        {
            t.WriteTag(3, WireFormat.WireType.Varint); t.WriteEnum(2);
            t.WriteTag(4, WireFormat.WireType.Varint); t.WriteInt32(pieces.Length);
            t.WriteTag(35, WireFormat.WireType.Varint); t.WriteBool(true);
            t.WriteTag(40, WireFormat.WireType.Varint); t.WriteInt32(0);
            t.WriteTag(41, WireFormat.WireType.Varint); t.WriteInt32(1);
            t.WriteTag(42, WireFormat.WireType.Varint); t.WriteInt32(2);
        }));
        o.WriteTag(3, WireFormat.WireType.LengthDelimited);
        o.WriteBytes(Message(n =>
        {
            n.WriteTag(1, WireFormat.WireType.LengthDelimited); n.WriteString("identity");
            n.WriteTag(3, WireFormat.WireType.Varint); n.WriteBool(true);
            n.WriteTag(4, WireFormat.WireType.Varint); n.WriteBool(false);
            n.WriteTag(5, WireFormat.WireType.Varint); n.WriteBool(true);
        }));
        o.Flush();
        return ms.ToArray();
    }

    [Fact]
    public void Llama2c_tokenizer_encodes_like_ml_tokenizers_llama_tokenizer()
    {
        var file = File.ReadAllBytes(SharedData.File("models/llama2c/tok512.bin"));
        var ours = global::Llmaot.Runtime.Llm.Tokenizer.FromLlama2c(file, 512);
        var (pieces, scores) = global::Llmaot.Runtime.Llm.Tokenizer.ReadLlama2c(file, 512);
        var oracle = LlamaTokenizer.Create(new MemoryStream(ModelProto(pieces, scores)), addBeginOfSentence: true, addEndOfSentence: false);
        string[] texts =
        [
            "Once upon a time, there was a little girl named Lily.",
            "Hello world",
            "She said, \"I want to go to the park!\"",
            "  two leading spaces and  double  spaces",
            "trailing ",
            "numbers 12345 and 3.14",
            "line\nbreaks\n\nand\ttabs",
            "Café naïve Schrödinger",      // multi-byte UTF-8: pieces where the vocabulary has them, else byte fallback
            "東京 🎉",
            "a",
            "Lily's mom didn't know what to do.",
        ];
        int byteFallbacks = 0;
        foreach (var text in texts)
        {
            var a = ours.Encode(text, bos: true, eos: false);
            var b = oracle.EncodeToIds(text);
            Assert.True(b.SequenceEqual(a), $"'{text}': ours [{string.Join(",", a)}], ML.Tokenizers [{string.Join(",", b)}]");
            byteFallbacks += a.Count(id => id is >= 3 and < 259);
        }
        Assert.True(byteFallbacks >= 10, $"{byteFallbacks} byte-fallback tokens: the texts should exercise the fallback");
    }
}
