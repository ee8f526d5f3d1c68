using System.Collections;
using Brine.Model;

namespace Brine.Objects;

/// <summary>
/// Reads a token stream back into CLR objects of a requested type. Shared references and cycles come back as
/// shared references and cycles; nothing recurses per nesting level (a million-deep linked list is fine).
/// Only types the caller asked for statically, or that the <see cref="TypePolicy"/> allows, are created.
/// </summary>
/// <remarks>
/// Classes with a parameterless constructor are created when their map starts and handed to their parent at
/// once, so cycles through them work. Types built by a constructor taking member values (positional records),
/// structs, arrays and tuples are created when their data ends; an alias to one of them while it is still being
/// read (a cycle through it) is an error that says so.
/// </remarks>
public sealed class ObjectReader
{
    readonly ObjectOptions _options;

    public ObjectReader(ObjectOptions? options = null) { _options = options ?? ObjectOptions.Default; }

    /// <summary>Reads the next top-level value as <typeparamref name="T"/>. Throws at the end of the stream.</summary>
    public T? Read<T>(TokenReader reader) => (T?)Read(reader, typeof(T));

    public object? Read(TokenReader reader, Type type) =>
        TryRead(reader, type, out var value) ? value : throw new BrineFormatException(reader.FormatName, reader.Location, "no value to read: the input is empty");

    /// <summary>Reads the next top-level value; false at the end of the stream.</summary>
    public bool TryRead(TokenReader reader, Type type, out object? value)
    {
        // Pickle has a direct path that makes no Node graph or tokens; it declines pickles it does not cover.
        if (reader is Brine.Formats.Pickle.PickleReader pickle && pickle.TryReadObject(type, _options, ShapeOf, out value)) return true;
        return new Session(this, reader).TryRead(type, out value);
    }

    /// <summary>Reads every top-level value of the stream.</summary>
    public IEnumerable<T?> ReadAll<T>(TokenReader reader)
    {
        while (TryRead(reader, typeof(T), out var v)) yield return (T?)v;
    }

    /// <summary>Reads one value of <paramref name="format"/> from <paramref name="input"/> as <typeparamref name="T"/>.</summary>
    public static T? ReadFrom<T>(Stream input, Brine.Formats.Format format, ObjectOptions? options = null, Brine.Formats.ReadOptions? readOptions = null)
    {
        using var r = format.CreateReader(input, readOptions ?? Brine.Formats.ReadOptions.Default);
        return new ObjectReader(options).Read<T>(r);
    }

    /// <summary>Reads a <see cref="Node"/> graph as <typeparamref name="T"/>.</summary>
    public static T? FromNode<T>(Node node, ObjectOptions? options = null) => (T?)FromNode(node, typeof(T), options);

    public static object? FromNode(Node node, Type type, ObjectOptions? options = null)
    {
        using var r = new NodeReader(node);
        return new ObjectReader(options).Read(r, type);
    }

    readonly Dictionary<Type, TypeShape> _shapes = new();
    TypeShape ShapeOf(Type t)
    {
        lock (_shapes)
        {
            if (!_shapes.TryGetValue(t, out var s)) _shapes[t] = s = TypeShape.Of(t, _options.Naming);
            return s;
        }
    }

    sealed class AnchorEntry
    {
        public object? Value;
        public Node? Scalar;
        public bool Pending;
        public bool Skipped;
        public Type? PendingType;
    }

    abstract class Frame
    {
        public string? Anchor;
        public bool DeliveredAtStart;
        public bool IsMap;
        public bool ExpectKey;
        public abstract Type ChildType { get; }
        /// <summary>The object handed to the parent when the frame starts (when <see cref="DeliveredAtStart"/>).</summary>
        public virtual object? Instance => null;
        /// <summary>Takes a map key; false means skip its value.</summary>
        public virtual bool AcceptKey(Node key) => throw new InvalidOperationException();
        public abstract void Accept(object? value);
        public abstract object? End();
    }

    sealed class ObjectFrame : Frame
    {
        readonly TypeShape _shape;
        readonly bool _strict;
        object? _instance;
        readonly object?[]? _args;
        readonly bool[]? _argSet;
        List<(MemberShape, object?)>? _pending;
        MemberShape? _current;

