using Brine.Model;
using Xunit;
using Xunit.Abstractions;

namespace Brine.Tests.RoundTrip;

/// <summary>
/// Random graphs survive every tree format, and what each format loses is exactly what its documented losses say
/// (the profiles in <see cref="FormatProfile"/>). Seeded: a failure names its seed and the smallest failing graph found.
/// </summary>
public class RoundTripPropertyTests
{
    const int Seeds = 200;
    readonly ITestOutputHelper _out;
    public RoundTripPropertyTests(ITestOutputHelper output) => _out = output;

    public static TheoryData<string> Profiles()
    {
        var d = new TheoryData<string>();
        foreach (var p in FormatProfile.All) d.Add(p.Label);
        return d;
    }

    /// <summary>The values a seed makes for a profile: one value, or up to three for formats that hold several.</summary>
    internal static List<Node> Values(FormatProfile p, int seed, GenOptions options)
    {
        var rng = new Random(seed);
        int count = p.MultipleValues ? 1 + rng.Next(3) : 1;
        return Enumerable.Range(0, count).Select(i => TreeGenerator.Generate(seed * 7 + i, options)).ToList();
    }

    /// <summary>Everything the format carries comes back as its loss function says.</summary>
    [Theory]
    [MemberData(nameof(Profiles))]
    public void Carried_values_come_back_as_the_losses_say(string label)
    {
        var p = FormatProfile.Get(label);
        var options = p.Carried;
        int passed = 0;
        var known = new Dictionary<string, int>();
        var failures = new List<(int seed, string why)>();
        for (int seed = 0; seed < Seeds; seed++)
        {
            var roots = Values(p, seed, options);
            Assert.True(p.Refusal(roots) is null, $"seed {seed}: the generator made a value {label} refuses: {p.Refusal(roots)}");
            var why = RoundTripHarness.Check(p, roots);
            if (why is null) passed++;
            else if (KnownIssue.Find(p, roots, why) is { } k) known[k.Name] = known.GetValueOrDefault(k.Name) + 1;
            else failures.Add((seed, why));
        }
        _out.WriteLine($"{label}: {passed}/{Seeds} seeds pass");
        foreach (var (name, count) in known) _out.WriteLine($"  {count} seeds fail by the known issue: {name}");
        if (failures.Count > 0) Assert.Fail(Report(p, failures, s => Values(p, s, options)));
    }

    /// <summary>Any value at all (cycles, big integers, NaN, NUL in keys …): refused with a BrineFormatException, or carried.</summary>
    [Theory]
    [MemberData(nameof(Profiles))]
    public void Any_value_is_carried_or_refused_with_a_format_error(string label)
    {
        var p = FormatProfile.Get(label);
        var options = new GenOptions { Cycles = true };
        int carried = 0, refused = 0;
        var known = new Dictionary<string, int>();
        var failures = new List<(int seed, string why)>();
        for (int seed = 0; seed < Seeds; seed++)
        {
            var roots = Values(p, 10_000 + seed, options);
            var why = RoundTripHarness.Check(p, roots);
            if (why is not null && KnownIssue.Find(p, roots, why) is { } k) { known[k.Name] = known.GetValueOrDefault(k.Name) + 1; continue; }
            if (why is not null) { failures.Add((10_000 + seed, why)); continue; }
            if (p.Refusal(roots) is null) carried++; else refused++;
        }
        _out.WriteLine($"{label}: {carried} carried, {refused} refused as documented, {failures.Count} failures of {Seeds} seeds");
        foreach (var (name, count) in known) _out.WriteLine($"  {count} seeds fail by the known issue: {name}");
        if (failures.Count > 0) Assert.Fail(Report(p, failures, s => Values(p, s, options)));
    }

    /// <summary>Shrinks the first failure of each kind and names its seed.</summary>
    string Report(FormatProfile p, List<(int seed, string why)> failures, Func<int, List<Node>> make)
    {
        var sb = new System.Text.StringBuilder($"{p.Label}: {failures.Count}/{Seeds} seeds fail.\n");
        foreach (var group in failures.GroupBy(f => Shrinker.Category(f.why)).Take(5))
        {
            var (seed, why) = group.First();
            var kind = group.Key;
            // Shrink toward the same kind of failure, not whichever other failure a smaller value shows.
            var smallest = Shrinker.Shrink(make(seed), r => RoundTripHarness.Check(p, r) is { } w && Shrinker.Category(w) == kind);
            sb.Append($"- {group.Count()} seeds like seed {seed}: {why}\n  smallest: {GraphCheck.Show(smallest).TrimEnd()}\n  gives: {RoundTripHarness.Check(p, smallest)}\n");
            sb.Append($"  seeds: {string.Join(", ", group.Select(f => f.seed).Take(20))}\n");
        }
        _out.WriteLine(sb.ToString());
        return sb.ToString();
    }
}
