using System.Text.RegularExpressions;
using MemScript.Engine.Accounting;
using MemScript.Language.Checking;
using MemScript.Tests.Support;

namespace MemScript.Tests.Language;

/// <summary>
/// Each vocabulary concept has one table (MemScript.Model.Vocabulary, and the engine's charge kinds);
/// everything that names a counter, an exit reason, a cost or a mode reads it. These tests fail when a
/// table and an enum, the engine, the checker or the docs disagree.
/// </summary>
public class VocabularyTests
{
    [Test]
    public void Every_table_is_indexed_by_its_enum()
    {
        Assert.Multiple(() =>
        {
            Assert.That(Vocabulary.Modes.Select(m => m.Mode), Is.EqualTo(Enum.GetValues<MmuMode>()));
            Assert.That(Vocabulary.Counters.Select(c => c.Id), Is.EqualTo(Enum.GetValues<CounterId>()));
            Assert.That(Vocabulary.ExitReasons.Select(r => r.Reason), Is.EqualTo(Enum.GetValues<ExitReason>()));
            Assert.That(Vocabulary.Costs.Select(c => c.Cost), Is.EqualTo(Enum.GetValues<Cost>()));
            Assert.That(ChargeKinds.All.Select(k => k.Kind), Is.EqualTo(Enum.GetValues<CostKind>()));
        });
    }

    [Test]
    public void Names_are_unique_and_parse_back()
    {
        Assert.Multiple(() =>
        {
            foreach (var m in Vocabulary.Modes) Assert.That(Vocabulary.ParseMode(m.Name), Is.EqualTo(m.Mode));
            foreach (var c in Vocabulary.Counters) Assert.That(Vocabulary.TryParseCounter(c.Name, out var id) && id == c.Id, c.Name);
            foreach (var r in Vocabulary.ExitReasons) Assert.That(Vocabulary.TryParseExitReason(r.Name, out var id) && id == r.Reason, r.Name);
            foreach (var c in Vocabulary.Costs) Assert.That(Vocabulary.TryParseCost(c.Name, out var id) && id == c.Cost, c.Name);
            var names = Vocabulary.CounterNames().ToList();
            Assert.That(names, Is.Unique);
        });
    }

    [Test]
    public void The_engine_has_a_value_for_every_counter_and_every_exit_reason()
    {
        var counters = new Counters();
        var snapshot = counters.Snapshot();
        foreach (var name in Vocabulary.CounterNames()) Assert.That(snapshot.Get(name), Is.Zero, name);
        Assert.That(snapshot.Named().Select(n => n.Name), Is.EqualTo(Vocabulary.Counters.Select(c => c.Name)), "report order is the table's");
        Assert.That(snapshot.ExitsByReason, Has.Length.EqualTo(Vocabulary.ExitReasons.Length));
    }

    [Test]
    public void Every_cost_prices_a_charge_and_every_charge_is_in_one_category()
    {
        var priced = ChargeKinds.All.Select(k => k.Price).ToHashSet();
        Assert.That(Vocabulary.Costs.Where(c => c.Default is not null).Select(c => c.Cost), Is.SubsetOf(priced));
        Assert.That(CycleBreakdown.Categories.SelectMany(c => c.Kinds).Order(), Is.EqualTo(Enum.GetValues<CostKind>()));
        var prices = CostModel.Default.Prices();
        foreach (var k in ChargeKinds.All) Assert.That(prices[(int)k.Kind], Is.EqualTo(Vocabulary.Costs[(int)k.Price].Default), k.Kind.ToString());
    }

    [Test]
    public void The_checker_accepts_every_counter_and_cost_of_the_tables_and_nothing_else()
    {
        var text = "slot 0 gpa 0x0 size 1M hva 0x7f0000000000\n" +
                   string.Concat(Vocabulary.Costs.Select(c => $"cost {c.Name} {(c.Cost == Cost.ShadowPages ? 64 : 7)}\n")) +
                   "process p { map 0x400000 to 0x1000 rw }\nrun p {\n" +
                   string.Concat(Vocabulary.CounterNames().Select(n => $"  expect {n} >= 0\n")) + "}";
        Assert.That(Checker.CheckText(text).Diagnostics, Is.Empty);
        Assert.That(Checker.CheckText("process p { }\nrun p { expect exits.EPT_VIOLATIONS == 0 }").Diagnostics.Select(d => d.Code), Does.Contain("MS0402"));
        Assert.That(Checker.CheckText("cost vm_exit 3").Diagnostics.Select(d => d.Code), Does.Contain("MS0401"));
    }

    [Test]
    public void The_contract_and_the_docs_name_the_same_costs_counters_and_exit_reasons()
    {
        var semantics = File.ReadAllText(Path.Combine(Paths.Shared, "spec", "SEMANTICS.md"));
        // The cost table of section 8: | name | default | charged for |
        var section8 = semantics[semantics.IndexOf("## 8.", StringComparison.Ordinal)..semantics.IndexOf("## 9.", StringComparison.Ordinal)];
        var costs = Regex.Matches(section8, @"^\| ([a-z0-9-]+) \| (\d+|see 5) \|", RegexOptions.Multiline)
            .Select(m => (m.Groups[1].Value, m.Groups[2].Value == "see 5" ? (ulong?)null : ulong.Parse(m.Groups[2].Value))).ToList();
        Assert.That(costs, Is.EqualTo(Vocabulary.Costs.Select(c => (c.Name, c.Default))));
        var language = File.ReadAllText(Path.Combine(Paths.RepositoryRoot, "docs", "language.md"));
        foreach (var c in Vocabulary.Counters) Assert.That(language, Does.Contain($"`{c.Name}`"), c.Name);
        foreach (var r in Vocabulary.ExitReasons)
            Assert.That(Regex.IsMatch(semantics, $@"\*\*{r.Name}\*\*" + (r.Number is { } n ? $@".{{0,12}}reason\s+{n}\b" : "")), r.Name);
    }
}
