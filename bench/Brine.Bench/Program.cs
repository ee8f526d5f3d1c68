using Brine.Bench;

// Each suite measures Brine beside its anchors in the same run and writes a Markdown table to bench/results/.
// Usage: dotnet run -c Release --project bench/Brine.Bench -- SUITE [options]
var suites = new Dictionary<string, Func<string[], int>>(StringComparer.OrdinalIgnoreCase)
{
    // One line per suite.
    ["convert"] = ConvertBench.Run,
    ["msgpack"] = BinaryTreeFormatsBench.Run,
    ["xmlbson"] = XmlBsonBench.Run,
    ["tabular"] = TabularBench.Run,
    ["json"] = Brine.Bench.JsonSuite.Run,
    ["avro"] = AvroBench.Run,
    ["snapshot"] = SnapshotBench.Run,
};
if (args.Length == 0 || !suites.TryGetValue(args[0], out var run))
{
    Console.Error.WriteLine($"usage: Brine.Bench SUITE [options]; suites: {string.Join(", ", suites.Keys)}");
    return 2;
}
return run(args[1..]);
