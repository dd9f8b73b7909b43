using System.Text.RegularExpressions;

namespace Llmaot.Conformance;

/// <summary>
/// The exclusion manifest: one line per excluded case or pattern, <c>PATTERN | reason</c>. PATTERN is a case name or a
/// regular expression matched against the whole case name. Blank lines and lines starting with '#' are ignored.
/// Every exclusion must give a reason.
/// </summary>
public sealed class Manifest
{
    public sealed record Entry(string Pattern, string Reason, Regex Regex, int Line);

    public List<Entry> Entries { get; } = [];

    public static Manifest Empty => new();

    public static Manifest Load(string path)
    {
        var m = new Manifest();
        int n = 0;
        foreach (var raw in File.ReadLines(path))
        {
            n++;
            string line = raw.Trim();
            if (line.Length == 0 || line.StartsWith('#')) continue;
            // The separator is the last " | " (patterns use '|' for alternation without spaces).
            int bar = line.LastIndexOf(" | ", StringComparison.Ordinal);
            if (bar >= 0) bar++;
            if (bar < 0 || line[(bar + 1)..].Trim().Length == 0)
                throw new FormatException($"{path}:{n}: every exclusion needs a reason: 'PATTERN | reason'");
            string pat = line[..bar].Trim();
            m.Entries.Add(new Entry(pat, line[(bar + 1)..].Trim(), new Regex("^(?:" + pat + ")$", RegexOptions.CultureInvariant), n));
        }
        return m;
    }

    /// <summary>The first entry matching <paramref name="caseName"/>, or null.</summary>
    public Entry? Match(string caseName) => Entries.FirstOrDefault(e => e.Regex.IsMatch(caseName));
}
