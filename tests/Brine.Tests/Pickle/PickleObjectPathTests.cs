using Brine.Formats.Pickle;
using Brine.Model;
using Brine.Objects;
using Xunit;

namespace Brine.Tests.Pickle;

/// <summary>The direct objects → pickle path must write exactly the bytes of the token path (ObjectTokenReader → PickleWriter).</summary>
public class PickleObjectPathTests
{
    public enum Mood { Calm, Busy }

    public sealed class Rec
    {
        public long Id { get; set; }
        public string? Name { get; set; }
        public DateTime At { get; set; }
        public Mood Mood { get; set; }
        public object? Extra { get; set; }
        public List<Rec>? Children { get; set; }
        public Rec? Parent { get; set; }
    }

    public sealed class One { public int Value { get; set; } }

    /// <summary>Scalar members only: written a whole record at a time once its class and keys are memoized.</summary>
    public sealed class Flat
    {
        public long Id { get; set; }
        public int Small { get; set; }
        public string? Name { get; set; }
        public double Score { get; set; }
        public bool Ok { get; set; }
        public DateTime At { get; set; }
    }
    public sealed class Empty { }

    /// <summary>References only: written a record at a time when its references are all to objects already written.</summary>
    public sealed class Member
    {
        public long Id { get; set; }
        public string Name { get; set; } = "";
        public Member? Manager { get; set; }
        public List<Member> Reports { get; set; } = new();
        public List<Member?> Friends { get; set; } = new();
        public object? Extra { get; set; }
    }

    /// <summary>Arrays and lists of references as members (read without interface calls on the record path).</summary>
    public sealed class Team
    {
        public long Id { get; set; }
        public Member? Lead { get; set; }
        public Member[] Members { get; set; } = [];
        public object?[] Misc { get; set; } = [];
        public List<string> Tags { get; set; } = new();
    }

    static readonly ObjectOptions Options = new()
    {
        Types = TypePolicy.Default.Allow<Rec>("models.Rec").Allow<One>("models.One").Allow<Empty>("models.Empty").Allow<Flat>("models.Flat").Allow<Member>("models.Member").Allow<Team>("models.Team"),
        Naming = MemberNaming.SnakeCase,
    };

