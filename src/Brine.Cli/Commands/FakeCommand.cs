using System.CommandLine;
using Brine.Fake;
using Brine.IO;

namespace Brine.Cli.Commands;

/// <summary><c>brine fake users</c>: deterministic sample data in any format.</summary>
public static class FakeCommand
{
    public static Command Create()
    {
        var count = new Option<long>("-n", "--count") { Description = "How many users", DefaultValueFactory = _ => 1000 };
        var output = new Option<string>("-o", "--output") { Description = "Output file; its extension names the format (or use --to)", Required = true };
        var to = new Option<string?>("--to", "-t") { Description = "Output format (default: from the extension)" };
        var seed = new Option<int>("--seed") { Description = "Random seed: the same seed gives the same users", DefaultValueFactory = _ => 42 };
        var settings = new Option<string[]>("--set", "-s") { Description = "A format setting NAME=VALUE (repeatable), e.g. --set compression=zstd" };
        var users = new Command("users", "Users like the tutorial's (id, name, email, language ∈ de/en/es/fr/it, registered_at), with names and e-mails in each user's locale.")
        {
            count, output, to, seed, settings,
        };
        users.SetAction(p =>
        {
            long n = p.GetValue(count);
            if (n < 0) throw new Model.BrineUsageException("-n must be zero or more");
            var path = p.GetValue(output)!;
            var progress = new ConversionProgress();
            long rows;
            using (ProgressDisplay.Start(progress, "generating", n))
                rows = new UserFaker(p.GetValue(seed)).WriteFile(path, n, p.GetValue(to), ConvertCommand.ParseSettings(p.GetValue(settings)), r => progress.Values = r);
            if (!Console.IsErrorRedirected) Console.Error.WriteLine($"{rows:N0} users written to {path}");
            return CliApp.Ok;
        });
        var cmd = new Command("fake", "Generate sample data.");
        cmd.Subcommands.Add(users);
        return cmd;
    }
}
