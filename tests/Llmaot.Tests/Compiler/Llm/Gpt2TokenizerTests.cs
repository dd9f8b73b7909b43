using System.Text;
using System.Text.RegularExpressions;
using Llmaot.Emit;
using Llmaot.Llm;
using Llmaot.Passes;
using Llmaot.Runtime;
using Llmaot.Runtime.Llm;
using Llmaot.Verify;
using Microsoft.ML.Tokenizers;

namespace Llmaot.Tests.Compiler.Llm;

/// <summary>
/// GPT-2 byte-level BPE from a GGUF (tokenizer.ggml.model = gpt2): a vocabulary trained here on a small corpus, written into a
/// synthetic GGUF, compiled, and the generated model's tokenizer compared with Microsoft.ML.Tokenizers' CodeGen (GPT-2 style
/// byte-level BPE) tokenizer built from the same vocab.json and merges.txt.
/// </summary>
public class Gpt2TokenizerTests
{
    // The pre-tokenizer patterns (GPT-2, Llama 3, Qwen2 as llama.cpp and Hugging Face publish them), for the oracle side only:
    // the runtime scans without Regex.
    private static readonly Regex Gpt2Pattern = new(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);
    private static readonly Regex Llama3Pattern = new(@"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);
    private static readonly Regex Qwen2Pattern = new(@"(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+", RegexOptions.CultureInvariant);

    private static Regex Pattern(BpePreTokenizer pre) => pre switch { BpePreTokenizer.Llama3 => Llama3Pattern, BpePreTokenizer.Qwen2 => Qwen2Pattern, _ => Gpt2Pattern };

    private const string Corpus = """
        Once upon a time, there was a little girl named Lily. She loved to play outside in the sunshine.
        "I can't go," she said. "We're late, and they'll wait; I'd rather stay!" He's sure you've seen it: 42 cats, 3.14 pies.
        The quick brown fox jumps over the lazy dog... again and again -- 1999, 2024, 100000 times?!
        Café, naïve, Schrödinger, façade; 東京 and 日本語 text; emoji 🎉🎉 and ✓ marks.
            indented code:	tabs	and   runs   of   spaces
        return x + y; // comment (with [brackets] and {braces})
        """;

    private static readonly string[] Texts =
    [
        "Hello world",
        "Once upon a time, there was a little girl named Lily.",
        "  two leading spaces",
        "trailing spaces   ",
        "tabs\tand\nnewlines\n\n  indented",
        "it's we're they'll I'd you've he'm 'quoted' IT'S WE'RE",
        "numbers 12345 and 3.14159 and 007",
        "punctuation!!! ...?? (a,b) [c] {d} -- ''",
        "Café naïve Schrödinger façade",
        "東京 日本語のテキスト",
        "emoji 🎉🎉 ok ✓",
        "mixed   \n  spaces\t \t x",
        "a",
        " ",
        "",
        "The quick brown fox jumps over the lazy dog.",
        "unseenwordsxyz qqq zzzz",
        "return x + y; // comment",
        "line one\r\n\r\n  line two\n\tindented\n",
        "\"quoted\" (paren) -dash 12345678 x1y22z333",
    ];

    /// <summary>A byte-level BPE trained on the corpus until the vocabulary has size - 1 tokens, then the end-of-text token.</summary>
    private static (string[] Tokens, string[] Merges) Train(int size, Regex pattern)
    {
        var map = GgufReader.ByteToUnicode();
        var tokens = Enumerable.Range(0, 256).Select(b => map[b].ToString()).ToList();
        var known = new HashSet<string>(tokens, StringComparer.Ordinal);
        var words = pattern.Matches(Corpus).GroupBy(m => m.Value)
            .Select(g => (Parts: Encoding.UTF8.GetBytes(g.Key).Select(b => map[b].ToString()).ToList(), Count: g.Count())).ToList();
        var merges = new List<string>();
        while (tokens.Count < size - 1)
        {
            var pairs = new Dictionary<(string, string), int>();
            foreach (var (parts, count) in words)
                for (int i = 0; i + 1 < parts.Count; i++)
                    pairs[(parts[i], parts[i + 1])] = pairs.GetValueOrDefault((parts[i], parts[i + 1])) + count;
            if (pairs.Count == 0)
            {
                // the corpus is fully merged (Qwen2 splits digits singly): fill the vocabulary with unreachable tokens
                tokens.Add($"<|unused_{tokens.Count}|>");
                continue;
            }
            var best = pairs.OrderByDescending(p => p.Value).ThenBy(p => p.Key.Item1 + " " + p.Key.Item2, StringComparer.Ordinal).First().Key;
            merges.Add(best.Item1 + " " + best.Item2);
            if (known.Add(best.Item1 + best.Item2)) tokens.Add(best.Item1 + best.Item2);
            foreach (var (parts, _) in words)
                for (int i = 0; i + 1 < parts.Count; i++)
                    if (parts[i] == best.Item1 && parts[i + 1] == best.Item2)
                    {
                        parts[i] += parts[i + 1];
                        parts.RemoveAt(i + 1);
                    }
        }
        tokens.Add("<|endoftext|>");
        return (tokens.ToArray(), merges.ToArray());
    }

    /// <summary>ML.Tokenizers' BPE in byte-level mode with GPT-2's pre-tokenizer pattern.</summary>
    private static Microsoft.ML.Tokenizers.Tokenizer Oracle(string[] tokens, string[] merges, Regex pattern)
    {
        var vocab = tokens.Select((t, i) => new KeyValuePair<string, int>(t, i)).ToList();
        return BpeTokenizer.Create(new BpeOptions(vocab) { Merges = merges, ByteLevel = true, PreTokenizer = new RegexPreTokenizer(pattern, null) });
    }

    /// <summary>
    /// ML.Tokenizers' CodeGen tokenizer (GPT-2 byte-level BPE with its own built-in pre-tokenizer) from vocab.json and merges.txt.
    /// CodeGen adds tokens for runs of spaces and tabs, so it is only asked about texts without such runs.
    /// </summary>
    private static Microsoft.ML.Tokenizers.Tokenizer CodeGen(string[] tokens, string[] merges)
    {
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < tokens.Length; i++) vocab[tokens[i]] = i;
        var vocabJson = new MemoryStream(System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(vocab));
        var mergesTxt = new MemoryStream(Encoding.UTF8.GetBytes("#version: 0.2\n" + string.Join("\n", merges) + "\n"));
        return CodeGenTokenizer.Create(vocabJson, mergesTxt, addPrefixSpace: false, addBeginOfSentence: false, addEndOfSentence: false);
    }

