using Xunit;
using Brine.Model;
using Brine.Tests.Support;
using Xunit.Abstractions;

namespace Brine.Tests.Json;

/// <summary>
/// JSONTestSuite (test_parsing): every y_ file must be accepted, every n_ file rejected with a BrineFormatException,
/// and every i_ file either, without any other exception or hang.
/// </summary>
public class JsonTestSuiteTests(ITestOutputHelper output)
{
    /// <summary>Files where Brine disagrees with the suite. A new disagreement fails the test.</summary>
    static readonly HashSet<string> KnownFailures = new(StringComparer.Ordinal)
    {
    };

    static string Folder => TestData.Path_("json", "JSONTestSuite");

    enum Outcome { Accepted, Rejected }

    static (Outcome outcome, string detail) Parse(string path)
    {
        var bytes = File.ReadAllBytes(path);
        try
        {
            var values = JsonText.Read(bytes);
            return (Outcome.Accepted, $"{values.Count} value(s)");
        }
        catch (BrineFormatException e) { return (Outcome.Rejected, e.Message); }
    }

    [Fact]
    public void Parsing_suite()
    {
        var files = Directory.GetFiles(Folder, "*.json").OrderBy(f => f, StringComparer.Ordinal).ToList();
        Assert.True(files.Count > 300);
        int pass = 0, total = 0;
        var failures = new List<string>();
        var implementationDefined = new List<string>();
        foreach (var path in files)
        {
            var name = Path.GetFileName(path);
            var (outcome, detail) = Parse(path); // any exception but BrineFormatException fails the test here
            if (name.StartsWith("i_"))
            {
                implementationDefined.Add($"{name}: {(outcome == Outcome.Accepted ? "accepted" : "rejected")} ({detail})");
                continue;
            }
            total++;
            bool ok = name.StartsWith("y_") ? outcome == Outcome.Accepted : outcome == Outcome.Rejected;
            if (ok) pass++;
            else failures.Add($"{name}: {outcome} ({detail})");
        }
        output.WriteLine($"JSONTestSuite y_/n_: {pass}/{total} pass ({100.0 * pass / total:F1}%)");
        foreach (var f in failures) output.WriteLine("FAIL " + f);
        foreach (var i in implementationDefined) output.WriteLine("i_ " + i);
        var unexpected = failures.Select(f => f[..f.IndexOf(':')]).Where(n => !KnownFailures.Contains(n)).ToList();
        Assert.True(unexpected.Count == 0, "unexpected failures: " + string.Join(", ", unexpected));
        Assert.True(pass >= total - KnownFailures.Count);
    }
}
