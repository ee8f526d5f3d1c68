using System.Collections;
using System.Numerics;
using System.Runtime.CompilerServices;
using Brine.Model;

namespace Brine.Objects;

/// <summary>
/// The token stream of CLR object graphs: a <see cref="TokenReader"/> over objects, so objects can be pumped into
/// any format or built into a <see cref="Node"/> tree. Objects reached more than once get an anchor (<c>id1</c>…)
/// and later visits become aliases, so shared references and cycles survive. No recursion: a linked list a
/// million nodes deep is fine.
/// </summary>
/// <remarks>
/// A first pass over each root finds shared objects and runs <c>[OnSerializing]</c> callbacks and
/// <see cref="IStateful.GetState"/> (once per object); the second pass produces tokens and runs <c>[OnSerialized]</c>
/// when an object's map ends. Strings, byte arrays and boxed values are written as values, never anchored.
/// </remarks>
public sealed class ObjectTokenReader : TokenReader
{
    sealed class Frame
    {
        public required IEnumerator<object?> Children;
        public bool IsMap;
        public bool ExpectKey;
        public object? Owner;
        public TypeShape? Shape;
    }

    readonly IEnumerator<object?> _roots;
    readonly ObjectOptions _options;
    readonly Stack<Frame> _stack = new();
    readonly Dictionary<object, string?> _shared = new(ReferenceEqualityComparer.Instance);
    readonly HashSet<object> _emitted = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<object, Node> _states = new(ReferenceEqualityComparer.Instance);
    int _nextAnchor;

    public ObjectTokenReader(object? root, ObjectOptions? options = null) : this(new[] { root }, options, 0) { }

    /// <summary>A stream of several top-level values (documents, records), one per root.</summary>
    public static ObjectTokenReader Many(IEnumerable<object?> roots, ObjectOptions? options = null) => new(roots, options, 0);

    ObjectTokenReader(IEnumerable<object?> roots, ObjectOptions? options, int _)
    {
        _roots = roots.GetEnumerator();
        _options = options ?? ObjectOptions.Default;
    }

    public override string FormatName => "objects";

    public override bool Read()
    {
        ResetNodeInfo();
        if (_stack.Count == 0)
        {
            if (!_roots.MoveNext()) { Kind = TokenKind.None; return false; }
            _shared.Clear(); _emitted.Clear(); _states.Clear(); _nextAnchor = 1;
            FindShared(_roots.Current);
            Emit(_roots.Current);
            return true;
        }
        var top = _stack.Peek();
        if (top.Children.MoveNext())
        {
            if (top.IsMap && top.ExpectKey)
            {
                top.ExpectKey = false;
                Emit(top.Children.Current);
                if (!Kind.IsScalar()) throw new BrineFormatException(FormatName, "", $"a map key must be a scalar, not {Describe(top.Children.Current)}");
                return true;
            }
            if (top.IsMap) top.ExpectKey = true;
            Emit(top.Children.Current);
            return true;
        }
        _stack.Pop();
        Kind = top.IsMap ? TokenKind.EndMap : TokenKind.EndList;
        if (top.Shape is { } s && top.Owner is { } owner) foreach (var cb in s.OnSerialized) cb(owner);
        return true;
    }

    static string Describe(object? v) => v is null ? "null" : v.GetType().ToString();

    readonly Dictionary<Type, TypeShape> _shapes = new();
    TypeShape ShapeOf(Type t)
    {
        if (!_shapes.TryGetValue(t, out var s)) _shapes[t] = s = TypeShape.Of(t, _options.Naming);
        return s;
    }

