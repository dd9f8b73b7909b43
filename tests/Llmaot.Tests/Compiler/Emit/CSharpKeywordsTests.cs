using Llmaot.Emit;
using Microsoft.CodeAnalysis.CSharp;

namespace Llmaot.Tests.Compiler.Emit;

/// <summary>The keyword table that escapes identifiers is exactly Roslyn's (reserved and contextual), so names stay valid C#.</summary>
public class CSharpKeywordsTests
{
    [Fact]
    public void Keyword_table_equals_roslyn_syntax_facts()
    {
        var contextual = SyntaxFacts.GetContextualKeywordKinds().Select(SyntaxFacts.GetText).ToHashSet(StringComparer.Ordinal);
        var reserved = SyntaxFacts.GetKeywordKinds().Select(SyntaxFacts.GetText).Where(t => !contextual.Contains(t)).ToHashSet(StringComparer.Ordinal);
        Assert.Equal(reserved.Order(StringComparer.Ordinal), CSharpKeywords.ReservedWords.Order(StringComparer.Ordinal));
        Assert.Equal(contextual.Order(StringComparer.Ordinal), CSharpKeywords.ContextualWords.Order(StringComparer.Ordinal));
        foreach (var w in reserved) Assert.NotEqual(SyntaxKind.None, SyntaxFacts.GetKeywordKind(w));
        foreach (var w in contextual) Assert.NotEqual(SyntaxKind.None, SyntaxFacts.GetContextualKeywordKind(w));
    }

    [Theory]
    [InlineData("class", "@class", "@class")]
    [InlineData("record", "@record", "record")]
    [InlineData("input", "input", "input")]
    [InlineData("value", "value", "value")]
    public void Identifiers_from_model_names_are_escaped(string name, string ident, string param)
    {
        Assert.Equal(ident, Lit.Ident(name));
        Assert.Equal(param, Lit.Param(name));
    }
}
