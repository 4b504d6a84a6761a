using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Parsing;

/// <summary>
/// A lexical pre-pass that bounds the nesting of parentheses and braces before Pidgin sees the text:
/// Pidgin recurses once per level and would overflow the stack on hostile input.
/// </summary>
internal static class NestingCheck
{
    public static Diagnostic? Check(string text, int limit)
    {
        var depth = 0;
        for (var i = 0; i < text.Length; i++)
        {
            var c = text[i];
            if (c == '#')
            {
                while (i < text.Length && text[i] != '\n') i++;
            }
            else if (c == '"')
            {
                for (i++; i < text.Length && text[i] != '"' && text[i] != '\n'; i++)
                    if (text[i] == '\\') i++;
            }
            else if (c is '(' or '{')
            {
                if (++depth > limit) return Errors.NestingTooDeep(new TextSpan(i, i + 1), limit);
            }
            else if (c is ')' or '}')
            {
                depth = Math.Max(0, depth - 1);
            }
        }
        return null;
    }
}