    /// <summary>Sets the current token to <paramref name="v"/>, pushing a frame for containers.</summary>
    void Emit(object? v)
    {
        if (v is null) { Kind = TokenKind.Null; return; }
        if (v is Node n) { EmitNode(n); return; }
        var type = v.GetType();
        var shape = ShapeOf(type);
        switch (shape.Kind)
        {
            case ShapeKind.Scalar: EmitScalar(v); return;
            case ShapeKind.Enum: Kind = TokenKind.String; StringValue = v.ToString(); return;
        }
        if (!type.IsValueType && _shared.TryGetValue(v, out _))
        {
            if (!_emitted.Add(v)) { Kind = TokenKind.Alias; StringValue = _shared[v]; return; }
            Anchor = _shared[v] = "id" + _nextAnchor++;
        }
        switch (shape.Kind)
        {
            case ShapeKind.Array:
            case ShapeKind.List:
                Kind = TokenKind.StartList; Count = v is ICollection c ? c.Count : -1;
                Push(((IEnumerable)v).Cast<object?>().GetEnumerator(), false);
                return;
            case ShapeKind.Set:
                Kind = TokenKind.StartList; Tag = "set"; Count = v is ICollection c2 ? c2.Count : -1;
                Push(((IEnumerable)v).Cast<object?>().GetEnumerator(), false);
                return;
            case ShapeKind.Tuple:
            {
                var t = (ITuple)v;
                Kind = TokenKind.StartList; Tag = "tuple"; Count = t.Length;
                Push(TupleItems(t), false);
                return;
            }
            case ShapeKind.Dictionary:
                Kind = TokenKind.StartMap; Count = ((IDictionary)v).Count;
                Push(DictionaryItems((IDictionary)v), true);
                return;
            case ShapeKind.Stateful:
            {
                var state = _states.TryGetValue(v, out var st) ? st : GetState(v);
                Kind = TokenKind.StartMap; Tag = _options.Types.NameOf(type); Count = state.Entries!.Count;
                Push(NodeEntries(state), true);
                return;
            }
            default:
                Kind = TokenKind.StartMap; Tag = _options.Types.NameOf(type); Count = shape.Members.Length;
                Push(MemberItems(v, shape), true, v, shape);
                return;
        }
    }

    void Push(IEnumerator<object?> children, bool isMap, object? owner = null, TypeShape? shape = null) =>
        _stack.Push(new Frame { Children = children, IsMap = isMap, ExpectKey = isMap, Owner = owner, Shape = shape });

    static Node GetState(object v)
    {
        var state = ((IStateful)v).GetState();
        if (state is null || !state.IsMap) throw new BrineFormatException("objects", "", $"{v.GetType()}.GetState must return a map node");
        return state;
    }

    void EmitNode(Node n)
    {
        if (_shared.TryGetValue(n, out _))
        {
            if (!_emitted.Add(n)) { Kind = TokenKind.Alias; StringValue = _shared[n]; return; }
            Anchor = _shared[n] = "id" + _nextAnchor++;
        }
        Tag = n.Tag;
        Kind = n.Kind;
        switch (n.Kind)
        {
            case TokenKind.StartList: Count = n.Items!.Count; Push(n.Items.Cast<object?>().GetEnumerator(), false); return;
            case TokenKind.StartMap: Count = n.Entries!.Count; Push(NodeEntries(n), true); return;
            case TokenKind.Null: return;
            case TokenKind.Bool: BoolValue = (bool)n.Value!; return;
            case TokenKind.Int: if (n.Value is long l) Int64Value = l; else BigValue = (BigInteger)n.Value!; return;
            case TokenKind.Float: DoubleValue = (double)n.Value!; return;
            case TokenKind.Decimal: DecimalValue = (DecimalNumber)n.Value!; return;
            case TokenKind.String: StringValue = (string)n.Value!; return;
            case TokenKind.Bytes: BytesValue = (byte[])n.Value!; return;
            case TokenKind.Timestamp: TimestampValue = (Timestamp)n.Value!; return;
            case TokenKind.Date: DateValue = (DateOnly)n.Value!; return;
            case TokenKind.Time: TimeValue = (TimeOnly)n.Value!; return;
            case TokenKind.Uuid: UuidValue = (Guid)n.Value!; return;
        }
    }

