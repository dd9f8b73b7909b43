namespace Llmaot.Emit;

/// <summary>
/// C# keywords, so identifiers made from model names can be escaped with '@'. A plain table (the same sets as Roslyn's
/// SyntaxFacts; a test compares them) keeps Roslyn out of the build path, so the Llmaot.Build package need not ship it.
/// </summary>
public static class CSharpKeywords
{
    private static readonly HashSet<string> Reserved = new(StringComparer.Ordinal)
    {
        "__arglist", "__makeref", "__reftype", "__refvalue", "abstract", "as", "base", "bool", "break", "byte",
        "case", "catch", "char", "checked", "class", "const", "continue", "decimal", "default", "delegate",
        "do", "double", "else", "enum", "event", "explicit", "extern", "false", "finally", "fixed",
        "float", "for", "foreach", "goto", "if", "implicit", "in", "int", "interface", "internal",
        "is", "lock", "long", "namespace", "new", "null", "object", "operator", "out", "override",
        "params", "private", "protected", "public", "readonly", "ref", "return", "sbyte", "sealed", "short",
        "sizeof", "stackalloc", "static", "string", "struct", "switch", "this", "throw", "true", "try",
        "typeof", "uint", "ulong", "unchecked", "unsafe", "ushort", "using", "virtual", "void", "volatile",
        "while",
    };

    private static readonly HashSet<string> Contextual = new(StringComparer.Ordinal)
    {
        "add", "alias", "allows", "and", "ascending", "assembly", "async", "await", "by", "closed",
        "descending", "equals", "extension", "field", "file", "from", "get", "global", "group", "init",
        "into", "join", "let", "managed", "method", "module", "nameof", "not", "on", "or",
        "orderby", "param", "partial", "property", "record", "remove", "required", "safe", "scoped", "select",
        "set", "type", "typevar", "union", "unmanaged", "when", "where", "with", "yield",
    };

    /// <summary>True for a reserved keyword (<c>class</c>, <c>int</c>, <c>__arglist</c>, ...): never usable as a plain identifier.</summary>
    public static bool IsReserved(string id) => Reserved.Contains(id);

    /// <summary>True for a contextual keyword (<c>var</c>-like words such as <c>async</c>, <c>record</c>, <c>field</c>, ...).</summary>
    public static bool IsContextual(string id) => Contextual.Contains(id);

    /// <summary>The reserved keywords, for tests.</summary>
    public static IReadOnlyCollection<string> ReservedWords => Reserved;

    /// <summary>The contextual keywords, for tests.</summary>
    public static IReadOnlyCollection<string> ContextualWords => Contextual;
}
