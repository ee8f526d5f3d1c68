using Brine.Model;
using Brine.Objects;
using Xunit;

namespace Brine.Tests.Objects;

/// <summary>Random object graphs (shared nodes, cycles, mixed payloads) survive the token model.</summary>
public class GraphPropertyTests
{
    internal static readonly ObjectOptions Options = new() { Types = TypePolicy.Default.Allow<GraphNode>() };

    /// <summary>A random graph of <paramref name="size"/> nodes; edges point anywhere, so sharing and cycles are common.</summary>
    /// <param name="typedScalars">Include decimals, instants and Guids in untyped payloads (formats without those kinds give them back as other kinds).</param>
    internal static GraphNode RandomGraph(Random rng, int size, bool typedScalars = true)
    {
        var nodes = new List<GraphNode>();
        for (int i = 0; i < size; i++) nodes.Add(new GraphNode { Id = i, Label = rng.Next(4) == 0 ? null : "n" + rng.Next(1000) });
        // A spanning tree from node 0 keeps every node reachable.
        for (int i = 1; i < size; i++) nodes[rng.Next(i)].Children.Add(nodes[i]);
        foreach (var n in nodes)
        {
            if (rng.Next(3) == 0) n.Parent = nodes[rng.Next(size)];
            if (rng.Next(4) == 0) n.Children.Add(nodes[rng.Next(size)]);
            if (rng.Next(4) == 0) n.ByName["k" + rng.Next(5)] = nodes[rng.Next(size)];
            n.Payload = RandomPayload(rng, nodes);
            if (!typedScalars && n.Payload is decimal or DateTimeOffset or Guid) n.Payload = n.Payload.ToString();
        }
        return nodes[0];
    }

    static object? RandomPayload(Random rng, List<GraphNode> nodes) => rng.Next(12) switch
    {
        0 => null,
        1 => (long)rng.Next(int.MinValue, int.MaxValue) * rng.Next(),
        2 => rng.NextDouble() * 1e6 - 5e5,
        3 => new string((char)('a' + rng.Next(26)), rng.Next(5)) + "ü",
        4 => rng.Next(2) == 0,
        5 => Enumerable.Range(0, rng.Next(4)).Select(_ => (object?)(long)rng.Next(100)).ToList(),
        6 => nodes[rng.Next(nodes.Count)],
        7 => new byte[] { (byte)rng.Next(256), 0, 255 },
        8 => new decimal(rng.Next(), 0, 0, rng.Next(2) == 0, (byte)rng.Next(10)),
        9 => DateTimeOffset.FromUnixTimeMilliseconds(rng.NextInt64(0, 4_000_000_000_000)),
        10 => new Guid(Enumerable.Range(0, 16).Select(_ => (byte)rng.Next(256)).ToArray()),
        _ => new Dictionary<object, object?> { ["x"] = (long)rng.Next(10) },
    };

    /// <summary>Checks that <paramref name="b"/> has the same shape, values and sharing as <paramref name="a"/> (a bijection of nodes).</summary>
    internal static void AssertIsomorphic(GraphNode a, GraphNode b)
    {
        var map = new Dictionary<GraphNode, GraphNode>(ReferenceEqualityComparer.Instance);
        var reverse = new Dictionary<GraphNode, GraphNode>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<(GraphNode, GraphNode)>();
        todo.Push((a, b));
        void Pair(GraphNode? x, GraphNode? y)
        {
            if (x is null || y is null) { Assert.True(x is null && y is null, "one side is null"); return; }
            if (map.TryGetValue(x, out var mapped)) { Assert.Same(mapped, y); return; }
            Assert.False(reverse.ContainsKey(y), $"node {y.Id} stands for two originals");
            map[x] = y; reverse[y] = x;
            todo.Push((x, y));
        }
        map[a] = b; reverse[b] = a;
        while (todo.Count > 0)
        {
            var (x, y) = todo.Pop();
            Assert.Equal(x.Id, y.Id);
            Assert.Equal(x.Label, y.Label);
            Assert.Equal(x.Children.Count, y.Children.Count);
            for (int i = 0; i < x.Children.Count; i++) Pair(x.Children[i], y.Children[i]);
            Pair(x.Parent, y.Parent);
            Assert.Equal(x.ByName.Keys.OrderBy(k => k), y.ByName.Keys.OrderBy(k => k));
            foreach (var k in x.ByName.Keys) Pair(x.ByName[k], y.ByName[k]);
            if (x.Payload is GraphNode gx) Pair(gx, Assert.IsType<GraphNode>(y.Payload));
            else if (x.Payload is Dictionary<object, object?> dx) Assert.Equal(dx, Assert.IsType<Dictionary<object, object?>>(y.Payload));
            else Assert.Equal(x.Payload, y.Payload);
        }
    }

    [Fact]
    public void Random_graphs_round_trip_through_nodes_and_tokens()
    {
        var rng = new Random(20240501);
        for (int round = 0; round < 200; round++)
        {
            var g = RandomGraph(rng, 1 + rng.Next(40));
            var node = ObjectWriter.ToNode(g, Options);
            // Node → tokens → Node → objects exercises anchors and aliases as a format would carry them.
            using var nr = new NodeReader(node);
            var rebuilt = NodeBuilder.ReadValue(nr)!;
            Assert.Null(NodeComparer.Difference(node, rebuilt));
            var copy = ObjectReader.FromNode<GraphNode>(rebuilt, Options)!;
            AssertIsomorphic(g, copy);
            // Objects straight to objects.
            AssertIsomorphic(g, new ObjectReader(Options).Read<GraphNode>(new ObjectTokenReader(g, Options))!);
        }
    }

    [Fact]
    public void Several_values_make_several_documents()
    {
        var r = ObjectTokenReader.Many([new Point(1, 2), "x", new List<int> { 3 }]);
        var nodes = NodeBuilder.ReadAll(r);
        Assert.Equal(3, nodes.Count);
        Assert.Equal(new Point(1, 2), ObjectReader.FromNode<Point>(nodes[0]));
        var reader = new ObjectReader();
        var all = reader.ReadAll<object>(new NodeReader(nodes.Skip(1))).ToList();
        Assert.Equal(["x", new List<object?> { 3L }], all);
    }
}
