using System.Text;

namespace Llmaot.Runtime.Llm;

/// <summary>How a byte-level BPE splits text before merging (GGUF tokenizer.ggml.pre).</summary>
public enum BpePreTokenizer
{
    /// <summary>GPT-2: <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>.</summary>
    Gpt2,
    /// <summary>
    /// Llama 3: <c>(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+</c>
    /// (contractions ASCII case-insensitive).
    /// </summary>
    Llama3,
    /// <summary>Qwen2: as <see cref="Llama3"/> with single digits (<c>\p{N}</c>).</summary>
    Qwen2,
}

/// <summary>
/// SentencePiece-style BPE with byte fallback, following llama2.c's rules exactly: encoding starts from single UTF-8
/// characters (unknown ones fall back to byte tokens &lt;0xXX&gt; at id byte+3), then repeatedly merges the adjacent
/// pair whose concatenation is a vocabulary piece with the highest score. Decoding strips the leading space of the
/// first piece after BOS and turns &lt;0xXX&gt; pieces into raw bytes.
/// Built once at start-up from the vocabulary embedded in the model; encoding allocates, the decode loop does not.
/// A byte-level BPE vocabulary (GPT-2 style, <see cref="FromGpt2"/>) encodes instead by splitting the text with GPT-2's
/// pre-tokenizer, starting each piece from its UTF-8 bytes and merging the adjacent pair of lowest merge rank.
/// </summary>
public sealed class Tokenizer
{
    private readonly byte[][] _pieces;
    private readonly float[] _scores;
    private readonly Dictionary<string, int> _lookup;
    private readonly byte[][] _bytePieces;
    // byte-level BPE: (left id, right id) -> merge index (its rank); merge index -> the merged id; the id of each byte
    private Dictionary<long, int>? _mergeRank;
    private int[]? _mergeResult;
    private int[]? _byteIds;

    /// <summary>Whether <see cref="Encode"/> puts BOS first when asked to (false for vocabularies whose models start without it).</summary>
    public bool AddBos { get; private init; } = true;

    /// <summary>The pre-tokenizer of a byte-level BPE vocabulary.</summary>
    public BpePreTokenizer PreTokenizer { get; private init; }

    /// <summary>True for a byte-level BPE (GPT-2 style) vocabulary.</summary>
    public bool ByteLevel => _mergeRank != null;

    /// <summary>Beginning-of-sequence id.</summary>
    public int Bos { get; }
    /// <summary>End-of-sequence id.</summary>
    public int Eos { get; }
    /// <summary>Vocabulary size.</summary>
    public int VocabSize => _pieces.Length;

    /// <summary>A tokenizer over pieces (UTF-8 bytes) with merge scores.</summary>
    public Tokenizer(byte[][] pieces, float[] scores, int bos = 1, int eos = 2)
    {
        _pieces = pieces;
        _scores = scores;
        Bos = bos;
        Eos = eos;
        _lookup = new Dictionary<string, int>(pieces.Length, StringComparer.Ordinal);
        for (int i = 0; i < pieces.Length; i++) _lookup.TryAdd(Latin1(pieces[i]), i);
        _bytePieces = new byte[256][];
        for (int b = 0; b < 256; b++) _bytePieces[b] = [(byte)b];
    }

    /// <summary>Reads llama2.c's tokenizer.bin: max_token_length, then per token (score float, length int, bytes).</summary>
    public static Tokenizer FromLlama2c(ReadOnlySpan<byte> file, int vocabSize)
    {
        var (pieces, scores) = ReadLlama2c(file, vocabSize);
        return new Tokenizer(pieces, scores);
    }