    void EmitScalar(object v)
    {
        switch (v)
        {
            case string s: Kind = TokenKind.String; StringValue = s; return;
            case bool b: Kind = TokenKind.Bool; BoolValue = b; return;
            case int i: Kind = TokenKind.Int; Int64Value = i; return;
            case long l: Kind = TokenKind.Int; Int64Value = l; return;
            case double d: Kind = TokenKind.Float; DoubleValue = d; return;
            case byte[] bytes: Kind = TokenKind.Bytes; BytesValue = bytes; return;
            case short s16: Kind = TokenKind.Int; Int64Value = s16; return;
            case byte u8: Kind = TokenKind.Int; Int64Value = u8; return;
            case sbyte s8: Kind = TokenKind.Int; Int64Value = s8; return;
            case ushort u16: Kind = TokenKind.Int; Int64Value = u16; return;
            case uint u32: Kind = TokenKind.Int; Int64Value = u32; return;
            case ulong u64:
                Kind = TokenKind.Int;
                if (u64 <= long.MaxValue) Int64Value = (long)u64; else BigValue = u64;
                return;
            case nint ni: Kind = TokenKind.Int; Int64Value = ni; return;
            case nuint nu: Kind = TokenKind.Int; if (nu <= long.MaxValue) Int64Value = (long)nu; else BigValue = (ulong)nu; return;
            case BigInteger big:
                Kind = TokenKind.Int;
                if (big >= long.MinValue && big <= long.MaxValue) Int64Value = (long)big; else BigValue = big;
                return;
            case float f: Kind = TokenKind.Float; DoubleValue = f; return;
            case decimal m: Kind = TokenKind.Decimal; DecimalValue = DecimalNumber.FromDecimal(m); return;
            case DecimalNumber dn: Kind = TokenKind.Decimal; DecimalValue = dn; return;
            case char ch: Kind = TokenKind.String; StringValue = ch.ToString(); return;
            case DateTime dt: Kind = TokenKind.Timestamp; TimestampValue = Timestamp.FromDateTime(dt); return;
            case DateTimeOffset dto: Kind = TokenKind.Timestamp; TimestampValue = Timestamp.FromDateTimeOffset(dto); return;
            case Timestamp ts: Kind = TokenKind.Timestamp; TimestampValue = ts; return;
            case DateOnly date: Kind = TokenKind.Date; DateValue = date; return;
            case TimeOnly time: Kind = TokenKind.Time; TimeValue = time; return;
            case TimeSpan span: Kind = TokenKind.String; StringValue = span.ToString("c"); return;
            case Guid g: Kind = TokenKind.Uuid; UuidValue = g; return;
            default: throw new NotSupportedException($"no token for {v.GetType()}");
        }
    }

    static IEnumerator<object?> TupleItems(ITuple t) { for (int i = 0; i < t.Length; i++) yield return t[i]; }

    static IEnumerator<object?> DictionaryItems(IDictionary d)
    {
        var e = d.GetEnumerator();
        while (e.MoveNext()) { yield return e.Key; yield return e.Value; }
    }

    static IEnumerator<object?> NodeEntries(Node map)
    {
        foreach (var kv in map.Entries!) { yield return kv.Key; yield return kv.Value; }
    }

    static IEnumerator<object?> MemberItems(object owner, TypeShape shape)
    {
        foreach (var m in shape.Members) { yield return m.Name; yield return m.Get(owner); }
    }

    /// <summary>Marks every object reached twice; runs <c>[OnSerializing]</c> and <c>GetState</c> once per object.</summary>
    void FindShared(object? root)
    {
        var seen = new HashSet<object>(ReferenceEqualityComparer.Instance);
        var todo = new Stack<object>();
        var list = new List<object>();
        if (root is not null) todo.Push(root);
        while (todo.Count > 0)
        {
            var v = todo.Pop();
            var type = v.GetType();
            IEnumerator<object?> children;
            if (v is Node n)
            {
                if (n.IsScalar) continue;
                if (!seen.Add(n)) { _shared[n] = null; continue; }
                children = n.IsList ? n.Items!.Cast<object?>().GetEnumerator() : NodeEntries(n);
            }
            else
            {
                var shape = ShapeOf(type);
                if (shape.Kind is ShapeKind.Scalar or ShapeKind.Enum) continue;
                if (!type.IsValueType && !seen.Add(v)) { _shared[v] = null; continue; }
                switch (shape.Kind)
                {
                    case ShapeKind.Array: case ShapeKind.List: case ShapeKind.Set:
                        children = ((IEnumerable)v).Cast<object?>().GetEnumerator(); break;
                    case ShapeKind.Tuple: children = TupleItems((ITuple)v); break;
                    case ShapeKind.Dictionary: children = DictionaryItems((IDictionary)v); break;
                    case ShapeKind.Stateful:
                    {
                        var state = GetState(v);
                        _states[v] = state;
                        children = NodeEntries(state);
                        break;
                    }
                    default:
                        foreach (var cb in shape.OnSerializing) cb(v);
                        children = MemberItems(v, shape);
                        break;
                }
            }
            // Children are pushed in reverse so anchors are numbered in writing order (not required, but stable).
            list.Clear();
            while (children.MoveNext()) if (children.Current is { } c && c is not string) list.Add(c);
            for (int i = list.Count - 1; i >= 0; i--) todo.Push(list[i]);
        }
    }
}
