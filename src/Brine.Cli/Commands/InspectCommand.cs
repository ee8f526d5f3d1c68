using System.CommandLine;
using Brine.Inspection;
using Spectre.Console;

namespace Brine.Cli.Commands;

public static class InspectCommand
{
    public static Command Create()
    {
        var file = new Argument<string>("FILE") { Description = "The file to inspect" };
        var from = new Option<string?>("--from", "-f") { Description = "The format (default: from the extension, then the content)" };
        var hex = new Option<int>("--hex") { Description = "Bytes of the hex view for binary formats (0 for none)", DefaultValueFactory = _ => 256 };
        var lines = new Option<int>("--lines") { Description = "Lines of the pickle disassembly to show (0 for all)", DefaultValueFactory = _ => 200 };
        var cmd = new Command("inspect", "Show a file's format, size and structure (shape, depth, counts, anchors, tags), a pickle's disassembly (like python -m pickletools), and a hex view of binary formats.") { file, from, hex, lines };
        cmd.SetAction(parse =>
        {
            var path = parse.GetValue(file)!;
            if (!File.Exists(path)) throw new Model.BrineUsageException($"file not found: {path}");
            var format = Conversion.Converter.ResolveInput(path, parse.GetValue(from), Head(path));
            if (format is Tabular.ITableFormat)
            {
                // Tables: schema, rows, row groups with sizes, compression and statistics, read from metadata.
                Console.WriteLine($"file: {path}");
                Console.Write(Tabular.TableInspector.Render(Tabular.TableInspector.Describe(path, format.Name)));
                return CliApp.Ok;
            }
            var s = StructureSummary.Inspect(path, format.Name);
            var grid = new Grid().AddColumn().AddColumn();
            void Row(string k, string v) => grid.AddRow("[bold]" + Markup.Escape(k) + "[/]", Markup.Escape(v));
            Row("file", path);
            Row("format", $"{s.Format.Title} ({s.Format.Name})");
            Row("size", $"{s.SizeBytes:N0} bytes");
            Row("values", $"{s.Values:N0} top-level value(s)");
            Row("shape", s.TopLevelShape switch
            {
                "map" => $"map of {s.TopLevelCount:N0} entries" + (s.TopLevelKeys.Count > 0 ? ": " + string.Join(", ", s.TopLevelKeys) : ""),
                "list" => $"list of {s.TopLevelCount:N0} items",
                var k => k,
            });
            Row("depth", s.MaxDepth.ToString("N0"));
            Row("containers", $"{s.Maps:N0} maps, {s.Lists:N0} lists");
            Row("scalars", $"{s.Scalars:N0}" + (s.ScalarKinds.Count > 0 ? " (" + string.Join(", ", s.ScalarKinds.OrderByDescending(p => p.Value).Select(p => $"{p.Key.ToString().ToLowerInvariant()} {p.Value:N0}")) + ")" : ""));
            Row("references", $"{s.Anchors:N0} anchors, {s.Aliases:N0} aliases");
            if (s.Tags.Count > 0) Row("tags", string.Join(", ", s.Tags.OrderByDescending(p => p.Value).Take(10).Select(p => $"{p.Key} ×{p.Value:N0}")));
            AnsiConsole.Write(grid);
            if (s.Format is Formats.Pickle.PickleFormat) PrintDisassembly(path, parse.GetValue(lines));
            int hexBytes = parse.GetValue(hex);
            if (s.Format.Capabilities.Binary && hexBytes > 0)
            {
                using var f = File.OpenRead(path);
                var buf = new byte[Math.Min(hexBytes, f.Length)];
                f.ReadExactly(buf);
                Console.WriteLine();
                Console.WriteLine($"first {buf.Length} bytes:");
                // Beside each line, the tokens that start in it, for readers that report byte offsets.
                List<(long, string)>? notes = null;
                if (s.Format is not Formats.Pickle.PickleFormat)
                {
                    try
                    {
                        f.Position = 0;
                        using var r = s.Format.CreateReader(f, Formats.ReadOptions.Default);
                        notes = TokenOffsets.Collect(r, buf.Length);
                    }
                    catch (Model.BrineException) { notes = null; }
                }
                Console.Write(HexDump.Format(buf, 0, notes is { Count: > 0 } ? notes : null));
            }
            return CliApp.Ok;
        });
        return cmd;
    }

    static byte[] Head(string path)
    {
        using var f = File.OpenRead(path);
        return IO.PeekableInput.Open(f).head;
    }

    static void PrintDisassembly(string path, int maxLines)
    {
        var text = new StringWriter();
        using (var f = File.OpenRead(path)) Formats.Pickle.PickleDisassembler.Disassemble(f, text);
        var all = text.ToString().Split('\n');
        Console.WriteLine();
        Console.WriteLine("disassembly:");
        int shown = maxLines <= 0 ? all.Length : Math.Min(maxLines, all.Length);
        for (int i = 0; i < shown; i++) Console.WriteLine(all[i]);
        if (shown < all.Length) Console.WriteLine($"… {all.Length - shown:N0} more lines (--lines 0 shows all)");
    }
}