    /// <summary>The pieces and scores of a llama2.c tokenizer.bin.</summary>
    public static (byte[][] Pieces, float[] Scores) ReadLlama2c(ReadOnlySpan<byte> file, int vocabSize)
    {
        int p = 4;
        var pieces = new byte[vocabSize][];
        var scores = new float[vocabSize];
        for (int i = 0; i < vocabSize; i++)
        {
            if (p + 8 > file.Length) throw new InvalidDataException("LLMAOT0002: tokenizer file is truncated");
            scores[i] = BitConverter.ToSingle(file.Slice(p, 4));
            int len = BitConverter.ToInt32(file.Slice(p + 4, 4));
            p += 8;
            if (len < 0 || p + len > file.Length) throw new InvalidDataException("LLMAOT0002: tokenizer file is truncated");
            pieces[i] = file.Slice(p, len).ToArray();
            p += len;
        }
        return (pieces, scores);
    }

    /// <summary>
    /// A byte-level BPE tokenizer: the vocabulary in llama2.c's layout (pieces as raw bytes, scores unused) and the merges as
    /// int32 count, then (left id, right id, merged id) per merge in rank order.
    /// </summary>
    public static Tokenizer FromGpt2(ReadOnlySpan<byte> vocab, ReadOnlySpan<byte> merges, int vocabSize, int bos, int eos, bool addBos, BpePreTokenizer pre = BpePreTokenizer.Gpt2)
    {
        var (pieces, scores) = ReadLlama2c(vocab, vocabSize);
        var t = new Tokenizer(pieces, scores, bos, eos) { AddBos = addBos, PreTokenizer = pre };
        int count = BitConverter.ToInt32(merges);
        if (count < 0 || merges.Length < 4 + 12L * count) throw new InvalidDataException("LLMAOT0002: merges are truncated");
        t._mergeRank = new Dictionary<long, int>(count);
        t._mergeResult = new int[count];
        for (int i = 0; i < count; i++)
        {
            var m = merges.Slice(4 + 12 * i, 12);
            int a = BitConverter.ToInt32(m), b = BitConverter.ToInt32(m[4..]), r = BitConverter.ToInt32(m[8..]);
            if ((uint)a >= vocabSize || (uint)b >= vocabSize || (uint)r >= vocabSize) throw new InvalidDataException("LLMAOT0002: a merge names a token outside the vocabulary");
            t._mergeRank.TryAdd(Pair(a, b), i);
            t._mergeResult[i] = r;
        }
        t._byteIds = new int[256];
        for (int b = 0; b < 256; b++)
            t._byteIds[b] = t._lookup.TryGetValue(Latin1([(byte)b]), out int id) ? id
                : throw new InvalidDataException($"LLMAOT0002: the byte-level vocabulary has no token for byte 0x{b:X2}");
        return t;
    }

    private static long Pair(int a, int b) => (long)a << 32 | (uint)b;

    /// <summary>
    /// GPT-2's pre-tokenizer, <c>'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+</c>, as a scanner:
    /// the length of the piece that starts at <paramref name="i"/> (UTF-16 code units, classified as .NET's regex does).
    /// </summary>
    public static int PreTokenLength(ReadOnlySpan<char> text, int i)
    {
        char c = text[i];
        if (c == '\'' && i + 1 < text.Length)
        {
            char d = text[i + 1];
            if (d is 's' or 't' or 'm' or 'd') return 2;
            if (i + 2 < text.Length && (d, text[i + 2]) is ('r', 'e') or ('v', 'e') or ('l', 'l')) return 3;
        }
        int start = i;
        if (c == ' ' && i + 1 < text.Length && !char.IsWhiteSpace(text[i + 1])) c = text[++i];
        if (!char.IsWhiteSpace(c))
        {
            int kind = Kind(c);
            while (i < text.Length && !char.IsWhiteSpace(text[i]) && Kind(text[i]) == kind) i++;
            return i - start;
        }
        int end = i;
        while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
        // \s+(?!\S): a run at the end of the text, or all but its last character before a non-space; else one character (\s+)
        return end == text.Length ? end - start : Math.Max(1, end - start - 1);
    }