        public ObjectFrame(TypeShape shape, bool strict)
        {
            _shape = shape; _strict = strict; IsMap = true; ExpectKey = true;
            if (shape.IsConstructorOnly)
            {
                _args = new object?[shape.CtorDefaults.Length];
                _argSet = new bool[_args.Length];
            }
            else
            {
                _instance = (shape.Create ?? throw new NotSupportedException($"{shape.Type} has no constructor Brine can use (a parameterless one, or one whose parameters all name members)"))();
                foreach (var cb in shape.OnDeserializing) cb(_instance);
                DeliveredAtStart = !shape.Type.IsValueType;
            }
        }

        public override object? Instance => _instance;
        public override Type ChildType => _current!.Type;

        public override bool AcceptKey(Node key)
        {
            if (key.Value is string name && _shape.Find(name) is { } m && (m.Set is not null || m.CtorIndex >= 0 && _args is not null))
            {
                _current = m;
                return true;
            }
            if (_strict) throw new BrineFormatException("objects", "", $"{_shape.Type.Name} has no member '{key.Value}' (strict mode)");
            return false;
        }

        public override void Accept(object? value)
        {
            var m = _current!;
            if (_args is not null)
            {
                if (m.CtorIndex >= 0) { _args[m.CtorIndex] = value; _argSet![m.CtorIndex] = true; }
                else (_pending ??= new()).Add((m, value));
                return;
            }
            m.Set!(_instance!, value);
        }

        public override object? End()
        {
            if (_args is not null)
            {
                for (int i = 0; i < _args.Length; i++) if (!_argSet![i]) _args[i] = _shape.CtorDefaults[i];
                _instance = _shape.CreateWithArgs!(_args);
                foreach (var cb in _shape.OnDeserializing) cb(_instance);
                if (_pending is not null) foreach (var (m, v) in _pending) m.Set!(_instance, v);
            }
            foreach (var cb in _shape.OnDeserialized) cb(_instance!);
            return _instance;
        }
    }

    sealed class DictionaryFrame : Frame
    {
        readonly IDictionary _dict;
        readonly Type _keyType, _valueType;
        object? _key;
        public DictionaryFrame(IDictionary dict, Type keyType, Type valueType)
        { _dict = dict; _keyType = keyType; _valueType = valueType; IsMap = true; ExpectKey = true; DeliveredAtStart = true; }
        public override object? Instance => _dict;
        public override Type ChildType => _valueType;
        public override bool AcceptKey(Node key)
        {
            _key = ScalarConversion.To(key, _keyType) ?? throw new InvalidCastException("a dictionary key cannot be null");
            return true;
        }
        public override void Accept(object? value) => _dict[_key!] = value;
        public override object? End() => _dict;
    }

    sealed class ListFrame : Frame
    {
        readonly object _list;
        readonly Action<object, object?>? _add;
        readonly Type _elem;
        public ListFrame(object list, Type elem, Action<object, object?>? add) { _list = list; _elem = elem; _add = add; DeliveredAtStart = true; }
        public override object? Instance => _list;
        public override Type ChildType => _elem;
        public override void Accept(object? value) { if (_add is not null) _add(_list, value); else ((IList)_list).Add(value); }
        public override object? End() => _list;
    }

    /// <summary>Sets are filled when their data ends: items added earlier might still change their hash.</summary>
    sealed class SetFrame : Frame
    {
        readonly object _set;
        readonly TypeShape _shape;
        readonly List<object?> _items = new();
        public SetFrame(object set, TypeShape shape) { _set = set; _shape = shape; DeliveredAtStart = true; }
        public override object? Instance => _set;
        public override Type ChildType => _shape.ElementType!;
        public override void Accept(object? value) => _items.Add(value);
        public override object? End() { foreach (var i in _items) _shape.AddItem!(_set, i); return _set; }
    }

    sealed class ArrayFrame : Frame
    {
        readonly Type _elem;
        readonly List<object?> _items = new();
        public ArrayFrame(Type elem) { _elem = elem; }
        public override Type ChildType => _elem;
        public override void Accept(object? value) => _items.Add(value);
        public override object? End()
        {
            var a = Array.CreateInstance(_elem, _items.Count);
            for (int i = 0; i < _items.Count; i++) a.SetValue(_items[i], i);
            return a;
        }
    }

