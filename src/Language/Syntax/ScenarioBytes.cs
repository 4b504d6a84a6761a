using System.Text;
using MemScript.Language.Diagnostics;

namespace MemScript.Language.Syntax;

/// <summary>
/// A scenario file's bytes as text: UTF-8 (LANGUAGE.md), a byte-order mark skipped. Bytes that are not
/// UTF-8 are an error at the character where they stand, not silently replaced.
/// </summary>
public static class ScenarioBytes
{
    private static readonly UTF8Encoding Strict = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);
    private static readonly UTF8Encoding Lenient = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>The text (with U+FFFD where bytes were invalid) and the problem, if any.</summary>
    public static (string Text, Diagnostic? Problem) Decode(ReadOnlySpan<byte> bytes)
    {
        if (bytes is [0xEF, 0xBB, 0xBF, ..]) bytes = bytes[3..];
        try
        {
            return (Strict.GetString(bytes), null);
        }
        catch (DecoderFallbackException e)
        {
            var text = Lenient.GetString(bytes);
            if (bytes is [0xFF, 0xFE, ..] or [0xFE, 0xFF, ..])
                return (text, Errors.NotUtf8(new TextSpan(0, Math.Min(1, text.Length)), "it starts with a UTF-16 byte-order mark: save it as UTF-8"));
            var index = Math.Clamp(e.Index, 0, bytes.Length - 1);
            var offset = Lenient.GetCharCount(bytes[..index]);
            return (text, Errors.NotUtf8(new TextSpan(offset, Math.Min(offset + 1, text.Length)),
                $"byte 0x{bytes[index]:x2} at byte {index} is not part of a UTF-8 character: save the file as UTF-8"));
        }
    }
}