    /// <summary>
    /// The length of the piece that starts at <paramref name="i"/> under <paramref name="pre"/>'s pattern (see
    /// <see cref="BpePreTokenizer"/>), scanned without Regex over UTF-16 code units classified as .NET's regex does.
    /// </summary>
    public static int PreTokenLength(ReadOnlySpan<char> text, int i, BpePreTokenizer pre)
    {
        if (pre == BpePreTokenizer.Gpt2) return PreTokenLength(text, i);
        char c = text[i];
        bool has1 = i + 1 < text.Length;
        if (c == '\'' && has1)
        {
            char d = (char)(text[i + 1] | 0x20);
            if (text[i + 1] < 0x80 && d is 's' or 't' or 'm' or 'd') return 2;
            if (i + 2 < text.Length && text[i + 1] < 0x80 && text[i + 2] < 0x80 && (d, (char)(text[i + 2] | 0x20)) is ('r', 'e') or ('v', 'e') or ('l', 'l')) return 3;
        }
        int j = i;
        // [^\r\n\p{L}\p{N}]?\p{L}+
        if (char.IsLetter(c) || (c is not ('\r' or '\n') && !char.IsNumber(c) && has1 && char.IsLetter(text[i + 1])))
        {
            j = char.IsLetter(c) ? i : i + 1;
            while (j < text.Length && char.IsLetter(text[j])) j++;
            return j - i;
        }
        // \p{N}{1,3} (Qwen2: \p{N})
        if (char.IsNumber(c))
        {
            int max = pre == BpePreTokenizer.Qwen2 ? 1 : 3;
            while (j < text.Length && j - i < max && char.IsNumber(text[j])) j++;
            return j - i;
        }
        //  ?[^\s\p{L}\p{N}]+[\r\n]*
        if (c == ' ' && has1 && Kind(text[i + 1]) == 3 && !char.IsWhiteSpace(text[i + 1])) j = i + 1;
        if (!char.IsWhiteSpace(text[j]) && Kind(text[j]) == 3)
        {
            while (j < text.Length && !char.IsWhiteSpace(text[j]) && Kind(text[j]) == 3) j++;
            while (j < text.Length && text[j] is '\r' or '\n') j++;
            return j - i;
        }
        int end = i;
        while (end < text.Length && char.IsWhiteSpace(text[end])) end++;
        // \s*[\r\n]+: up to the run's last line break
        for (int k = end - 1; k >= i; k--)
            if (text[k] is '\r' or '\n') return k + 1 - i;
        return end == text.Length ? end - i : Math.Max(1, end - i - 1);
    }

    // 1 letter, 2 number, 3 anything else (not whitespace)
    private static int Kind(char c) => char.IsLetter(c) ? 1 : char.IsNumber(c) ? 2 : 3;

    private List<int> EncodeByteLevel(string text, bool bos, bool eos)
    {
        var tokens = new List<int>();
        if (bos && AddBos) tokens.Add(Bos);
        var word = new List<int>();
        var utf8 = new byte[Encoding.UTF8.GetMaxByteCount(Math.Min(text.Length, 256))];
        for (int i = 0; i < text.Length;)
        {
            int len = PreTokenLength(text, i, PreTokenizer);
            if (Encoding.UTF8.GetMaxByteCount(len) > utf8.Length) utf8 = new byte[Encoding.UTF8.GetMaxByteCount(len)];
            int n = Encoding.UTF8.GetBytes(text.AsSpan(i, len), utf8);
            i += len;
            word.Clear();
            for (int k = 0; k < n; k++) word.Add(_byteIds![utf8[k]]);
            while (word.Count > 1)
            {
                int best = int.MaxValue, at = -1;
                for (int k = 0; k + 1 < word.Count; k++)
                    if (_mergeRank!.TryGetValue(Pair(word[k], word[k + 1]), out int rank) && rank < best) { best = rank; at = k; }
                if (at < 0) break;
                word[at] = _mergeResult![best];
                word.RemoveAt(at + 1);
            }
            tokens.AddRange(word);
        }
        if (eos) tokens.Add(Eos);
        return tokens;
    }

