using System.Globalization;
using System.Text;

namespace Llmaot.Emit;

/// <summary>A small indented text writer: emitter code reads like the C# it prints. Lines end in '\n' on every OS.</summary>
public sealed class CSharpWriter
{
    private readonly StringBuilder _sb = new();
    private int _indent;

    public CSharpWriter Line(string text = "")
    {
        if (text.Length > 0) _sb.Append(' ', _indent * 4).Append(text);
        _sb.Append('\n');
        return this;
    }

    /// <summary>Writes "{" and indents.</summary>
    public CSharpWriter Open(string? header = null)
    {
        if (header != null) Line(header);
        Line("{");
        _indent++;
        return this;
    }

    /// <summary>Dedents and writes "}" (plus an optional suffix such as ";").</summary>
    public CSharpWriter Close(string suffix = "")
    {
        _indent--;
        Line("}" + suffix);
        return this;
    }

    /// <summary>A // comment; newlines in <paramref name="text"/> become separate comment lines.</summary>
    public CSharpWriter Comment(string text)
    {
        foreach (var l in text.Split('\n')) Line("// " + l.TrimEnd('\r'));
        return this;
    }

    public override string ToString() => _sb.ToString();
}

/// <summary>Every literal in generated code goes through here: round-trip floats, NaN/Inf, -0, safe identifiers and strings.</summary>
public static class Lit
{
    public static string F(float v) =>
        float.IsNaN(v) ? "float.NaN"
        : float.IsPositiveInfinity(v) ? "float.PositiveInfinity"
        : float.IsNegativeInfinity(v) ? "float.NegativeInfinity"
        : v == 0 && float.IsNegative(v) ? "-0f"
        : v.ToString("R", CultureInfo.InvariantCulture) + "f";

    public static string D(double v) =>
        double.IsNaN(v) ? "double.NaN"
        : double.IsPositiveInfinity(v) ? "double.PositiveInfinity"
        : double.IsNegativeInfinity(v) ? "double.NegativeInfinity"
        : v == 0 && double.IsNegative(v) ? "-0d"
        : v.ToString("R", CultureInfo.InvariantCulture) + "d";

    public static string I(long v) => v == long.MinValue ? "long.MinValue" : v.ToString(CultureInfo.InvariantCulture) + (v is > int.MaxValue or < int.MinValue ? "L" : "");

    public static string B(bool v) => v ? "true" : "false";

    /// <summary>A C# string literal.</summary>
    public static string S(string s)
    {
        var sb = new StringBuilder("\"");
        foreach (char c in s)
        {
            switch (c)
            {
                case '"': sb.Append("\\\""); break;
                case '\\': sb.Append("\\\\"); break;
                case '\n': sb.Append("\\n"); break;
                case '\r': sb.Append("\\r"); break;
                case '\t': sb.Append("\\t"); break;
                default:
                    if (c < 0x20 || c > 0x7E) sb.Append("\\u").Append(((int)c).ToString("x4", CultureInfo.InvariantCulture));
                    else sb.Append(c);
                    break;
            }
        }
        return sb.Append('"').ToString();
    }

    /// <summary>Text safe to put in a // comment (no newlines, printable).</summary>
    public static string Comment(string s)
    {
        var sb = new StringBuilder(s.Length);
        foreach (char c in s) sb.Append(c < 0x20 ? ' ' : c);
        return sb.ToString();
    }

    /// <summary>
    /// A valid, keyword-safe C# identifier from an arbitrary name: non-identifier characters become '_',
    /// a leading digit gets '_' in front, and keywords get '@'.
    /// </summary>
    public static string Ident(string name, bool pascal = false)
    {
        var sb = new StringBuilder(name.Length + 1);
        bool upper = pascal;
        foreach (char c in name)
        {
            if (char.IsAsciiLetterOrDigit(c))
            {
                sb.Append(upper ? char.ToUpperInvariant(c) : c);
                upper = false;
            }
            else if (pascal) upper = true;
            else sb.Append('_');
        }
        if (sb.Length == 0 || char.IsAsciiDigit(sb[0])) sb.Insert(0, '_');
        string id = sb.ToString();
        return CSharpKeywords.IsReserved(id) || CSharpKeywords.IsContextual(id) ? "@" + id : id;
    }

    /// <summary>A camelCase parameter name.</summary>
    public static string Param(string name)
    {
        string p = Ident(name, pascal: true).TrimStart('@');
        if (p.Length > 0 && char.IsUpper(p[0])) p = char.ToLowerInvariant(p[0]) + p[1..];
        if (p.Length == 0 || char.IsAsciiDigit(p[0])) p = "_" + p;
        return CSharpKeywords.IsReserved(p) ? "@" + p : p;
    }
}
