using MemScript.Language.Checking;

namespace MemScript.Tests.Language;

/// <summary>
/// Profiles (SEMANTICS.md 13): the checker resolves every profile feature, the profile's default
/// unless the file declares the feature, whatever the order, and --profile replaces the file's line.
/// </summary>
public class ProfileTests
{
    private const string Machine = "slot 0 gpa 0x0 size 16M hva 0x7f0000000000\nprocess p { map 0x1000 to 0x1000 rw }\n";

    private static MachineDeclarations Resolve(string declarations, CheckOptions? options = null)
    {
        var result = Checker.CheckText(declarations + "\n" + Machine, options ?? CheckOptions.None);
        Assert.That(result.Diagnostics.Select(d => d.Message), Is.Empty);
        return result.Script!.Machine;
    }

    [Test]
    public void Without_a_profile_the_default_is_modern_and_a_fallback_only_applies_without_one()
    {
        Assert.That(CheckOptions.DefaultProfile, Is.EqualTo(Profile.Modern));
        var m = Resolve("");
        Assert.That(m with { Costs = [], Explicit = [] }, Is.EqualTo(MachineDeclarations.ForProfile(Profile.Modern)));
        Assert.That(m.Explicit, Is.Empty);
        Assert.That(Resolve("", new CheckOptions { Fallback = Profile.Classic }) with { Costs = [], Explicit = [] }, Is.EqualTo(MachineDeclarations.Defaults));
        Assert.That(Resolve("profile modern", new CheckOptions { Fallback = Profile.Classic }).Profile, Is.EqualTo(Profile.Modern), "the file's line wins over the fallback");
        Assert.That(Resolve("profile modern", new CheckOptions { Profile = Profile.Classic }).Profile, Is.EqualTo(Profile.Classic), "--profile wins over the file's line");
    }

    [Test]
    public void Classic_and_modern_defaults_are_those_of_the_table()
    {
        var classic = Resolve("profile classic");
        Assert.That((classic.Profile, classic.Pwc, classic.Tlb1GEntries, classic.ShadowUnsync, classic.ShadowPrefetch, classic.ShadowFlood, classic.EptAd, classic.DirtyTrack),
            Is.EqualTo((Profile.Classic, false, 0, false, 0, 0, false, DirtyTrack.Free)));
        var modern = Resolve("profile modern");
        Assert.That((modern.Profile, modern.Pwc, modern.PwcEntries, modern.Tlb1GEntries, modern.Tlb1GWays, modern.ShadowUnsync, modern.ShadowPrefetch, modern.ShadowFlood, modern.EptAd, modern.DirtyTrack),
            Is.EqualTo((Profile.Modern, true, 32, 16, 4, true, 8, 3, true, DirtyTrack.Pml)));
        // Everything not in the table is the same in both profiles.
        Assert.That(modern with { Profile = Profile.Classic, Pwc = false, Tlb1GEntries = 0, Tlb1GWays = 0, ShadowUnsync = false, ShadowPrefetch = 0, ShadowFlood = 0, EptAd = false, DirtyTrack = DirtyTrack.Free, Costs = [], Explicit = [] },
            Is.EqualTo(classic with { Costs = [], Explicit = [] }));
    }

    [TestCase("profile modern\npwc off\ntlb1g off\nshadow unsync off\nshadow prefetch 0\nshadow flood 0\neptad off\ndirty-track free")]
    [TestCase("pwc off\ntlb1g off\nshadow unsync off\nshadow prefetch 0\nshadow flood 0\neptad off\ndirty-track free\nprofile modern")]
    public void An_explicit_declaration_wins_over_the_profile_whatever_the_order(string text)
    {
        var m = Resolve(text);
        Assert.That(m with { Costs = [], Explicit = [] }, Is.EqualTo(MachineDeclarations.Defaults with { Profile = Profile.Modern }));
        Assert.That(m.Explicit, Is.EqualTo(ProfileFeatures.All));
    }

    [Test]
    public void The_command_line_profile_replaces_the_file_line_but_not_its_explicit_declarations()
    {
        var m = Resolve("profile modern\nshadow prefetch 16", new CheckOptions { Profile = Profile.Classic });
        Assert.That((m.Profile, m.Pwc, m.ShadowPrefetch, m.ShadowUnsync), Is.EqualTo((Profile.Classic, false, 16, false)));
        Assert.That(m.Explicit, Is.EqualTo(new[] { "shadow prefetch" }));
        var modern = Resolve("pwc off", new CheckOptions { Profile = Profile.Modern });
        Assert.That((modern.Profile, modern.Pwc, modern.EptAd), Is.EqualTo((Profile.Modern, false, true)));
    }

    [Test]
    public void A_feature_can_be_switched_to_its_classic_value_one_at_a_time()
    {
        var modern = Resolve("profile modern");
        var classic = MachineDeclarations.ForProfile(Profile.Classic);
        foreach (var feature in ProfileFeatures.All)
        {
            var one = modern.WithFeatureFrom(feature, classic);
            Assert.That(one, Is.Not.EqualTo(modern), feature);
        }
        var all = ProfileFeatures.All.Aggregate(modern, (m, f) => m.WithFeatureFrom(f, classic));
        Assert.That(all with { Profile = Profile.Classic, Costs = [], Explicit = [] }, Is.EqualTo(classic));
    }

    [TestCase("shadow prefetch 0", 0)]
    [TestCase("shadow prefetch 2", 2)]
    [TestCase("shadow prefetch 512", 512)]
    public void Prefetch_takes_zero_or_a_power_of_two_up_to_512(string text, int expected) =>
        Assert.That(Resolve(text).ShadowPrefetch, Is.EqualTo(expected));

    [TestCase("shadow prefetch 1")]
    [TestCase("shadow prefetch 6")]
    [TestCase("shadow prefetch 1024")]
    public void Other_prefetch_values_are_errors(string text) =>
        Assert.That(Checker.CheckText(text).Diagnostics.Select(d => d.Code), Is.EqualTo(new[] { "MS0405" }));

    [Test]
    public void Tlb1g_without_ways_is_fully_associative_and_off_is_zero()
    {
        Assert.That((Resolve("tlb1g 8").Tlb1GEntries, Resolve("tlb1g 8").Tlb1GWays), Is.EqualTo((8, 8)));
        Assert.That(Resolve("profile modern\ntlb1g off").Tlb1GEntries, Is.Zero);
    }

    [Test]
    public void A_prealloc_slot_says_so()
    {
        var script = Checker.CheckText("slot 0 gpa 0x0 size 16M hva 0x7f0000000000 prealloc\nslot 1 gpa 16M size 1M hva 0x7f1000000000").Script!;
        Assert.That(script.Slots.Select(s => s.Prealloc), Is.EqualTo(new[] { true, false }));
    }
}