    sealed class TupleFrame : Frame
    {
        readonly TypeShape _shape;
        readonly List<object?> _items = new();
        public TupleFrame(TypeShape shape) { _shape = shape; }
        public override Type ChildType => _items.Count < _shape.TupleTypes.Length ? _shape.TupleTypes[_items.Count]
            : throw new InvalidCastException($"too many items for {_shape.Type.Name} ({_shape.TupleTypes.Length} expected)");
        public override void Accept(object? value) => _items.Add(value);
        public override object? End()
        {
            if (_items.Count != _shape.TupleTypes.Length) throw new InvalidCastException($"{_items.Count} items for a tuple of {_shape.TupleTypes.Length}");
            return _shape.CreateWithArgs!(_items.ToArray());
        }
    }

    /// <summary>Collects a subtree as a <see cref="Node"/> (for Node-typed members and <see cref="IStateful"/> state).</summary>
    sealed class Recorder
    {
        public required NodeBuilder Builder;
        public int Depth;
        public string? OwnAnchor;
        public required Action<Node> Complete;
    }

    /// <summary>The state of reading one top-level value.</summary>
    sealed class Session
    {
        readonly ObjectReader _owner;
        readonly TokenReader _r;
        readonly ObjectOptions _options;
        readonly Stack<Frame> _stack = new();
        readonly Dictionary<string, AnchorEntry> _anchors = new();
        readonly ModelPath _path = new();
        Recorder? _recorder;
        int _skipDepth;
        bool _skipNext;
        Type _rootType = typeof(object);
        object? _result;
        bool _rootSet;

        public Session(ObjectReader owner, TokenReader r) { _owner = owner; _r = r; _options = owner._options; }

        public bool TryRead(Type type, out object? value)
        {
            _rootType = type;
            bool any = false;
            try
            {
                while (_r.Read())
                {
                    any = true;
                    _path.Step(_r);
                    Step();
                    if (_rootSet && _stack.Count == 0 && _recorder is null && _skipDepth == 0) { value = _result; return true; }
                }
            }
            catch (BrineLimitException e)
            {
                // WithPath would turn a limit error into a plain format error; keep the kind and add the path to the place.
                var path = _path.ToString();
                var where = string.Join(", ", new[] { e.Location, path == "$" ? "" : "at " + path }.Where(x => x.Length > 0));
                throw new BrineLimitException(e.Format, where, e.Detail);
            }
            catch (BrineFormatException e) when (e.Format == "objects")
            {
                throw new BrineFormatException(_r.FormatName, _r.Location, e.Detail, e).WithPath(_path.ToString());
            }
            catch (BrineFormatException e) { throw e.WithPath(_path.ToString()); }
            catch (Exception e) when (e is InvalidCastException or OverflowException or FormatException or ArgumentException or NotSupportedException or InvalidOperationException or NullReferenceException or MissingMethodException)
            {
                throw new BrineFormatException(_r.FormatName, _r.Location, e.Message, e).WithPath(_path.ToString());
            }
            if (any) throw new BrineFormatException(_r.FormatName, _r.Location, "unexpected end of input inside a value");
            value = null;
            return false;
        }

        Type ChildType => _stack.Count > 0 ? _stack.Peek().ChildType : _rootType;

        void Step()
        {
            var r = _r;
            var kind = r.Kind;
            if (_recorder is { } rec) { Feed(rec); return; }
            if (_skipNext || _skipDepth > 0) { Skip(); return; }

            var top = _stack.Count > 0 ? _stack.Peek() : null;
            if (top is { IsMap: true, ExpectKey: true })
            {
                if (kind == TokenKind.EndMap) { EndFrame(); return; }
                Node key;
                if (kind == TokenKind.Alias) key = ScalarAnchor(r.StringValue!);
                else if (kind.IsScalar())
                {
                    key = NodeBuilder.ScalarOf(r);
                    if (r.Anchor is { } ka) _anchors[ka] = new AnchorEntry { Scalar = key };
                }
                else throw new BrineFormatException("objects", "", "a map key must be a scalar");
                top.ExpectKey = false;
                if (!top.AcceptKey(key)) _skipNext = true;
                return;
            }
            switch (kind)
            {
                case TokenKind.EndList:
                case TokenKind.EndMap:
                    EndFrame(); return;
                case TokenKind.Alias:
                    Deliver(ResolveAlias(r.StringValue!, ChildType)); return;
                case TokenKind.StartList:
                case TokenKind.StartMap:
                    Begin(ChildType); return;
                default:
                {
                    var node = NodeBuilder.ScalarOf(r);
                    if (r.Anchor is { } a) _anchors[a] = new AnchorEntry { Scalar = node };
                    Deliver(ScalarConversion.To(node, ChildType));
                    return;
                }
            }
        }

