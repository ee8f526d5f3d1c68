using System.CommandLine;
using Brine.Conversion;
using Brine.IO;
using Brine.Model;

namespace Brine.Cli.Commands;

/// <summary><c>brine shelf FILE list|get|set|delete</c>: a persistent dictionary Python's shelve can share.</summary>
public static class ShelfCommand
{
    public static Command Create()
    {
        var cmd = new Command("shelf", "brine shelf FILE list|get KEY|set KEY VALUEFILE|delete KEY — a persistent dictionary of string keys to values in SQLite, laid out as Python 3.13's dbm.sqlite3 with pickled values, so Python's shelve can share the file.");

        var listFile = new Argument<string>("FILE") { Description = "The shelf file (SQLite)" };
        var list = new Command("list", "Print the keys, one a line.") { listFile };
        list.SetAction(p =>
        {
            using var shelf = Shelf.Shelf.Open(Existing(p.GetValue(listFile)!), new Shelf.ShelfOptions { ReadOnly = true });
            foreach (var k in shelf.List()) Console.WriteLine(k);
            return CliApp.Ok;
        });

        var getFile = new Argument<string>("FILE") { Description = "The shelf file (SQLite)" };
        var getKey = new Argument<string>("KEY") { Description = "The key" };
        var getTo = new Option<string>("--to", "-t") { Description = "Output format (default json)", DefaultValueFactory = _ => "json" };
        var getOut = new Option<string?>("--output", "-o") { Description = "Write to this file instead of standard output" };
        var get = new Command("get", "Print the value of KEY (as JSON unless --to names another format).") { getFile, getKey, getTo, getOut };
        get.SetAction(p =>
        {
            var key = p.GetValue(getKey)!;
            using var shelf = Shelf.Shelf.Open(Existing(p.GetValue(getFile)!), new Shelf.ShelfOptions { ReadOnly = true });
            var value = shelf.Get(key) ?? throw new BrineUsageException($"key not found: '{key}'");
            var format = Converter.Registry.GetByName(p.GetValue(getTo)!);
            var path = p.GetValue(getOut);
            var options = new Formats.WriteOptions { KeepReferences = true };
            if (path is null)
            {
                using var stdout = Console.OpenStandardOutput();
                Converter.WriteNodes(stdout, format, new[] { value }, options);
            }
            else
            {
                using var file = new AtomicFile(path);
                Converter.WriteNodes(file.Stream, format, new[] { value }, options);
                file.Commit();
            }
            return CliApp.Ok;
        });

        var setFile = new Argument<string>("FILE") { Description = "The shelf file (SQLite; created if missing)" };
        var setKey = new Argument<string>("KEY") { Description = "The key" };
        var setValue = new Argument<string>("VALUEFILE") { Description = "A file holding the value, in any format Brine reads (by its extension or content)" };
        var setFrom = new Option<string?>("--from", "-f") { Description = "The value file's format" };
        var set = new Command("set", "Store the value read from VALUEFILE under KEY.") { setFile, setKey, setValue, setFrom };
        set.SetAction(p =>
        {
            var values = Converter.ReadNodes(Existing(p.GetValue(setValue)!), p.GetValue(setFrom));
            if (values.Count != 1) throw new BrineUsageException($"{p.GetValue(setValue)} holds {values.Count} values; a shelf entry takes one");
            using var shelf = Shelf.Shelf.Open(p.GetValue(setFile)!);
            shelf.Set(p.GetValue(setKey)!, values[0]);
            return CliApp.Ok;
        });

        var delFile = new Argument<string>("FILE") { Description = "The shelf file (SQLite)" };
        var delKey = new Argument<string>("KEY") { Description = "The key" };
        var delete = new Command("delete", "Remove KEY.") { delFile, delKey };
        delete.SetAction(p =>
        {
            var key = p.GetValue(delKey)!;
            using var shelf = Shelf.Shelf.Open(Existing(p.GetValue(delFile)!));
            if (!shelf.Delete(key)) throw new BrineUsageException($"key not found: '{key}'");
            return CliApp.Ok;
        });

        cmd.Subcommands.Add(list);
        cmd.Subcommands.Add(get);
        cmd.Subcommands.Add(set);
        cmd.Subcommands.Add(delete);
        return cmd;
    }

    static readonly string[] Actions = { "list", "get", "set", "delete" };

    /// <summary>
    /// Accepts the documented order <c>brine shelf FILE ACTION …</c> by moving the action first, as the parser expects
    /// (<c>brine shelf ACTION FILE …</c> works too).
    /// </summary>
    public static string[] Reorder(string[] args)
    {
        if (args.Length >= 3 && args[0] == "shelf" && !Actions.Contains(args[1]) && Actions.Contains(args[2]))
            return new[] { "shelf", args[2], args[1] }.Concat(args[3..]).ToArray();
        return args;
    }

    static string Existing(string path) => File.Exists(path) ? path : throw new BrineUsageException($"file not found: {path}");
}
