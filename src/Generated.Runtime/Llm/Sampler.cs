namespace Llmaot.Runtime.Llm;

/// <summary>Sampling settings, llama.cpp-style. Temperature 0 means greedy (argmax).</summary>
public sealed record SamplerOptions(float Temperature = 0.8f, int TopK = 40, float TopP = 0.95f, float MinP = 0.05f, float RepeatPenalty = 1.0f, int RepeatLastN = 64, ulong Seed = 0);

/// <summary>
/// Picks the next token from logits: repetition penalty, then greedy at temperature 0, else temperature, top-k, top-p,
/// min-p and a draw from a seeded generator. Works in preallocated buffers: no allocation per token.
/// </summary>
public sealed unsafe class Sampler
{
    private readonly SamplerOptions _o;
    private readonly int[] _index;
    private readonly float[] _prob;
    private readonly int[] _recent;
    private int _recentCount;
    private SplitMix _rng;

    public Sampler(int vocabSize, SamplerOptions o)
    {
        _o = o;
        _index = new int[vocabSize];
        _prob = new float[vocabSize];
        _recent = new int[Math.Max(1, o.RepeatLastN)];
        _rng = new SplitMix(o.Seed == 0 ? (ulong)Environment.TickCount64 : o.Seed);
    }

    /// <summary>Records a token (prompt or generated) for the repetition penalty.</summary>
    public void Accept(int token)
    {
        _recent[_recentCount % _recent.Length] = token;
        _recentCount++;
    }

    /// <summary>Index of the largest logit (first on ties).</summary>
    public static int Argmax(float* logits, int n)
    {
        int best = 0;
        float max = logits[0];
        for (int i = 1; i < n; i++)
            if (logits[i] > max) { max = logits[i]; best = i; }
        return best;
    }

    /// <summary>Chooses the next token; may modify <paramref name="logits"/>.</summary>
    public int Sample(float* logits, int n)
    {
        if (_o.RepeatPenalty != 1f)
            for (int r = 0; r < Math.Min(_recentCount, _recent.Length); r++)
            {
                int t = _recent[r];
                logits[t] = logits[t] > 0 ? logits[t] / _o.RepeatPenalty : logits[t] * _o.RepeatPenalty;
            }
        if (_o.Temperature <= 0) return Argmax(logits, n);
        float max = float.NegativeInfinity;
        for (int i = 0; i < n; i++) max = MathF.Max(max, logits[i]);
        float sum = 0;
        for (int i = 0; i < n; i++)
        {
            float p = MathF.Exp((logits[i] - max) / _o.Temperature);
            _prob[i] = p;
            _index[i] = i;
            sum += p;
        }
        for (int i = 0; i < n; i++) _prob[i] /= sum;
        // Sort candidates by probability (descending), keep top-k, then the top-p nucleus, then min-p.
        int k = _o.TopK > 0 ? Math.Min(_o.TopK, n) : n;
        Array.Sort(_prob, _index, 0, n, DescendingComparer.Instance);
        int keep = k;
        float cum = 0;
        for (int i = 0; i < k; i++)
        {
            cum += _prob[i];
            if (_o.TopP < 1f && cum >= _o.TopP) { keep = i + 1; break; }
        }
        if (_o.MinP > 0)
        {
            float floor = _prob[0] * _o.MinP;
            int m = 1;
            while (m < keep && _prob[m] >= floor) m++;
            keep = m;
        }
        float total = 0;
        for (int i = 0; i < keep; i++) total += _prob[i];
        float r01 = _rng.NextFloat() * total;
        float acc = 0;
        for (int i = 0; i < keep; i++)
        {
            acc += _prob[i];
            if (r01 < acc) return _index[i];
        }
        return _index[keep - 1];
    }

    private sealed class DescendingComparer : IComparer<float>
    {
        public static readonly DescendingComparer Instance = new();
        public int Compare(float x, float y) => y.CompareTo(x);
    }
}