        void Deliver(object? value)
        {
            if (_stack.Count == 0) { _result = value; _rootSet = true; return; }
            var top = _stack.Peek();
            top.Accept(value);
            if (top.IsMap) top.ExpectKey = true;
        }

        void EndFrame()
        {
            var f = _stack.Pop();
            var v = f.End();
            if (f.DeliveredAtStart) return;
            if (f.Anchor is { } a) _anchors[a] = new AnchorEntry { Value = v };
            Deliver(v);
        }

        void Skip()
        {
            var r = _r;
            if (r.Anchor is { } a) _anchors[a] = new AnchorEntry { Skipped = true };
            if (r.Kind.IsStart()) _skipDepth++;
            else if (r.Kind.IsEnd()) _skipDepth--;
            _skipNext = false;
            if (_skipDepth == 0) _stack.Peek().ExpectKey = true;
        }

        void Feed(Recorder rec)
        {
            rec.Builder.Accept(_r);
            if (_r.Kind.IsStart()) rec.Depth++;
            else if (_r.Kind.IsEnd()) rec.Depth--;
            if (rec.Depth > 0) return;
            _recorder = null;
            foreach (var (name, node) in rec.Builder.Anchors)
                if (name != rec.OwnAnchor) _anchors[name] = node.IsScalar ? new AnchorEntry { Scalar = node } : new AnchorEntry { Value = node };
            rec.Complete(rec.Builder.Result);
        }

        void StartRecording(string? ownAnchor, Action<Node> complete)
        {
            var builder = new NodeBuilder { ResolveExternal = ResolveForRecorder };
            _recorder = new Recorder { Builder = builder, Depth = 1, OwnAnchor = ownAnchor, Complete = complete };
            builder.Accept(_r);
        }

        Node? ResolveForRecorder(string name)
        {
            if (!_anchors.TryGetValue(name, out var e)) return null;
            if (e.Scalar is { } s) return s;
            if (e.Value is Node n) return n;
            throw new BrineFormatException("objects", "", $"alias '{name}' inside a state or Node value refers to an object outside it; a state must be self-contained");
        }

        Node ScalarAnchor(string name)
        {
            if (_anchors.TryGetValue(name, out var e) && e.Scalar is { } s) return s;
            throw new BrineFormatException("objects", "", $"a map key alias '{name}' must refer to an earlier scalar");
        }

        object? ResolveAlias(string name, Type type)
        {
            if (!_anchors.TryGetValue(name, out var e)) throw new BrineFormatException("objects", "", $"alias '{name}' refers to no earlier anchor");
            if (e.Pending)
                throw new BrineFormatException("objects", "", $"alias '{name}' refers to a {e.PendingType?.Name} that is still being read: a cycle through a type built when its data ends (a record with constructor parameters, a struct, an array or a tuple) cannot be restored; give the type a parameterless constructor and settable members");
            if (e.Skipped) throw new BrineFormatException("objects", "", $"alias '{name}' refers to a value inside a member that was skipped");
            if (e.Scalar is { } s) return ScalarConversion.To(s, type);
            var v = e.Value;
            if (v is null) return null;
            var t = Nullable.GetUnderlyingType(type) ?? type;
            if (t.IsInstanceOfType(v)) return v;
            if (v is Node node) return FromNode(node, type, _options);
            throw new InvalidCastException($"alias '{name}' refers to a {v.GetType().Name}, not a {type.Name}");
        }

