using System.CommandLine;
using Brine.Cli.Commands;
using Brine.Model;

namespace Brine.Cli;

/// <summary>
/// The `brine` command. Parses arguments and renders output; every capability lives in the library.
/// Exit codes: 0 success, 2 bad input or usage (one line on stderr), 1 anything else.
/// </summary>
public static class CliApp
{
    public const int Ok = 0, Failure = 1, BadInput = 2;

    public static int Run(string[] args)
    {
        // A plain command named `brine` (RootCommand would name itself after the assembly, Brine.Cli).
        var root = new Command("brine", "Brine: convert, inspect and snapshot data in every serialization format through one data model.")
        {
            new System.CommandLine.Help.HelpOption(),
            new VersionOption(),
        };
        root.Subcommands.Add(ConvertCommand.Create());
        root.Subcommands.Add(InspectCommand.Create());
        root.Subcommands.Add(FormatsCommand.Create());
        root.Subcommands.Add(FakeCommand.Create());
        root.Subcommands.Add(ShelfCommand.Create());
        root.Subcommands.Add(SignCommands.CreateSign());
        root.Subcommands.Add(SignCommands.CreateVerify());

        // No arguments: show what the tool can do rather than an error.
        var parse = root.Parse(args.Length == 0 ? new[] { "--help" } : ShelfCommand.Reorder(args));
        if (parse.Errors.Count > 0)
        {
            foreach (var e in parse.Errors) Console.Error.WriteLine("brine: " + e.Message);
            Console.Error.WriteLine("Try 'brine --help'.");
            return BadInput;
        }
        try
        {
            return parse.Invoke(new InvocationConfiguration { EnableDefaultExceptionHandler = false });
        }
        catch (Exception e)
        {
            return Report(e);
        }
    }

    /// <summary>One clear line on stderr, no stack trace; the exit code says whether the input was at fault.</summary>
    public static int Report(Exception e)
    {
        switch (e)
        {
            case BrineException be:
                Console.Error.WriteLine("brine: " + be.Message);
                return BadInput;
            case FileNotFoundException or DirectoryNotFoundException or UnauthorizedAccessException:
                Console.Error.WriteLine("brine: " + e.Message);
                return BadInput;
            default:
                Console.Error.WriteLine($"brine: internal error: {e.GetType().Name}: {e.Message}");
                if (Environment.GetEnvironmentVariable("BRINE_DEBUG") == "1") Console.Error.WriteLine(e);
                return Failure;
        }
    }
}