    [Theory]
    [InlineData(BpePreTokenizer.Gpt2)]
    [InlineData(BpePreTokenizer.Llama3)]
    [InlineData(BpePreTokenizer.Qwen2)]
    public void Pre_tokenizer_scanner_splits_like_the_published_regex(BpePreTokenizer pre)
    {
        var texts = new List<string>(Texts) { Corpus };
        // random strings over an alphabet of the tricky classes: letters, digits, apostrophes, spaces, tabs, newlines, symbols
        const string alphabet = "ab Zé1٣'' \t\n\r!?.,-東🎉\u00A0\u2028sdtmlrevxSDTMLREV\"(";
        var rng = new Random(17);
        for (int i = 0; i < 400; i++)
            texts.Add(new string(Enumerable.Range(0, rng.Next(1, 24)).Select(_ => alphabet[rng.Next(alphabet.Length)]).ToArray()));
        foreach (var text in texts)
        {
            var ours = new List<string>();
            for (int i = 0; i < text.Length;)
            {
                int len = global::Llmaot.Runtime.Llm.Tokenizer.PreTokenLength(text, i, pre);
                Assert.InRange(len, 1, text.Length - i);
                ours.Add(text.Substring(i, len));
                i += len;
            }
            Assert.Equal(Pattern(pre).Matches(text).Select(m => m.Value).ToList(), ours);
        }
    }

