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
    public static ulong? DecodeFrequency(string text) => ReadFrequency(text).Hertz;

    private static readonly (string Unit, decimal Scale)[] FrequencyUnits = [("GHz", 1e9m), ("MHz", 1e6m), ("kHz", 1e3m), ("Hz", 1m)];

    /// <summary>Whether a word is a frequency unit, in any case (<c>GHz</c>, <c>ghz</c>): for reading <c>clock 3 GHz</c> to say what is wrong.</summary>
    public static bool IsFrequencyUnit(string word) => FrequencyUnits.Any(u => string.Equals(u.Unit, word, StringComparison.OrdinalIgnoreCase));

    /// <summary>
    /// A clock literal in hertz, or what is wrong with it in words: a missing unit, a space before it,
    /// a unit in the wrong case, a number that is not one, a frequency that is zero or not whole.
    /// </summary>
    public static (ulong? Hertz, string? Problem) ReadFrequency(string text)
    {
        const string Units = "Hz, kHz, MHz or GHz";
        var split = 0;
        while (split < text.Length && (char.IsAsciiDigit(text[split]) || text[split] == '.')) split++;
        var number = text[..split];
        var unit = text[split..];
        if (unit.Length > 0 && char.IsWhiteSpace(unit[0]))
            return (null, $"the unit goes right after the number, without a space: {number}{unit.Trim()}");
        if (unit.Length == 0)
            return (null, $"no unit: write {Units} right after the number, e.g. {number}GHz or {number}MHz");
        var known = FrequencyUnits.FirstOrDefault(u => u.Unit == unit);
        if (known.Unit is null)
        {
            var cased = FrequencyUnits.FirstOrDefault(u => string.Equals(u.Unit, unit, StringComparison.OrdinalIgnoreCase));
            return (null, cased.Unit is not null
                ? $"the unit is written {cased.Unit}, not {unit}"
                : $"'{Diagnostics.Errors.Quote(unit)}' is not a unit: write {Units}, e.g. 3GHz or 2400MHz");
        }
        if (number.Length == 0 || number.Length > 20 || number.Count(c => c == '.') > 1 || number[0] == '.' || number[^1] == '.'
            || !decimal.TryParse(number, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out var n))
            return (null, $"'{Diagnostics.Errors.Quote(number)}' is not a number (digits, with at most one decimal point inside)");
        var hz = n * known.Scale;
        if (hz == 0) return (null, "the frequency is zero");
        if (hz < 1) return (null, "the frequency is below 1 Hz");
        if (hz != decimal.Truncate(hz)) return (null, "the frequency is not a whole number of hertz");
        if (hz > ulong.MaxValue) return (null, "the frequency does not fit in 64 bits");
        return ((ulong)hz, null);
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