        Type ChooseType(Type declared, string? tag, bool isMap)
        {
            var d = Nullable.GetUnderlyingType(declared) ?? declared;
            if (d == typeof(Node)) return d;
            var shape = _owner.ShapeOf(d);
            if (!isMap)
            {
                if (d == typeof(object) || shape.Kind == ShapeKind.Object && (d.IsAbstract || d.IsInterface))
                    return tag switch { "set" => typeof(HashSet<object?>), "tuple" => typeof(object?[]), _ => typeof(List<object?>) };
                return d;
            }
            if (shape.Kind == ShapeKind.Dictionary) return d;
            bool typeTag = tag is not null && tag is not ("set" or "tuple");
            bool concrete = shape.Kind is ShapeKind.Object or ShapeKind.Stateful && !d.IsAbstract && !d.IsInterface && d != typeof(object);
            if (!typeTag)
            {
                if (d == typeof(object)) return typeof(Dictionary<object, object?>);
                if (!concrete && shape.Kind is ShapeKind.Object) throw new InvalidCastException($"the data has no type tag saying which {d.Name} to create");
                return d;
            }
            var policy = _options.Types;
            if (concrete && (tag == policy.NameOf(d) || tag == d.FullName)) return d;
            var x = policy.Resolve(tag!)
                ?? throw new BrineLimitException(_r.FormatName, _r.Location, $"type tag '{tag}' is not allowed by the type policy (allow it with TypePolicy.Allow or AllowNamespace)");
            if (!d.IsAssignableFrom(x)) throw new InvalidCastException($"type tag '{tag}' names {x}, which is not a {d.Name}");
            return x;
        }

        void Begin(Type declared)
        {
            var r = _r;
            bool isMap = r.Kind == TokenKind.StartMap;
            var anchor = r.Anchor;
            var type = ChooseType(declared, r.Tag, isMap);
            if (type == typeof(Node))
            {
                if (anchor is not null) _anchors[anchor] = new AnchorEntry { Pending = true, PendingType = type };
                StartRecording(anchor, node =>
                {
                    if (anchor is not null) _anchors[anchor] = new AnchorEntry { Value = node };
                    Deliver(node);
                });
                return;
            }
            var shape = _owner.ShapeOf(type);
            string what = isMap ? "a map" : "a list";
            Frame frame;
            switch (shape.Kind)
            {
                case ShapeKind.Stateful:
                {
                    if (!isMap) throw new InvalidCastException($"expected a map for {type.Name}, found a list");
                    var instance = shape.Create!();
                    if (anchor is not null) _anchors[anchor] = new AnchorEntry { Value = instance };
                    Deliver(instance);
                    StartRecording(anchor, node => ((IStateful)instance).SetState(node));
                    return;
                }
                case ShapeKind.Object when isMap:
                    frame = new ObjectFrame(shape, _options.Strict);
                    break;
                case ShapeKind.Dictionary when isMap:
                    frame = new DictionaryFrame((IDictionary)shape.Create!(), shape.KeyType!, shape.ValueType!);
                    break;
                case ShapeKind.List when !isMap:
                {
                    var list = (shape.Create ?? throw new NotSupportedException($"{type} has no parameterless constructor"))();
                    if (list is not IList && shape.AddItem is null) throw new NotSupportedException($"{type} is a collection Brine cannot fill (it has no Add)");
                    frame = new ListFrame(list, shape.ElementType!, shape.AddItem);
                    break;
                }
                case ShapeKind.Set when !isMap:
                    frame = new SetFrame(shape.Create!(), shape);
                    break;
                case ShapeKind.Array when !isMap:
                    frame = new ArrayFrame(shape.ElementType!);
                    break;
                case ShapeKind.Tuple when !isMap:
                    frame = new TupleFrame(shape);
                    break;
                default:
                    throw new InvalidCastException($"expected {ScalarConversion.Describe(type)}, found {what}");
            }
            frame.Anchor = anchor;
            if (frame.DeliveredAtStart)
            {
                var instance = frame.Instance;
                if (anchor is not null) _anchors[anchor] = new AnchorEntry { Value = instance };
                Deliver(instance);
            }
            else if (anchor is not null) _anchors[anchor] = new AnchorEntry { Pending = true, PendingType = type };
            _stack.Push(frame);
        }
    }
}
