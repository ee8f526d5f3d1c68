using System.Numerics;
using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>
/// Reads Python pickles (protocols 0–5) as Brine tokens. Pickle is a stack machine, so each pickle is first run
/// into a <see cref="Node"/> graph by <see cref="PickleLoader"/> (no code runs, no recursion), then emitted.
/// Objects reached more than once (the memo) get an anchor named after their memo index (<c>m3</c>) the first
/// time and are aliases after. A stream of several pickles (as <c>pickle.dump</c> called repeatedly writes) gives
/// several top-level values.
/// </summary>
public sealed class PickleReader : TokenReader
{
    readonly PickleLoader _loader;
    readonly Stream _input;
    readonly bool _leaveOpen;
    readonly Stack<(Node node, int index, bool key)> _stack = new();
    readonly Dictionary<Node, string> _anchorOf = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<Node> _emitted = new(ReferenceEqualityComparer.Instance);
    bool _inValue;

    /// <param name="buffers">The out-of-band buffers of a protocol 5 pickle, in order (what Python's <c>pickle.loads(…, buffers=…)</c> takes).</param>
    public PickleReader(Stream input, ReadOptions? options = null, IReadOnlyList<ReadOnlyMemory<byte>>? buffers = null, bool leaveOpen = false)
    {
        _input = input;
        _leaveOpen = leaveOpen;
        _loader = new PickleLoader(input, options ?? ReadOptions.Default, buffers);
    }

    public override string FormatName => "pickle";
    public override string Location => $"byte {(_inValue ? _loader.StartOffset : _loader.Position)}";

    public override bool Read()
    {
        ResetNodeInfo();
        if (_stack.Count == 0)
        {
            // Between values: run the next pickle of the stream.
            _inValue = false;
            var root = _loader.LoadNext();
            if (root is null) { Kind = TokenKind.None; return false; }
            _inValue = true;
            FindShared(root);
            Emit(root);
            return true;
        }
        var (node, index, key) = _stack.Pop();
        if (node.IsList)
        {
            if (index >= node.Items!.Count) { Kind = TokenKind.EndList; return true; }
            _stack.Push((node, index + 1, false));
            Emit(node.Items[index]);
            return true;
        }
        if (index >= node.Entries!.Count) { Kind = TokenKind.EndMap; return true; }
        if (key) { _stack.Push((node, index, false)); Emit(node.Entries[index].Key); }
        else { _stack.Push((node, index + 1, true)); Emit(node.Entries[index].Value); }
        return true;
    }

    internal override bool TryTakeNode(out Node? value)
    {
        value = null;
        if (_stack.Count != 0) return false;
        ResetNodeInfo();
        _inValue = false;
        var root = _loader.LoadNext(nameShared: false);
        if (root is null) { Kind = TokenKind.None; return true; }
        _inValue = true;
        // As after the value's last token.
        Kind = root.IsList ? TokenKind.EndList : root.IsMap ? TokenKind.EndMap : root.Kind;
        value = root;
        return true;
    }

    void Emit(Node n)
    {
        if (_fewAnchored is { } few)
        {
            // A few anchored nodes (a record's shared keys): found and marked by position, no hashing per node.
            int at = IndexInFew(few, n);
            if (at >= 0)
            {
                if (_fewEmitted[at]) { Kind = TokenKind.Alias; StringValue = _fewNames[at]; return; }
                _fewEmitted[at] = true;
                Anchor = _fewNames[at];
            }
        }
        else if (_anchorOf.TryGetValue(n, out var anchor))
        {
            if (!_emitted.Add(n)) { Kind = TokenKind.Alias; StringValue = anchor; return; }
            Anchor = anchor;
        }
        Tag = n.Tag;
        Kind = n.Kind;
        switch (n.Kind)
        {
            case TokenKind.StartList: Count = n.Items!.Count; _stack.Push((n, 0, false)); break;
            case TokenKind.StartMap: Count = n.Entries!.Count; _stack.Push((n, 0, true)); break;
            default: LoadScalar(n); break;
        }
    }

    /// <summary>
    /// Pickles with at least this many bytes before the end of a seekable stream are walked first for the memo entries
    /// their GETs name, and the others are not kept (tests set 0 or <see cref="long.MaxValue"/> to compare both).
    /// </summary>
    internal long MemoScanFromBytes { get => _loader.ScanFromBytes; set => _loader.ScanFromBytes = value; }
    /// <summary>How many pickles were run again keeping every memo entry (a GET named an entry the walk left out).</summary>
    internal int MemoReruns => _loader.Reruns;

