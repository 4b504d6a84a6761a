using MemScript.Language.Diagnostics;

namespace MemScript.Tests.Language;

/// <summary>"Did you mean": nearest by edit distance, never for a hostile token, never a guess with nothing in common.</summary>
public class SuggestionTests
{
    [TestCase("slto", "slot")]
    [TestCase("exits.EPT_VOILATION", "exits.EPT_VIOLATION")]
    [TestCase("EPT", "ept")]
    [TestCase("vmexit", "vm-exit")]
    [TestCase("wr", "rw")]
    public void Finds_the_nearest(string word, string expected) =>
        Assert.That(Suggestions.Nearest(word, ["slot", "exits.EPT_VIOLATION", "ept", "vm-exit", "rw", "read"]), Is.EqualTo(expected));

    [TestCase("q")]
    [TestCase("fast")]
    [TestCase("zzzzzz")]
    public void Says_nothing_when_nothing_is_near(string word) =>
        Assert.That(Suggestions.Nearest(word, ["p", "as", "native", "software"]), Is.Null);

    [Test]
    public void A_huge_word_is_not_compared()
    {
        var huge = new string('a', 10_000_000);
        var clock = System.Diagnostics.Stopwatch.StartNew();
        Assert.That(Suggestions.Nearest(huge, Vocabulary.CounterNames()), Is.Null);
        Assert.That(clock.Elapsed, Is.LessThan(TimeSpan.FromSeconds(1)));
    }

    [Test]
    public void Every_counter_and_cost_is_suggested_for_a_one_letter_slip()
    {
        foreach (var name in Vocabulary.CounterNames().Concat(Vocabulary.Costs.Select(c => c.Name)))
            Assert.That(Suggestions.Nearest(name[..^1] + "#", Vocabulary.CounterNames().Concat(Vocabulary.Costs.Select(c => c.Name))), Is.EqualTo(name), name);
    }
}