    [Theory]
    [InlineData(null, BpePreTokenizer.Gpt2)]
    [InlineData("llama-bpe", BpePreTokenizer.Llama3)]
    [InlineData("qwen2", BpePreTokenizer.Qwen2)]
    public void Gguf_gpt2_vocabulary_encodes_like_ml_tokenizers_and_decodes_back_to_the_bytes(string? ggufPre, BpePreTokenizer pre)
    {
        var (tokens, merges) = Train(512, Pattern(pre));
        Assert.Equal(512, tokens.Length);
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-bpe-{Guid.NewGuid():N}.gguf");
        try
        {
            GgufSynth.Write(path, new SynthShape("bpe", 64, 1, 4, 2, 128, 512), ElementType.Float, seed: 3, context: 64, byteLevel: (tokens, merges), bpePre: ggufPre);
            using (var m = GgufReader.ReadLlama(path))
            {
                Assert.Equal("gpt2", m.Vocab!.Kind);
                Assert.Equal(merges.Length, m.Vocab.Merges!.Length);
                Assert.Equal(" "u8.ToArray(), m.Vocab.Pieces[' ']); // 'Ġ' is byte 0x20
                Assert.Equal(511, m.Vocab.Eos);
            }
            var g = global::Llmaot.Compiler.Compile(path, new CompileOptions(), new EmitOptions { ClassName = "Lm", Name = "lm" });
            using var loaded = InMemoryCompiler.Compile([g]);
            Assert.Empty(loaded.Warnings);
            using var lm = (ILlmModel)Activator.CreateInstance(loaded.Assembly.GetType("Llmaot.Generated.Lm")!)!;
            var tok = lm.Tokenizer;
            Assert.True(tok.ByteLevel);
            Assert.Equal(pre, tok.PreTokenizer);
            var oracle = Oracle(tokens, merges, Pattern(pre));
            var codeGen = CodeGen(tokens, merges);
            int merged = 0, codeGenTexts = 0;
            foreach (var text in Texts)
            {
                var ours = tok.Encode(text, bos: false, eos: false);
                var theirs = oracle.EncodeToIds(text);
                Assert.True(theirs.SequenceEqual(ours), $"'{text}': ours [{string.Join(",", ours)}], ML.Tokenizers [{string.Join(",", theirs)}]");
                merged += ours.Count(id => id >= 256);
                if (pre == BpePreTokenizer.Gpt2 && !text.Contains("  ") && !text.Contains("\t\t"))
                {
                    var cg = codeGen.EncodeToIds(text);
                    Assert.True(cg.SequenceEqual(ours), $"'{text}': ours [{string.Join(",", ours)}], CodeGen [{string.Join(",", cg)}]");
                    codeGenTexts++;
                }
                var bytes = new List<byte>();
                int prev = tok.Bos;
                foreach (var id in ours) { bytes.AddRange(tok.Decode(prev, id).ToArray()); prev = id; }
                Assert.Equal(Encoding.UTF8.GetBytes(text), bytes.ToArray());
            }
            Assert.True(pre != BpePreTokenizer.Gpt2 || codeGenTexts >= 12, $"CodeGen compared on {codeGenTexts} texts");
            Assert.True(merged > 20, $"only {merged} merged tokens: the texts hardly exercise the merges");
            // No BOS unless the GGUF asks for it (tokenizer.ggml.add_bos_token); the model still generates.
            Assert.Equal(oracle.EncodeToIds("Hello"), tok.Encode("Hello", bos: true, eos: false));
            using var ms = new MemoryStream();
            int pos = 0, last = tok.Bos;
            LlmHost.Generate(lm, "Hello world", 5, new SamplerOptions(Temperature: 0), ms, ref pos, ref last, System.Diagnostics.Stopwatch.GetTimestamp());
            Assert.True(pos >= oracle.EncodeToIds("Hello world").Count);
        }
        finally
        {
            File.Delete(path);
        }
    }
}