    /// <summary>Whether <see cref="Brine.Objects.ObjectReader"/> may use the direct path (tests turn it off to compare with the Node path).</summary>
    internal bool DirectObjects { get; set; } = true;
    /// <summary>How many values the direct path has read (tests check which path ran).</summary>
    internal int DirectLoads { get; private set; }
    /// <summary>How many records the direct path parsed whole (<see cref="PickleObjectLoader.Records"/>).</summary>
    internal long DirectRecords { get; private set; }

    /// <summary>
    /// Reads the next pickle straight into CLR objects (<see cref="PickleObjectLoader"/>) when it can: between
    /// values, on a seekable stream. False (the input rewound to the pickle's start) when the caller must read it
    /// through tokens instead: the direct path does not cover it, or the stream is at its end.
    /// </summary>
    internal bool TryReadObject(Type type, Brine.Objects.ObjectOptions options, Func<Type, Brine.Objects.TypeShape> shapeOf, out object? value)
    {
        value = null;
        var input = _loader.Input;
        if (!DirectObjects || _stack.Count != 0 || !input.CanRewind || _loader.HasBuffers || input.AtEnd) return false;
        long start = input.Position;
        try
        {
            long left = input.Remaining;
            // Which memo entries a GET names: the loader keeps only those (a walk of the bytes, then back to the start).
            var named = MemoReferenceScan.Scan(input, left);
            input.Rewind(start);
            var loader = new PickleObjectLoader(input, _loader.Options, options, shapeOf, left, named);
            value = loader.Load(type);
            DirectLoads++;
            DirectRecords += loader.Records;
            return true;
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Anything the direct path meets that it does not cover, or any error: the Node path reruns the pickle
            // from its start and gives the result or the error it always gave.
            input.Rewind(start);
            return false;
        }
    }

    /// <summary>Gives an anchor to every node the graph reaches more than once, named after its memo index.</summary>
    void FindShared(Node root)
    {
        _anchorOf.Clear(); _emitted.Clear(); _fewAnchored = [];
        // Only nodes the loader saw a second reference made to can be reached twice; every other node is reached
        // once, so cycles too pass through those, and only they need to be remembered.
        var maybe = _loader.MaybeShared;
        if (maybe.Count == 0) return;
        var few = maybe.Count <= 8 ? maybe.ToArray() : null;
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var shared = new List<Node>();
        var sharedSet = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<Node>();
        todo.Push(root);
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            if ((few is null ? maybe.Contains(n) : InFew(few, n)) && !seen.Add(n))
            {
                if (sharedSet.Add(n)) shared.Add(n);
                continue;
            }
            if (n.Items is { } items) for (int i = items.Count - 1; i >= 0; i--) todo.Push(items[i]);
            else if (n.Entries is { } entries) for (int i = entries.Count - 1; i >= 0; i--) { todo.Push(entries[i].Value); todo.Push(entries[i].Key); }
        }
        _loader.NameByMemo(sharedSet, _anchorOf);
        // Shared nodes the memo never held (DUP) are numbered in the order they were found shared.
        int unnamed = 0;
        foreach (var n in shared) if (!_anchorOf.ContainsKey(n)) _anchorOf[n] = "n" + ++unnamed;
        _fewAnchored = _anchorOf.Count <= 8 ? _anchorOf.Keys.ToArray() : null;
        if (_fewAnchored is not null)
        {
            _fewNames = _fewAnchored.Select(k => _anchorOf[k]).ToArray();
            _fewEmitted = new bool[_fewAnchored.Length];
        }
    }

    /// <summary>The anchored nodes when they are few (compared by reference, not hashed per node), else null.</summary>
    Node[]? _fewAnchored = [];

    /// <summary>The anchor names of <see cref="_fewAnchored"/>, and whether each node was emitted yet.</summary>
    string[] _fewNames = [];
    bool[] _fewEmitted = [];

    internal static bool InFew(Node[] few, Node n) => IndexInFew(few, n) >= 0;

    static int IndexInFew(Node[] few, Node n)
    {
        for (int i = 0; i < few.Length; i++) if (ReferenceEquals(few[i], n)) return i;
        return -1;
    }

    public override void Dispose()
    {
        if (!_leaveOpen) _input.Dispose();
        base.Dispose();
    }
}