    static byte[] TokenPath(object? value, int protocol)
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, leaveOpen: true, protocol: protocol))
        {
            using var r = new ObjectTokenReader(value, Options);
            TokenPump.Copy(r, w);
            w.Finish();
        }
        return ms.ToArray();
    }

    static byte[] DirectPath(object? value, int protocol)
    {
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, leaveOpen: true, protocol: protocol))
        {
            ObjectWriter.Write(w, value, Options);
            w.Finish();
        }
        return ms.ToArray();
    }

    public static TheoryData<string> Cases => new() { "users", "graph", "scalars", "big", "empty", "fallback", "flat", "late-fallback", "org", "arrays" };

    /// <summary>An org chart in preorder (managers are written before their reports) with friends among those before.</summary>
    static List<Member> Org(int n)
    {
        var people = Enumerable.Range(0, n).Select(i => new Member { Id = i, Name = "P" + i }).ToList();
        for (int i = 1; i < n; i++)
        {
            var m = people[(i - 1) / 4];
            people[i].Manager = m;
            m.Reports.Add(people[i]);
        }
        for (int k = 1; k < n; k++)
        {
            var p = people[k];
            switch (k % 11)
            {
                case 0: p.Friends.Add(null); p.Friends.Add(people[k / 2]); break;        // None among the items
                case 1: p.Friends = people[k - 1].Friends; break;                           // a list written before: a GET
                case 3: p.Friends.Add(people[Math.Min(n - 1, k + 7)]); break;              // an object not written yet
                case 4: p.Extra = p.Friends; p.Friends.Add(people[0]); break;              // the same new list twice
                case 5: p.Extra = "text"; break;                                            // a string where object is declared
                case 6: p.Extra = 42L; break;                                               // a box
                case 7: p.Extra = p; break;                                                 // itself
                default: for (int t = 0; t < k % 4; t++) p.Friends.Add(people[(k * 7 + t) % k]); break;
            }
        }
        people[5].Friends = Enumerable.Range(0, 1200).Select(i => (Member?)people[i % 5]).ToList();   // a long list
        return people;
    }

    static List<object?> FlatRecords(int n)
    {
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        // 300 strings first, so the class and key memo indices need LONG_BINGET.
        var list = Enumerable.Range(0, 300).Select(i => (object?)("s" + i)).ToList();
        for (int i = 0; i < n; i++)
            list.Add(new Flat
            {
                Id = i % 97 == 5 ? (long)int.MaxValue + i : i % 89 == 3 ? -i * 1000L : i * 12345L,
                Small = i % 7 == 0 ? -i : i % 300,
                Name = i % 13 == 0 ? null : i % 101 == 0 ? new string('n', 86) : i % 17 == 0 ? "é😀 " + i : "name " + i,
                Score = i % 50 == 0 ? double.NaN : i % 51 == 0 ? double.NegativeInfinity : i * 0.25,
                Ok = i % 3 == 0,
                At = i % 211 == 7 ? new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Utc).AddSeconds(i) : start.AddTicks(i * 37_123_457L),
            });
        for (int i = 0; i < 3000; i++) list.Add(new One { Value = i * 31 });
        return list;
    }

    static object? Make(string name)
    {
        var start = new DateTime(2024, 1, 1, 0, 0, 0, DateTimeKind.Unspecified);
        switch (name)
        {
            case "users":
                return Enumerable.Range(0, 2500).Select(i => new Rec { Id = i * 977L - 300, Name = "u" + i, At = start.AddSeconds(i * 37.5), Mood = (Mood)(i % 2) }).ToList();
            case "graph":
            {
                var root = new Rec { Id = 0, Name = "root", Children = new() };
                var shared = new List<Rec>();
                for (int i = 1; i < 40; i++)
                {
                    var c = new Rec { Id = i, Parent = root, Children = shared, Extra = i % 3 == 0 ? root : shared };
                    root.Children.Add(c);
                    shared.Add(c);
                }
                return new List<object?> { root, shared, root.Children, null };
            }
            case "scalars":
                return new List<object?>
                {
                    1, -1, 255, 256, 65535, 65536, int.MaxValue, (long)int.MaxValue + 1, long.MinValue, ulong.MaxValue, (short)-5, (byte)7,
                    1.5, double.NaN, 2.5f, true, false, 'x', "é ü 😀", "", 12.34m, Guid.Parse("12345678-1234-5678-1234-567812345678"),
                    new DateOnly(2024, 2, 29), new TimeOnly(13, 14, 15), TimeSpan.FromMinutes(90), new byte[] { 1, 2, 3 },
                    new DateTime(2024, 5, 6, 7, 8, 9, DateTimeKind.Utc), new DateTimeOffset(2024, 5, 6, 7, 8, 9, TimeSpan.FromHours(2)),
                    new DateTime(2024, 5, 6, 7, 8, 9, 123, DateTimeKind.Unspecified), Mood.Busy, new One { Value = 3 }, new Empty(),
                    new long[] { 1, 2 }, new string[0], new List<int> { 42 },
                };
            case "big":
                return new List<object?> { new string('a', 70_000), new string('é', 200), Enumerable.Range(0, 3001).Cast<object?>().ToList(), Enumerable.Range(0, 1000).ToArray(), new byte[100_000] };
            case "empty":
                return new List<Rec>();
            case "flat":
                return FlatRecords(20_000);
            case "late-fallback":
            {
                // More than a megabyte written before the set that makes the direct path give up.
                var list = FlatRecords(30_000);
                list.Add(new HashSet<int> { 1 });
                return list;
            }
            case "org":
            {
                var org = Org(5000);
                return new List<object?> { org[0], org, org[3].Friends };
            }
            case "arrays":
            {
                var org = Org(300);
                var teams = Enumerable.Range(0, 200).Select(i => new Team
                {
                    Id = i, Lead = i % 7 == 0 ? null : org[i % 50],
                    Members = org.Skip(i % 40).Take(i % 5).ToArray(),
                    Misc = i % 3 == 0 ? [org[1], null, org[2]] : i % 3 == 1 ? ["x", 1] : [],
                    Tags = i % 2 == 0 ? new List<string> { "a" } : new(),
                }).ToArray();
                return new object?[] { org, teams, teams[0].Members, teams[3].Misc };
            }
            case "fallback":
                return new List<object?> { new Rec { Extra = new Dictionary<string, int> { ["a"] = 1 } }, new HashSet<int> { 1 } };
        }
        throw new ArgumentException(name);
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Direct_path_writes_the_token_paths_bytes(string name)
    {
        foreach (var protocol in new[] { 2, 4, 5 })
        {
            var expected = TokenPath(Make(name), protocol);
            var actual = DirectPath(Make(name), protocol);
            Assert.True(expected.AsSpan().SequenceEqual(actual), $"{name}, protocol {protocol}: {expected.Length} vs {actual.Length} bytes, first difference at {expected.AsSpan().CommonPrefixLength(actual)}");
        }
    }

    [Theory]
    [InlineData("flat")]
    [InlineData("late-fallback")]
    [InlineData("fallback")]
    public void Direct_path_to_a_forward_only_stream_writes_the_same_bytes(string name)
    {
        var expected = TokenPath(Make(name), 4);
        var ms = new MemoryStream();
        using (var w = new PickleWriter(new Brine.Tests.MessagePack.BinaryCodec.ForwardOnlyStream(ms), leaveOpen: true))
        {
            ObjectWriter.Write(w, Make(name), Options);
            w.Finish();
        }
        Assert.True(expected.AsSpan().SequenceEqual(ms.ToArray()), $"{name}: {expected.Length} vs {ms.Length} bytes");
    }

    [Fact]
    public void A_fallback_after_earlier_pickles_keeps_them()
    {
        // Two values in one stream: the second gives up after writing (and flushing) part of itself.
        var ms = new MemoryStream();
        using (var w = new PickleWriter(ms, leaveOpen: true))
        {
            ObjectWriter.Write(w, Make("flat"), Options);
            ObjectWriter.Write(w, Make("late-fallback"), Options);
            w.Finish();
        }
        var expected = TokenPath(Make("flat"), 4).Concat(TokenPath(Make("late-fallback"), 4)).ToArray();
        Assert.True(expected.AsSpan().SequenceEqual(ms.ToArray()));
    }

    [Theory]
    [InlineData("flat")]
    [InlineData("late-fallback")]
    [InlineData("org")]
    [InlineData("empty")]
    public void ToBytes_gives_the_bytes_written_to_a_stream(string name)
    {
        var ms = new MemoryStream();
        ObjectWriter.Write(ms, new PickleFormat(), Make(name), Options);
        Assert.True(ms.ToArray().AsSpan().SequenceEqual(ObjectWriter.ToBytes(new PickleFormat(), Make(name), Options)));
        // Any format: JSON through the token path.
        var json = new MemoryStream();
        ObjectWriter.Write(json, new Brine.Formats.Json.JsonFormat(), Make("users"), Options);
        Assert.Equal(json.ToArray(), ObjectWriter.ToBytes(new Brine.Formats.Json.JsonFormat(), Make("users"), Options));
    }

    [Fact]
    public void An_error_after_a_megabyte_leaves_the_output_as_it_was()
    {
        // A type neither path can write, after more than a megabyte the direct path has already passed to the stream.
        var list = FlatRecords(30_000);
        list.Add(new int[2, 2]);
        var ms = new MemoryStream();
        ms.Write([1, 2, 3]);
        using var w = new PickleWriter(ms, leaveOpen: true);
        var direct = Assert.ThrowsAny<Exception>(() => ObjectWriter.Write(w, list, Options));
        Assert.Equal([1, 2, 3], ms.ToArray());
        var token = Assert.ThrowsAny<Exception>(() => TokenPath(list, 4));
        Assert.Equal(token.GetType(), direct.GetType());
    }

    [Fact]
    public void A_cycle_through_objects_reads_back()
    {
        var root = new Rec { Name = "root", Children = new() };
        for (int i = 0; i < 3; i++) root.Children.Add(new Rec { Id = i, Parent = root, Children = root.Children });
        var bytes = DirectPath(new List<Rec> { root, root.Children[1] }, 4);
        var back = ObjectReader.ReadFrom<List<Rec>>(new MemoryStream(bytes), new PickleFormat(), Options)!;
        Assert.Same(back[0], back[0].Children![0].Parent);
        Assert.Same(back[0].Children, back[0].Children[2].Children);
        Assert.Same(back[1], back[0].Children[1]);
    }
}
