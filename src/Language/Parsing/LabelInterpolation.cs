using System.Collections.Immutable;
using System.Text;
using MemScript.Language.Diagnostics;
using MemScript.Language.Syntax;

namespace MemScript.Language.Parsing;

/// <summary>
/// Reads the interpolations of a label from its source text: <c>{EXPR}</c> is an expression printed in
/// decimal, <c>{{</c> and <c>}}</c> are literal braces, <c>\"</c> and <c>\\</c> are escapes. Each
/// expression is parsed by the expression grammar from its own offset in the file, so its spans are
/// the file's.
/// </summary>
internal static class LabelInterpolation
{
    /// <summary>Reads a label whose raw text (between the quotes, escapes as written) starts at <paramref name="start"/>.</summary>
    public static MarkLabel Read(string raw, int start, TextSpan span)
    {
        var parts = ImmutableArray.CreateBuilder<LabelPart>();
        var text = new StringBuilder();
        void Flush()
        {
            if (text.Length > 0) parts.Add(new LabelPart(text.ToString(), null));
            text.Clear();
        }
        MarkLabel Failed(Diagnostic problem) => new([new LabelPart(Unescape(raw), null)], span, problem);

        for (var i = 0; i < raw.Length; i++)
        {
            var c = raw[i];
            if (c == '\\' && i + 1 < raw.Length)
            {
                text.Append(raw[++i]);
            }
            else if (c == '{' && i + 1 < raw.Length && raw[i + 1] == '{')
            {
                text.Append('{');
                i++;
            }
            else if (c == '}' && i + 1 < raw.Length && raw[i + 1] == '}')
            {
                text.Append('}');
                i++;
            }
            else if (c == '}')
            {
                return Failed(Errors.BadInterpolation(new TextSpan(start + i, start + i + 1),
                    "'}' closes no interpolation: write '}}' for a literal brace in a label"));
            }
            else if (c == '{')
            {
                var close = raw.IndexOf('}', i + 1);
                if (close < 0)
                    return Failed(Errors.BadInterpolation(new TextSpan(start + i, start + i + 1),
                        "'{' opens an interpolation that is not closed: write '{{' for a literal brace in a label"));
                if (raw.AsSpan(i + 1, close - i - 1).IsWhiteSpace())
                    return Failed(Errors.BadInterpolation(new TextSpan(start + i, start + close + 1),
                        "'{}' interpolates nothing: write an expression between the braces, or '{{}}' for literal braces"));
                var (expr, problems) = ScriptParser.ParseExpressionAt(raw[(i + 1)..close], start + i + 1, "'}'");
                if (expr is null) return Failed(problems[0]);
                Flush();
                parts.Add(new LabelPart(null, expr));
                i = close;
            }
            else
            {
                text.Append(c);
            }
        }
        Flush();
        return new MarkLabel(parts.ToImmutable(), span);
    }

    private static string Unescape(string raw)
    {
        var sb = new StringBuilder(raw.Length);
        for (var i = 0; i < raw.Length; i++) sb.Append(raw[i] == '\\' && i + 1 < raw.Length ? raw[++i] : raw[i]);
        return sb.ToString();
    }
}
