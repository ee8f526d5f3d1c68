using System.CommandLine;
using Brine.Conversion;
using Brine.Model;

namespace Brine.Cli.Commands;

public static class ConvertCommand
{
    public static Command Create()
    {
        var input = new Argument<string>("INPUT") { Description = "Input file, or - for standard input" };
        var output = new Argument<string>("OUTPUT") { Description = "Output file, or - for standard output" };
        var from = new Option<string?>("--from", "-f") { Description = "Input format (default: from the extension, then the content)" };
        var to = new Option<string?>("--to", "-t") { Description = "Output format (default: from the extension)" };
        var refs = new Option<string>("--refs") { Description = "Shared references: keep (target's convention: YAML anchors, pickle memo, JSON py/id, XML id/ref) or expand (write copies; a cycle is an error). Default: keep where the target has native references, expand elsewhere", DefaultValueFactory = _ => "auto" };
        refs.AcceptOnlyFromAmong("auto", "keep", "expand");
        var compact = new Option<bool>("--compact") { Description = "No indentation in text output" };
        var settings = new Option<string[]>("--set", "-s") { Description = "A format setting NAME=VALUE (repeatable), e.g. --set protocol=5, --set compression=zstd", AllowMultipleArgumentsPerToken = false };
        var schema = new Option<string?>("--schema") { Description = "A schema file the formats use (Avro schema for tables, reader schema for Avro)" };
        var where = new Option<string?>("--where", "-w") { Description = "Keep only the records (rows, or items of a top-level list) matching EXPR: = != < <= > >=, IN (…), IS [NOT] NULL, AND, OR, NOT, parentheses; e.g. \"language = 'fr' AND id < 100\". Pushed down into Parquet" };
        var select = new Option<string?>("--select") { Description = "Keep only these columns, comma-separated (e.g. id,name)" };

        var cmd = new Command("convert", "Convert INPUT to OUTPUT, detecting formats from extensions or content.")
        {
            input, output, from, to, refs, compact, settings, schema, where, select,
        };
        cmd.SetAction(parse =>
        {
            var options = new ConvertOptions
            {
                From = parse.GetValue(from),
                To = parse.GetValue(to),
                Refs = parse.GetValue(refs) switch { "keep" => RefsMode.Keep, "expand" => RefsMode.Expand, _ => RefsMode.Auto },
                Indent = !parse.GetValue(compact),
                Settings = ParseSettings(parse.GetValue(settings)),
                SchemaPath = parse.GetValue(schema),
                Where = parse.GetValue(where),
                Select = parse.GetValue(select)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Progress = new IO.ConversionProgress(),
            };
            var inPath = parse.GetValue(input)!;
            var outPath = parse.GetValue(output)!;
            ConvertResult result;
            using (ProgressDisplay.Start(options.Progress, "converting"))
                result = Converter.Convert(inPath, outPath, options);
            if (outPath != "-" && !Console.IsErrorRedirected)
                Console.Error.WriteLine($"{result.From.Name} → {result.To.Name}: {result.Values:N0} value(s) written to {outPath}");
            return CliApp.Ok;
        });
        return cmd;
    }

    public static Dictionary<string, string> ParseSettings(string[]? values)
    {
        var d = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
        foreach (var v in values ?? Array.Empty<string>())
        {
            int eq = v.IndexOf('=');
            if (eq <= 0) throw new BrineUsageException($"--set expects NAME=VALUE, got '{v}'");
            d[v[..eq].Trim()] = v[(eq + 1)..].Trim();
        }
        return d;
    }
}
