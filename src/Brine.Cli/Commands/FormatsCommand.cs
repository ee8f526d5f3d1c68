using System.CommandLine;
using Brine.Formats;
using Spectre.Console;

namespace Brine.Cli.Commands;

public static class FormatsCommand
{
    public static Command Create()
    {
        var markdown = new Option<bool>("--markdown") { Description = "Print the table as Markdown (for docs)" };
        var cmd = new Command("formats", "List the formats Brine reads and writes, with what each can carry.") { markdown };
        cmd.SetAction(parse =>
        {
            var formats = FormatRegistry.Default.All;
            // Redirected output gets Markdown: a box table squeezed to 80 columns helps no one.
            if (parse.GetValue(markdown) || Console.IsOutputRedirected) { Console.Write(Markdown(formats)); return CliApp.Ok; }
            var table = new Table().Border(TableBorder.Rounded);
            foreach (var h in new[] { "format", "extensions", "text/binary", "schema", "references", "types/tags", "bytes", "shape", "read/write" })
                table.AddColumn(h);
            foreach (var f in formats)
            {
                var c = f.Capabilities;
                table.AddRow(Markup.Escape(f.Name), Markup.Escape(string.Join(" ", f.Extensions)), c.Binary ? "binary" : "text",
                    Markup.Escape(c.Schema), Markup.Escape(c.ReferencesText), Markup.Escape(c.TypesText), Markup.Escape(c.BytesText), Markup.Escape(c.Shape),
                    (f.CanRead ? "r" : "-") + (f.CanWrite ? "w" : "-"));
            }
            AnsiConsole.Write(table);
            return CliApp.Ok;
        });
        return cmd;
    }

    public static string Markdown(IEnumerable<Format> formats)
    {
        var sb = new System.Text.StringBuilder();
        sb.AppendLine("| format | extensions | text/binary | schema | references | types/tags | bytes | shape | losses |");
        sb.AppendLine("| --- | --- | --- | --- | --- | --- | --- | --- | --- |");
        foreach (var f in formats)
        {
            var c = f.Capabilities;
            sb.AppendLine($"| {f.Title} (`{f.Name}`) | {string.Join(" ", f.Extensions)} | {(c.Binary ? "binary" : "text")} | {c.Schema} | {c.ReferencesText} | {c.TypesText} | {c.BytesText} | {c.Shape} | {c.Losses} |");
        }
        return sb.ToString();
    }
}
