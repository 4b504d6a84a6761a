using System.Globalization;

namespace MemScript.Language.Parsing;

/// <summary>
/// Decodes integer and frequency literals from their text. Pidgin's number parsers are signed and wrap
/// silently, so literals are taken as text and checked here.
/// </summary>
public static class Literals
{
    /// <summary>Decodes <c>4096</c>, <c>0x1000</c>, <c>0b1010</c>, <c>0x7f00_0000</c>, <c>4K</c>, <c>0x10M</c>.</summary>
    public static (ulong? Value, string? Problem, bool Overflow) DecodeInteger(string text)
    {
        var body = text;
        var shift = 0;
        var last = body[^1];
        var radix = 10;
        var digits = body;
        if (body.Length > 1 && body[0] == '0' && (body[1] is 'x' or 'X')) { radix = 16; digits = body[2..]; }
        else if (body.Length > 1 && body[0] == '0' && (body[1] is 'b' or 'B')) { radix = 2; digits = body[2..]; }

        // A size suffix is the last character; in hex, K/M/G/T are not hex digits so there is no ambiguity.
        if (last is 'K' or 'M' or 'G' or 'T' && digits.Length > 0)
        {
            shift = last switch { 'K' => 10, 'M' => 20, 'G' => 30, _ => 40 };
            digits = digits[..^1];
        }
        if (digits.Length == 0) return (null, radix == 10 ? "no digits" : "no digits after the prefix", false);
        if (digits[0] == '_' || digits[^1] == '_') return (null, "'_' may only separate digits", false);

        ulong value = 0;
        var overflow = false;
        foreach (var c in digits)
        {
            if (c == '_') continue;
            var d = DigitValue(c);
            if (d < 0 || d >= radix)
            {
                if (c is 'K' or 'M' or 'G' or 'T') return (null, "a size suffix (K, M, G, T) must come last", false);
                if (char.IsLetter(c) && radix != 16 && IsHexLetter(c)) return (null, $"'{c}' is not a {RadixName(radix)} digit (hexadecimal needs 0x)", false);
                return (null, $"'{c}' is not a {RadixName(radix)} digit" + (char.IsLetter(c) ? " or a size suffix (K, M, G, T)" : ""), false);
            }
            if (!overflow)
            {
                var next = (UInt128)value * (uint)radix + (uint)d;
                if (next > ulong.MaxValue) overflow = true; else value = (ulong)next;
            }
        }
        if (overflow) return (null, null, true);
        if (shift > 0)
        {
            if (value != 0 && (value >> (64 - shift)) != 0) return (null, null, true);
            value <<= shift;
        }
        return (value, null, false);
    }

    /// <summary>Decodes <c>3GHz</c>, <c>2400MHz</c>, <c>2.4GHz</c>, <c>100kHz</c>, <c>1000000Hz</c> into hertz.</summary>
    public static ulong? DecodeFrequency(string text)
    {
        (string unit, decimal scale)[] units = [("GHz", 1e9m), ("MHz", 1e6m), ("kHz", 1e3m), ("Hz", 1m)];
        foreach (var (unit, scale) in units)
        {
            if (!text.EndsWith(unit, StringComparison.Ordinal)) continue;
            var number = text[..^unit.Length];
            if (number.Length == 0 || number.Length > 20 || !number.All(c => c is >= '0' and <= '9' or '.') || number.Count(c => c == '.') > 1
                || number[0] == '.' || number[^1] == '.')
                return null;
            if (!decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n)) return null;
            var hz = n * scale;
            if (hz < 1 || hz != decimal.Truncate(hz) || hz > ulong.MaxValue) return null;
            return (ulong)hz;
        }
        return null;
    }

    private static bool IsHexLetter(char c) => c is >= 'a' and <= 'f' or >= 'A' and <= 'F';

    private static int DigitValue(char c) => c switch
    {
        >= '0' and <= '9' => c - '0',
        >= 'a' and <= 'f' => c - 'a' + 10,
        >= 'A' and <= 'F' => c - 'A' + 10,
        _ => -1,
    };

    private static string RadixName(int radix) => radix switch { 2 => "binary", 16 => "hexadecimal", _ => "decimal" };
}