    /// <summary>The bytes of a piece.</summary>
    public ReadOnlySpan<byte> Piece(int id) => _pieces[id];

    // Byte strings as Latin-1 strings make exact dictionary keys.
    private static string Latin1(ReadOnlySpan<byte> b) => Encoding.Latin1.GetString(b);

    /// <summary>Encodes text like llama2.c's encode(): optional BOS, a dummy-prefix space piece when the text is not empty, then BPE merges.</summary>
    public List<int> Encode(string text, bool bos, bool eos)
    {
        if (ByteLevel) return EncodeByteLevel(text, bos, eos);
        var tokens = new List<int>();
        if (bos) tokens.Add(Bos);
        if (text.Length > 0 && _lookup.TryGetValue(" ", out int space)) tokens.Add(space);
        var utf8 = Encoding.UTF8.GetBytes(text);
        int i = 0;
        while (i < utf8.Length)
        {
            int len = 1;
            while (i + len < utf8.Length && len < 4 && (utf8[i + len] & 0xC0) == 0x80) len++;
            if (_lookup.TryGetValue(Latin1(utf8.AsSpan(i, len)), out int id)) tokens.Add(id);
            else for (int k = 0; k < len; k++) tokens.Add(utf8[i + k] + 3);
            i += len;
        }
        while (true)
        {
            float best = float.NegativeInfinity;
            int bestId = -1, bestIdx = -1;
            for (int k = 0; k + 1 < tokens.Count; k++)
            {
                var merged = Concat(_pieces[tokens[k]], _pieces[tokens[k + 1]]);
                if (_lookup.TryGetValue(Latin1(merged), out int id) && _scores[id] > best)
                {
                    best = _scores[id];
                    bestId = id;
                    bestIdx = k;
                }
            }
            if (bestIdx < 0) break;
            tokens[bestIdx] = bestId;
            tokens.RemoveAt(bestIdx + 1);
        }
        if (eos) tokens.Add(Eos);
        return tokens;
    }

    private static byte[] Concat(byte[] a, byte[] b)
    {
        var r = new byte[a.Length + b.Length];
        a.CopyTo(r, 0);
        b.CopyTo(r, a.Length);
        return r;
    }

    /// <summary>
    /// The bytes to print for <paramref name="token"/> following <paramref name="prev"/> (llama2.c's decode): a leading
    /// space is dropped right after BOS, and "&lt;0xXX&gt;" pieces become that byte.
    /// </summary>
    public ReadOnlySpan<byte> Decode(int prev, int token)
    {
        ReadOnlySpan<byte> piece = _pieces[token];
        if (ByteLevel) return piece;
        if (prev == Bos && piece.Length > 0 && piece[0] == (byte)' ') piece = piece[1..];
        if (piece.Length == 6 && piece[0] == '<' && piece[1] == '0' && piece[2] == 'x' && piece[5] == '>'
            && IsHex(piece[3]) && IsHex(piece[4]))
            return _bytePieces[Hex(piece[3]) * 16 + Hex(piece[4])];
        return piece;
    }

    /// <summary>llama2.c's safe_printf rule: a single byte that is neither printable nor whitespace is not printed.</summary>
    public static bool Printable(ReadOnlySpan<byte> piece) =>
        piece.Length != 1 || piece[0] >= 0x20 && piece[0] < 0x7F || piece[0] is (byte)' ' or (byte)'\t' or (byte)'\n' or (byte)'\r' or 0x0B or 0x0C || piece[0] >= 0x80;

    private static bool IsHex(byte c) => c is >= (byte)'0' and <= (byte)'9' or >= (byte)'A' and <= (byte)'F' or >= (byte)'a' and <= (byte)'f';

    private static int Hex(byte c) => c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10;
}
