using System.Numerics;
using System.Runtime.CompilerServices;

namespace Brine.Model;

/// <summary>
/// Produces the token stream of one or more <see cref="Node"/> graphs. A node reached more than once gets
/// an anchor (<c>id1</c>, <c>id2</c> … unless <paramref name="anchorNames"/> names it) and later visits become
/// aliases, so shared references and cycles survive. No recursion.
/// </summary>
public sealed class NodeReader : TokenReader
{
    readonly IEnumerator<Node> _roots;
    readonly Dictionary<Node, string> _anchorOf = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<Node> _emitted = new(ReferenceEqualityComparer.Instance);
    readonly Stack<(Node node, int index, bool key)> _stack = new();
    readonly bool _expand;

    /// <param name="expand">When true, shared nodes are written out again at every place (a cycle is an error).</param>
    public NodeReader(Node root, bool expand = false) : this(new[] { root }, expand) { }

    public NodeReader(IEnumerable<Node> roots, bool expand = false)
    {
        _roots = roots.GetEnumerator();
        _expand = expand;
    }

    public override string FormatName => "tree";

    public override bool Read()
    {
        ResetNodeInfo();
        while (true)
        {
            if (_stack.Count == 0)
            {
                if (!_roots.MoveNext()) { Kind = TokenKind.None; return false; }
                _anchorOf.Clear(); _emitted.Clear();
                if (!_expand) FindShared(_roots.Current);
                Emit(_roots.Current);
                return true;
            }
            var (node, index, key) = _stack.Pop();
            if (node.IsList)
            {
                if (index >= node.Items!.Count) { Kind = TokenKind.EndList; _open.Remove(node); return true; }
                _stack.Push((node, index + 1, false));
                Emit(node.Items[index]);
                return true;
            }
            if (index >= node.Entries!.Count) { Kind = TokenKind.EndMap; _open.Remove(node); return true; }
            if (key) { _stack.Push((node, index, false)); Emit(node.Entries[index].Key); }
            else { _stack.Push((node, index + 1, true)); Emit(node.Entries[index].Value); }
            return true;
        }
    }

    readonly HashSet<Node> _open = new(ReferenceEqualityComparer.Instance);

    void Emit(Node n)
    {
        if (!_expand && _anchorOf.TryGetValue(n, out var anchor))
        {
            if (!_emitted.Add(n)) { Kind = TokenKind.Alias; StringValue = anchor; return; }
            Anchor = anchor;
        }
        Tag = n.Tag;
        Kind = n.Kind;
        switch (n.Kind)
        {
            case TokenKind.StartList:
                if (_expand && !_open.Add(n)) throw new BrineFormatException("tree", "", "cycle: a list contains itself; it cannot be expanded");
                Count = n.Items!.Count; _stack.Push((n, 0, false)); break;
            case TokenKind.StartMap:
                if (_expand && !_open.Add(n)) throw new BrineFormatException("tree", "", "cycle: a map contains itself; it cannot be expanded");
                Count = n.Entries!.Count; _stack.Push((n, 0, true)); break;
            default: LoadScalar(n); break;
        }
    }

    /// <summary>Marks every node reached twice (containers, and scalar nodes shared by reference).</summary>
    void FindShared(Node root)
    {
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<Node>();
        todo.Push(root);
        int next = 1;
        // Anchors are numbered in the order the writer will meet them, so output is stable.
        var order = new List<Node>();
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            if (!seen.Add(n)) { if (!_anchorOf.ContainsKey(n)) { _anchorOf[n] = ""; order.Add(n); } continue; }
            if (n.Items is { } items) for (int i = items.Count - 1; i >= 0; i--) todo.Push(items[i]);
            else if (n.Entries is { } entries) for (int i = entries.Count - 1; i >= 0; i--) { todo.Push(entries[i].Value); todo.Push(entries[i].Key); }
        }
        if (order.Count == 0) return;
        // Number in document order with a second pass.
        var visited = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        todo.Push(root);
        while (todo.Count > 0)
        {
            var n = todo.Pop();
            if (!visited.Add(n)) continue;
            if (_anchorOf.TryGetValue(n, out var a) && a.Length == 0) _anchorOf[n] = "id" + next++;
            if (n.Items is { } items) for (int i = items.Count - 1; i >= 0; i--) todo.Push(items[i]);
            else if (n.Entries is { } entries) for (int i = entries.Count - 1; i >= 0; i--) { todo.Push(entries[i].Value); todo.Push(entries[i].Key); }
        }
    }
}
