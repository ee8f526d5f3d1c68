using System.Buffers.Binary;
using System.Collections;
using System.Linq.Expressions;
using System.Reflection;
using System.Runtime.CompilerServices;
using Brine.Model;
using Brine.Objects;
using static Brine.Formats.Pickle.PickleOpcodes;

namespace Brine.Formats.Pickle;

/// <summary>
/// The direct path from CLR objects to pickle bytes: the bytes <c>ObjectTokenReader → PickleWriter</c> writes for the
/// same graph (same opcodes, memo indices and frames), without making tokens or a <see cref="Node"/> per value.
/// Measured on a million small records: the token path allocated ~2.5 KB and spent ~12 µs a record, most of it in
/// the garbage collector tracing the Node graph; this path writes straight from the objects.
/// </summary>
/// <remarks>
/// It covers classes written member by member (no serialization callbacks, reference types), lists and arrays,
/// enums and scalars (uncommon scalars go through the Node path one value at a time). Anything else (dictionaries,
/// sets, tuples, structs, <see cref="IStateful"/>, <see cref="Node"/> members, callbacks) makes it give up, and the
/// caller falls back to the token path: a seekable output is written as the pickle goes and rewound on giving up;
/// any other output is held in memory until the pickle is complete. Iterative, like the rest of the encoder.
/// </remarks>
sealed partial class PickleEncoder
{
    /// <summary>What a class needs, computed once per pickle: its global and its attribute-name keys (memoized once, as in CPython).</summary>
    sealed class ClassPlan
    {
        public required TypeShape Shape;
        public required Node Global;
        public int GlobalMemo = -1;
        public required Node[] Keys;
        public required int[] KeyMemo;
        /// <summary>Per member: how its declared type is written; the typed getters read it without a box.</summary>
        public required MemberWrite[] Writes;
        /// <summary>Whether <see cref="WriteRecord"/> may write its instances (it has members).</summary>
        public bool Flat;
        /// <summary>
        /// Once the class global and every key are in the memo, the bytes that are the same for every instance:
        /// GET class, EMPTY_TUPLE NEWOBJ MEMOIZE EMPTY_DICT MEMOIZE [MARK], and each key's GET.
        /// </summary>
        public byte[]? Prefix;
        /// <summary>Per member: the type its reference had last time, and what that is (<see cref="RefKindOf"/>).</summary>
        public required nint[] RefTypes;
        public required RefKind[] RefKinds;
        public byte[][]? KeyGets;
        public int FixedBytes;
        /// <summary>All members of an instance read at once (<see cref="CompileReader"/>); null: member by member only.</summary>
        public Action<object, long[], Probe[]>? Read;
    }

    enum WriteKind : byte { Any, String, Int64, Int32, Double, Bool, DateTime }

    readonly struct MemberWrite(WriteKind kind, Delegate get)
    {
        public readonly WriteKind Kind = kind;
        public readonly Delegate Get = get;
    }

    static MemberWrite WriteOf(MemberShape m)
    {
        if (m.TypedGet<long>() is { } l) return new(WriteKind.Int64, l);
        if (m.TypedGet<int>() is { } i) return new(WriteKind.Int32, i);
        if (m.TypedGet<double>() is { } d) return new(WriteKind.Double, d);
        if (m.TypedGet<bool>() is { } b) return new(WriteKind.Bool, b);
        if (m.TypedGet<DateTime>() is { } t) return new(WriteKind.DateTime, t);
        return new(m.Type == typeof(string) ? WriteKind.String : WriteKind.Any, m.Get);
    }

    sealed class Unsupported : Exception;

    struct ObjFrame
    {
        public object Value;
        public ClassPlan? Plan;   // null: a list
        public IList? Items;
        /// <summary>The same list read without an interface call per item: a List&lt;T&gt; or T[] of a reference type T.</summary>
        public List<object?>? RefList;
        public object?[]? RefArray;
        public int Index, Count;
    }

    /// <summary>
    /// The word at the start of an object that says its exact type (the method table): comparing it with the one kept
    /// from an object before tells "same type as last time" without a call to GetType per value.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static nint TypeWord(object o) => Unsafe.Add(ref Unsafe.As<byte, nint>(ref Unsafe.As<RawObject>(o).Data), -1);

    /// <summary>Any object seen as this: a reference to its first field, one word after its type word.</summary>
    sealed class RawObject { public byte Data; }

    /// <summary>Item <paramref name="i"/> of a list frame.</summary>
    static object? ItemAt(ref ObjFrame f, int i) => f.RefList is { } l ? l[i] : f.RefArray is { } a ? a[i] : f.Items![i];

    nint _refListType, _lastList;

    /// <summary>
    /// Whether <paramref name="t"/> is a List&lt;T&gt; of a reference type T: its instances may be read as
    /// List&lt;object&gt; (the same layout and the same shared code), so items are read without an interface call.
    /// </summary>
    bool IsRefList(object list)
    {
        nint word = TypeWord(list);
        if (word == _refListType) return true;
        var t = list.GetType();
        if (!t.IsGenericType || t.GetGenericTypeDefinition() != typeof(List<>) || t.GetGenericArguments()[0].IsValueType) return false;
        _refListType = word;
        return true;
    }

    readonly IdentityMap _objectMemo = new();
    readonly Dictionary<Type, ClassPlan?> _plans = new();
    /// <summary>Shapes by runtime type for this pickle (the shared cache hashes a (type, naming) pair per call).</summary>
    readonly Dictionary<Type, TypeShape> _shapes = new();
    /// <summary>The type word (<see cref="TypeWord"/>) of the last class written, and its plan.</summary>
    nint _lastClass;
    ClassPlan? _lastPlan;
    ObjFrame[] _frames = new ObjFrame[16];
    int _depth;
    int _datetimeMemo;
    ObjectOptions _objectOptions = ObjectOptions.Default;

    /// <summary>
    /// Writes <paramref name="root"/> as one pickle straight from the objects. False when the graph holds something
    /// this path does not cover; then nothing was written and the encoder is ready for <see cref="Encode"/>.
    /// </summary>
    public bool TryEncodeObjects(object? root, ObjectOptions options)
    {
        if (_proto < 4 || _bufferCallback is not null) return false;
        _memo.Clear(); _memoSize = 0; _synthetic.Clear(); _interned.Clear(); _globals.Clear(); _utc = null;
        _objectMemo.Clear(); _plans.Clear(); _shapes.Clear(); _lastClass = 0; _lastList = 0; _refListType = 0; _lastPlan = null; _depth = 0; _datetimeMemo = -1;
        _objectOptions = options;
        // A seekable output is written as the pickle goes (a path that gives up seeks back to where it started, and the
        // token path then writes the same bytes over them); any other output is held in memory until the pickle is complete.
        long origin = -1, length = -1;
        if (CanRewind(_output)) { Flush(); origin = _output.Position; length = _output.Length; }
        int start = _len;
        _hold = origin < 0;
        try
        {
            WriteByte(PROTO); WriteByte((byte)_proto);
            _framing = true;
            SaveObjectValue(root);
            RunObjects();
            WriteByte(STOP);
            CommitFrame();
        }
        catch (Exception e) when (e is not OutOfMemoryException)
        {
            // Unsupported: the token path writes the pickle instead; any other error leaves the output as it found it.
            _len = start; _frameStart = -1;
            if (origin >= 0 && _output.Position != origin)
            {
                _output.Position = origin;
                // Written at the end: cut what was written, so nothing of it is left should the token path fail too.
                if (length == origin)
                {
                    try { _output.SetLength(origin); }
                    catch (NotSupportedException) { }
                }
            }
            if (e is Unsupported) return false;
            throw;
        }
        finally
        {
            _hold = false; _framing = false;
            _objectMemo.Clear(); _plans.Clear(); _shapes.Clear(); _lastClass = 0; _lastPlan = null; _itemType = 0; _work.Clear();
            Array.Clear(_frames, 0, _frames.Length);
            _objectOptions = ObjectOptions.Default;
        }
        Flush();
        return true;
    }

    static bool CanRewind(Stream s)
    {
        try { return s.CanSeek && s.Position >= 0 && s.Length >= 0; }
        catch (NotSupportedException) { return false; }
    }

    /// <summary>A memo slot for a value no one can refer to again (fresh, unshared): the index and MEMOIZE, no table entry.</summary>
    void MemoNext()
    {
        _memoSize++;
        WriteByte(MEMOIZE);
    }

    const int PrefetchAhead = 8;

    // The hot methods of this path are compiled optimized at once: a dump of a 100k-person graph takes ~60 ms, about
    // the time tiered compilation needs to replace their first, unoptimized code, so a process that dumps a few
    // graphs ran them unoptimized for most of the work (measured: 0.134 s against 0.069 s for the first dumps).

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void RunObjects()
    {
        while (_depth > 0)
        {
            ref var f = ref _frames[_depth - 1];
            if (f.Plan is { } plan)
            {
                int i = f.Index;
                if (i < f.Count)
                {
                    f.Index = i + 1;
                    // The key: an interned attribute name, written once and fetched from the memo after.
                    OpcodeBoundary();
                    if (plan.KeyMemo[i] >= 0) ObjectGet(plan.KeyMemo[i]);
                    else if (_memo.TryGetValue(plan.Keys[i], out var k)) { plan.KeyMemo[i] = k; WriteGet(k); }
                    else { SaveString((string)plan.Keys[i].Value!); MemoPut(plan.Keys[i]); plan.KeyMemo[i] = _memo[plan.Keys[i]]; }
                    // (SaveObjectValue may grow the frame array: f is not used after it.)
                    SaveMember(plan.Writes[i], f.Value);
                    continue;
                }
                _depth--;
                WriteByte(f.Count == 1 ? SETITEM : SETITEMS);
                WriteByte(BUILD);
                if (plan.Flat && plan.Prefix is null) PrepareRecord(plan);
                f = default;
            }
            else
            {
                int i = f.Index;
                if (i < f.Count)
                {
                    // Batches of 1000 (MARK … APPENDS); a single item is APPENDed without a mark.
                    if (f.Count > 1 && i % BatchSize == 0)
                    {
                        if (i > 0) WriteByte(APPENDS);
                        WriteByte(MARK);
                    }
                    f.Index = i + 1;
                    // The items' memo probes are cache misses on a large graph (the object's header for its hash, then
                    // the table entry): start both a few items ahead, so a run of GETs does not wait for each in turn.
                    if (i + PrefetchAhead < f.Count && ItemAt(ref f, i + PrefetchAhead) is { } ahead) IdentityMap.PrefetchObject(ahead);
                    if (i + PrefetchAhead / 2 < f.Count && ItemAt(ref f, i + PrefetchAhead / 2) is { } next) _objectMemo.Prefetch(next);
                    SaveObjectValue(ItemAt(ref f, i));   // may grow the frame array: f is not used after it
                    continue;
                }
                _depth--;
                if (f.Count == 1) WriteByte(APPEND);
                else if (f.Count > 1) WriteByte(APPENDS);
                f = default;
            }
        }
    }

    /// <summary>One member value, read by its typed getter: the bytes <see cref="SaveObjectValue"/> writes for its box.</summary>
    void SaveMember(in MemberWrite w, object owner)
    {
        switch (w.Kind)
        {
            case WriteKind.Int64: OpcodeBoundary(); SaveInt(((Func<object, long>)w.Get)(owner)); return;
            case WriteKind.Int32: OpcodeBoundary(); SaveInt(((Func<object, int>)w.Get)(owner)); return;
            case WriteKind.Double: OpcodeBoundary(); SaveFloat(((Func<object, double>)w.Get)(owner)); return;
            case WriteKind.Bool: OpcodeBoundary(); SaveBool(((Func<object, bool>)w.Get)(owner)); return;
            case WriteKind.DateTime:
            {
                var dt = ((Func<object, DateTime>)w.Get)(owner);
                if (dt.Kind == DateTimeKind.Unspecified) { OpcodeBoundary(); SaveNaiveDateTime(dt); }
                else SaveObjectValue(dt);
                return;
            }
            case WriteKind.String:
            {
                OpcodeBoundary();
                if (((Func<object, object?>)w.Get)(owner) is string s) { SaveString(s); MemoNext(); }
                else WriteByte(NONE);
                return;
            }
            default: SaveObjectValue(((Func<object, object?>)w.Get)(owner)); return;
        }
    }

    TypeShape ShapeOf(Type type)
    {
        if (!_shapes.TryGetValue(type, out var shape)) _shapes[type] = shape = TypeShape.Of(type, _objectOptions.Naming);
        return shape;
    }

    void PushFrame(ObjFrame f)
    {
        if (_depth == _frames.Length) Array.Resize(ref _frames, _frames.Length * 2);
        _frames[_depth++] = f;
    }

    /// <summary>What <see cref="Save"/> does for the node the token path would make of <paramref name="v"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void SaveObjectValue(object? v)
    {
        OpcodeBoundary();
        if (v is not null)
        {
            // The class or list type met last time: no type switch, no shape lookup.
            nint word = TypeWord(v);
            if (word == _lastClass) { SaveClassInstance(v, _lastPlan!); return; }
            if (word == _lastList) { SaveObjectList(v, Unsafe.As<IList>(v)); return; }   // (only list types are kept there)
        }
        switch (v)
        {
            case null: WriteByte(NONE); return;
            case string s: SaveString(s); MemoNext(); return;
            case long l: SaveInt(l); return;
            case int i: SaveInt(i); return;
            case bool b: SaveBool(b); return;
            case double d: SaveFloat(d); return;
            case DateTime dt when dt.Kind == DateTimeKind.Unspecified: SaveNaiveDateTime(dt); return;
        }
        var type = v.GetType();
        var shape = ShapeOf(type);
        switch (shape.Kind)
        {
            case ShapeKind.Scalar: SaveScalarNode(v); return;
            case ShapeKind.Enum: SaveString(v.ToString()!); MemoNext(); return;
            case ShapeKind.Object when !type.IsValueType:
            {
                var plan = PlanOf(type);
                (_lastClass, _lastPlan) = (TypeWord(v), plan);
                SaveClassInstance(v, plan);
                return;
            }
            case ShapeKind.List or ShapeKind.Array when v is IList list: _lastList = TypeWord(v); SaveObjectList(v, list); return;
            default: throw new Unsupported();
        }
    }

    /// <summary>Uncommon scalars: the node the token path makes, through the node encoder (same bytes, one value).</summary>
    void SaveScalarNode(object v)
    {
        using var r = new ObjectTokenReader(v, _objectOptions);
        var node = NodeBuilder.ReadValue(r)!;
        _work.Push(new Work(Step.Save, node));
        Run();
    }

    void SaveObjectList(object v, IList list)
    {
        int idx = _objectMemo.GetOrAdd(v, _memoSize);
        if (idx >= 0) { ObjectGet(idx); return; }
        WriteByte(EMPTY_LIST);
        MemoNext();
        // Its items may all be objects to remember, and the lists they hold: make room at once rather than rehash
        // every doubling.
        if (list.Count > 16) _objectMemo.Reserve((int)Math.Min((long)list.Count * ObjectsPerItem(list[0]), 1 << 28));
        if (list.Count > 0)
            PushFrame(new ObjFrame
            {
                Value = v, Items = list, Count = list.Count,
                RefList = IsRefList(v) ? Unsafe.As<List<object?>>(v) : null,
                RefArray = v as object?[],   // (any array of a reference type: arrays are covariant)
            });
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    void SaveClassInstance(object v, ClassPlan plan)
    {
        // Once the class global is memoized, nothing is memoized between here and NEWOBJ: one probe finds or adds.
        bool added = plan.GlobalMemo >= 0;
        int idx = added ? _objectMemo.GetOrAdd(v, _memoSize) : _objectMemo.TryGetValue(v, out var i) ? i : -1;
        if (idx >= 0) { ObjectGet(idx); return; }
        if (plan.Prefix is not null && WriteRecord(v, plan)) return;
        // NEWOBJ of the class with no arguments (CPython's object.__reduce_ex__), memoized before its state so cycles work.
        OpcodeBoundary();
        SaveCachedGlobal(ref plan.GlobalMemo, plan.Global);
        OpcodeBoundary();
        WriteByte(EMPTY_TUPLE);
        WriteByte(NEWOBJ);
        if (!added) _objectMemo.GetOrAdd(v, _memoSize);
        MemoNext();
        if (plan.Keys.Length == 0) return;
        // The state: a fresh dict of the members, then BUILD (written when the frame ends).
        OpcodeBoundary();
        WriteByte(EMPTY_DICT);
        MemoNext();
        if (plan.Keys.Length > 1) WriteByte(MARK);
        PushFrame(new ObjFrame { Value = v, Plan = plan, Count = plan.Keys.Length });
    }

    void SaveCachedGlobal(ref int memoIndex, Node global)
    {
        if (memoIndex >= 0) { WriteGet(memoIndex); return; }
        if (!_memo.TryGetValue(global, out memoIndex))
        {
            _work.Push(new Work(Step.Save, global));
            Run();
            memoIndex = _memo[global];
        }
        else WriteGet(memoIndex);
    }

    /// <summary>
    /// How many memo entries an item like <paramref name="first"/> is likely to bring: one, plus one per list member
    /// for a class instance (an org chart's people each hold two lists). A guess to size the identity map by.
    /// </summary>
    int ObjectsPerItem(object? first)
    {
        if (first is null || first is string || first.GetType().IsValueType) return 1;
        var shape = ShapeOf(first.GetType());
        if (shape.Kind != ShapeKind.Object) return 1;
        int n = 1;
        foreach (var m in shape.Members)
            if (m.Type != typeof(string) && typeof(IList).IsAssignableFrom(m.Type)) n++;
        return n;
    }

    ClassPlan PlanOf(Type type)
    {
        if (_plans.TryGetValue(type, out var plan)) return plan ?? throw new Unsupported();
        var shape = ShapeOf(type);
        var tag = _objectOptions.Types.NameOf(type);
        bool ok = shape.OnSerializing.Length == 0 && shape.OnSerialized.Length == 0 && shape.Members.Length < BatchSize
            && SplitClassName(tag) is { } cls && tag is not ("datetime.timedelta" or "datetime.timezone" or "builtins.complex")
            && shape.Members.All(m => m.Name != "__args__");
        if (!ok) { _plans[type] = null; throw new Unsupported(); }
        var writes = shape.Members.Select(WriteOf).ToArray();
        var (module, name) = SplitClassName(tag)!.Value;
        _plans[type] = plan = new ClassPlan
        {
            Shape = shape,
            Global = Global(module, name),
            Keys = shape.Members.Select(m => Interned('a', m.Name)).ToArray(),
            KeyMemo = shape.Members.Select(_ => -1).ToArray(),
            Writes = writes,
            Flat = writes.Length > 0,
            RefTypes = new nint[writes.Length],
            RefKinds = new RefKind[writes.Length],
            Read = CompileReader(shape, writes),
        };
        return plan;
    }

    /// <summary>
    /// One compiled reader for every member of a class, for <see cref="WriteRecord"/>: numbers into the longs (an int, a
    /// double's bits, a bool as 0/1, a naive datetime's ticks or -1 for one with a kind), strings and references into the
    /// probes. One call per record instead of a delegate call (and a cast) per member.
    /// </summary>
    static Action<object, long[], Probe[]>? CompileReader(TypeShape shape, MemberWrite[] writes)
    {
        if (shape.Type.IsValueType) return null;
        try
        {
            var o = Expression.Parameter(typeof(object));
            var values = Expression.Parameter(typeof(long[]));
            var probes = Expression.Parameter(typeof(Probe[]));
            var target = Expression.Variable(shape.Type);
            var body = new List<Expression> { Expression.Assign(target, Expression.Convert(o, shape.Type)) };
            var probeObject = typeof(Probe).GetField(nameof(Probe.Object))!;
            for (int i = 0; i < writes.Length; i++)
            {
                if (shape.Members[i].Access(target) is not { } a) return null;
                var at = Expression.Constant(i);
                Expression Long(Expression e) => Expression.Assign(Expression.ArrayAccess(values, at), e);
                body.Add(writes[i].Kind switch
                {
                    WriteKind.Int64 => Long(a),
                    WriteKind.Int32 => Long(Expression.Convert(a, typeof(long))),
                    WriteKind.Double => Long(Expression.Call(typeof(BitConverter).GetMethod(nameof(BitConverter.DoubleToInt64Bits), [typeof(double)])!, a)),
                    WriteKind.Bool => Long(Expression.Condition(a, Expression.Constant(1L), Expression.Constant(0L))),
                    WriteKind.DateTime => Long(Expression.Call(typeof(PickleEncoder).GetMethod(nameof(NaiveTicks), BindingFlags.NonPublic | BindingFlags.Static)!, a)),
                    // (a field of a struct element: no covariance check, which would read the referenced object)
                    _ => Expression.Assign(Expression.Field(Expression.ArrayAccess(probes, at), probeObject), Expression.Convert(a, typeof(object))),
                });
            }
            body.Add(Expression.Empty());
            return Expression.Lambda<Action<object, long[], Probe[]>>(Expression.Block([target], body), o, values, probes).Compile();
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or MemberAccessException) { return null; }
    }

    /// <summary>A naive datetime's ticks; -1 for one with a kind (written by the general path).</summary>
    static long NaiveTicks(DateTime dt) => dt.Kind == DateTimeKind.Unspecified ? dt.Ticks : -1;

    // ---- whole records ----
    // A record of scalars, once its class and keys are memoized, is the same bytes every time but for the values: it
    // is written in one go when it fits in the open frame (then none of the opcode boundaries inside it can end the
    // frame, so the frames fall where the member-by-member path puts them).

    void PrepareRecord(ClassPlan plan)
    {
        if (plan.Read is null || plan.GlobalMemo < 0 || plan.KeyMemo.Any(k => k < 0)) return;
        if (plan.Writes.Any(w => w.Kind == WriteKind.DateTime) && _datetimeMemo < 0) return;
        var prefix = new List<byte>(GetBytes(plan.GlobalMemo)) { EMPTY_TUPLE, NEWOBJ, MEMOIZE, EMPTY_DICT, MEMOIZE };
        if (plan.Keys.Length > 1) prefix.Add(MARK);
        plan.KeyGets = plan.KeyMemo.Select(GetBytes).ToArray();
        int fixedBytes = prefix.Count + plan.KeyGets.Sum(k => k.Length) + 2;
        foreach (var w in plan.Writes)
            fixedBytes += w.Kind switch { WriteKind.Bool => 1, WriteKind.String => 3, WriteKind.DateTime => 5 + 12 + 5, _ => 9 };
        plan.FixedBytes = fixedBytes;
        _datetimeGet = _datetimeMemo >= 0 ? GetBytes(_datetimeMemo) : [];
        plan.Prefix = prefix.ToArray();
    }

    byte[] _datetimeGet = [];
    long[] _recordValues = new long[8];
    string?[] _recordStrings = new string?[8];
    /// <summary>Per member of the record being written: a new list (its items' memo indices are in _itemProbes).</summary>
    ListRef[] _recordRefs = new ListRef[8];

    /// <summary>A list in a struct: storing into an array of an interface type checks the stored object's type.</summary>
    struct ListRef
    {
        public IList? List;
    }
    /// <summary>Per member of the record being written: the item count of its new list.</summary>
    int[] _recordCounts = new int[8];

    /// <summary>
    /// A reference to probe in the memo. (A struct array: storing into an <c>object[]</c> checks the element's type,
    /// which reads the object, a cache miss before its prefetch could help.)
    /// </summary>
    internal struct Probe
    {
        public object? Object;
        public uint Hash;
        public int Memo;
    }

    /// <summary>Per member of the record being written: its reference, if any.</summary>
    Probe[] _recordProbes = new Probe[8];
    /// <summary>The items of the record's lists that may be new.</summary>
    Probe[] _itemProbes = new Probe[64];
    /// <summary>How many of <c>_itemProbes</c> the record being written uses.</summary>
    int _itemCount;

    /// <summary>List: any IList; RefList: a List&lt;T&gt; and RefArray: a T[], of a reference type T (read without interface calls).</summary>
    enum RefKind : byte { Other, Object, List, RefList, RefArray }

    /// <summary>What the reference in member <paramref name="i"/> is, by the type it had last time (a member keeps its type).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    RefKind RefKindOf(ClassPlan plan, int i, object o)
    {
        nint word = TypeWord(o);
        return plan.RefTypes[i] == word ? plan.RefKinds[i] : NewRefKind(plan, i, o, word);
    }

    RefKind NewRefKind(ClassPlan plan, int i, object o, nint word)
    {
        var t = o.GetType();
        var kind = o is string or ValueType ? RefKind.Other
            : !(o is IList && ShapeOf(t).Kind is ShapeKind.List or ShapeKind.Array) ? RefKind.Object
            : o is object?[] ? RefKind.RefArray : IsRefList(o) ? RefKind.RefList : RefKind.List;
        plan.RefTypes[i] = word;
        plan.RefKinds[i] = kind;
        return kind;
    }

    nint _itemType;

    /// <summary>Whether a list item is an object the memo may hold (not a string or a value), by the last item's type.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    bool IsMemoObject(object item)
    {
        nint word = TypeWord(item);
        if (word == _itemType) return true;
        if (item is string or ValueType) return false;
        _itemType = word;
        return true;
    }

    /// <summary>Nothing of the record is written (the member-by-member path takes it): drops what it held.</summary>
    bool AbandonRecord()
    {
        Array.Clear(_recordStrings); Array.Clear(_recordRefs); Array.Clear(_recordProbes);
        Array.Clear(_itemProbes, 0, _itemCount);
        return false;
    }

    /// <summary>
    /// The memo probes of a record's references (gathered in <c>_recordProbes</c>, the items of lists that may be new
    /// in <c>_itemProbes</c>): every hash first, then every table entry prefetched, then the lookups, so the cache
    /// misses of a record (the manager, each friend, the lists' table slots) overlap. Returns how many members can be
    /// written in one go: all (<paramref name="n"/>), or those before the first reference that needs the member-by-member
    /// path (a list not written yet that holds something else than objects written before).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    int ResolveReferences(int n, int items, ref long bound)
    {
        var probes = _recordProbes;
        var itemProbes = _itemProbes;
        var refs = _recordRefs;
        var values = _recordValues;
        for (int i = 0; i < n; i++)
        {
            ref var r = ref probes[i];
            if (r.Object is { } o) { r.Hash = IdentityMap.Hash(o); _objectMemo.Prefetch(r.Hash); }
        }
        for (int j = 0; j < items; j++)
        {
            ref var r = ref itemProbes[j];
            if (r.Object is { } item && IsMemoObject(item)) { r.Hash = IdentityMap.Hash(item); _objectMemo.Prefetch(r.Hash); }
        }
        for (int i = 0; i < n; i++)
        {
            ref var r = ref probes[i];
            if (r.Object is not { } o) continue;
            r.Object = null;
            if (_objectMemo.TryGetValue(o, r.Hash, out int idx)) { values[i] = idx; refs[i].List = null; bound += 5; continue; }
            if (refs[i].List is not { } list) return Stop(i);
            for (int j = 0; j < i; j++) if (ReferenceEquals(refs[j].List, list)) return Stop(i);
            int start = (int)values[i], count = _recordCounts[i];
            for (int j = start; j < start + count; j++)
            {
                ref var r2 = ref itemProbes[j];
                var item = r2.Object;
                r2.Object = null;
                if (item is null) { r2.Memo = -1; continue; }
                if (!IsMemoObject(item) || !_objectMemo.TryGetValue(item, r2.Hash, out int ii)) return Stop(i);
                r2.Memo = ii;
            }
            bound += 4 + 5L * count;
        }
        for (int j = 0; j < items; j++) itemProbes[j].Object = null;   // (their memo indices are written next)
        return n;

        // Members from i on are left to the member-by-member path: drops what was gathered for them.
        int Stop(int i)
        {
            for (int j = i; j < n; j++) { probes[j].Object = null; refs[j].List = null; _recordStrings[j] = null; }
            for (int j = 0; j < items; j++) itemProbes[j].Object = null;
            return i;
        }
    }

    /// <summary>The bytes <see cref="WriteGet"/> writes for <paramref name="index"/> (protocol 4 and up).</summary>
    static byte[] GetBytes(int index) => index < 256 ? [BINGET, (byte)index]
        : [LONG_BINGET, (byte)index, (byte)(index >> 8), (byte)(index >> 16), (byte)(index >> 24)];

    /// <summary>
    /// Writes the state of <paramref name="v"/> (after its NEWOBJ) in one go. False, with nothing written, when a value
    /// needs the general path (an int beyond 32 bits, a long string, a datetime with a kind) or the frame is nearly full.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    bool WriteRecord(object v, ClassPlan plan)
    {
        var writes = plan.Writes;
        int n = writes.Length;
        if (_recordValues.Length < n)
        {
            _recordValues = new long[n]; _recordStrings = new string?[n]; _recordRefs = new ListRef[n];
            _recordProbes = new Probe[n]; _recordCounts = new int[n];
        }
        var values = _recordValues;
        var strings = _recordStrings;
        var refs = _recordRefs;
        var probes = _recordProbes;
        var counts = _recordCounts;
        int items = 0;
        long bound = plan.FixedBytes;
        bool anyRefs = false;
        _itemCount = 0;
        plan.Read!(v, values, probes);
        for (int i = 0; i < n; i++)
        {
            switch (writes[i].Kind)
            {
                case WriteKind.Int64:
                    if (values[i] is < int.MinValue or > int.MaxValue) return AbandonRecord();
                    break;
                case WriteKind.DateTime:
                    if (values[i] < 0) return AbandonRecord();   // a datetime with a kind
                    break;
                case WriteKind.String:
                {
                    ref var r = ref probes[i];
                    var s = Unsafe.As<string?>(r.Object);   // (the member is a string)
                    r.Object = null;
                    if (s is not null && s.Length > 0xff / 3) return AbandonRecord();
                    strings[i] = s;
                    bound += s is null ? 0 : 3 * s.Length;
                    break;
                }
                case WriteKind.Any:
                {
                    // A reference: None, an object or list written before (a GET), or a new list of such (short).
                    // Gathered first, with the items of a list that may be new, and probed below all together.
                    var o = probes[i].Object;
                    refs[i].List = null;
                    if (o is null) { values[i] = -1; bound += 1; break; }
                    var kind = RefKindOf(plan, i, o);
                    if (kind == RefKind.Other) return AbandonRecord();
                    IdentityMap.PrefetchObject(o);
                    anyRefs = true;
                    values[i] = -2;
                    if (kind < RefKind.List) break;
                    // The items, in case the list is new (its memo probe comes below, with theirs); read by the list's own
                    // type where it is known (no interface call per item).
                    IList list = Unsafe.As<IList>(o);   // (RefKindOf found this type to be a list)
                    List<object?>? refList = kind == RefKind.RefList ? Unsafe.As<List<object?>>(o) : null;
                    object?[]? refArray = kind == RefKind.RefArray ? Unsafe.As<object?[]>(o) : null;
                    int count = refList is not null ? refList.Count : refArray is not null ? refArray.Length : list.Count;
                    if (count >= BatchSize) break;
                    if (_itemProbes.Length < items + count) Array.Resize(ref _itemProbes, Math.Max(items + count, _itemProbes.Length * 2));
                    var itemProbes = _itemProbes;
                    refs[i].List = list;
                    counts[i] = count;
                    values[i] = items;
                    for (int j = 0; j < count; j++)
                    {
                        var item = refList is not null ? refList[j] : refArray is not null ? refArray[j] : list[j];
                        itemProbes[items++].Object = item;
                        if (item is not null) IdentityMap.PrefetchObject(item);
                    }
                    _itemCount = items;
                    break;
                }
            }
        }
        // A record whose list holds objects not written yet (an org chart's manager and its reports) is written in one go
        // up to that member, and member by member from there (the bytes are the same: nothing in between ends a frame).
        int written = anyRefs ? ResolveReferences(n, items, ref bound) : n;
        if (written == 0) return AbandonRecord();
        bound += _datetimeGet.Length * n;
        if (_frameStart < 0 || _len - _frameStart - FrameHeaderSize + bound >= FrameSizeTarget) return AbandonRecord();

        Reserve((int)bound);
        var buf = _buf;
        int p = _len;
        plan.Prefix!.CopyTo(buf, p); p += plan.Prefix!.Length;
        _memoSize += 2;
        for (int i = 0; i < written; i++)
        {
            var key = plan.KeyGets![i];
            if (key.Length == 2) { buf[p] = key[0]; buf[p + 1] = key[1]; p += 2; }
            else { key.CopyTo(buf, p); p += key.Length; }
            long x = values[i];
            switch (writes[i].Kind)
            {
                case WriteKind.Int64 or WriteKind.Int32:
                    if (x is >= 0 and < 256) { buf[p] = BININT1; buf[p + 1] = (byte)x; p += 2; }
                    else if (x is >= 0 and < 65536) { buf[p] = BININT2; BinaryPrimitives.WriteUInt16LittleEndian(buf.AsSpan(p + 1), (ushort)x); p += 3; }
                    else { buf[p] = BININT; BinaryPrimitives.WriteInt32LittleEndian(buf.AsSpan(p + 1), (int)x); p += 5; }
                    break;
                case WriteKind.Double:
                {
                    // As SaveFloat: .NET's NaN has the sign bit set, Python's does not.
                    if (x == BitConverter.DoubleToInt64Bits(double.NaN)) x = 0x7FF8_0000_0000_0000;
                    buf[p] = BINFLOAT; BinaryPrimitives.WriteInt64BigEndian(buf.AsSpan(p + 1), x); p += 9;
                    break;
                }
                case WriteKind.Bool: buf[p++] = x != 0 ? NEWTRUE : NEWFALSE; break;
                case WriteKind.DateTime:
                {
                    if (_datetimeGet.Length == 2) { buf[p] = _datetimeGet[0]; buf[p + 1] = _datetimeGet[1]; p += 2; }
                    else { _datetimeGet.CopyTo(buf, p); p += _datetimeGet.Length; }
                    p = WriteDateState(buf, p, new DateTime(x));
                    buf[p++] = MEMOIZE; buf[p++] = TUPLE1; buf[p++] = MEMOIZE; buf[p++] = REDUCE; buf[p++] = MEMOIZE;
                    _memoSize += 3;
                    break;
                }
                case WriteKind.Any:
                    if (refs[i].List is { } list)
                    {
                        // As SaveObjectList: EMPTY_LIST, memoized, then its items (GETs) in one batch.
                        buf[p++] = EMPTY_LIST;
                        _objectMemo.GetOrAdd(list, _recordProbes[i].Hash, _memoSize);
                        buf[p++] = MEMOIZE;
                        _memoSize++;
                        int count = _recordCounts[i];
                        if (count > 16) _objectMemo.Reserve(count);
                        if (count > 1) buf[p++] = MARK;
                        for (int j = 0; j < count; j++)
                        {
                            int ii = _itemProbes[(int)x + j].Memo;
                            if (ii < 0) buf[p++] = NONE; else p = PutGet(buf, p, ii);
                        }
                        if (count == 1) buf[p++] = APPEND;
                        else if (count > 1) buf[p++] = APPENDS;
                        refs[i].List = null;
                    }
                    else if (x < 0) buf[p++] = NONE;
                    else p = PutGet(buf, p, (int)x);
                    break;
                default:
                    if (strings[i] is { } s)
                    {
                        int len = ShortUtf8(s, buf, p + 2);
                        buf[p] = SHORT_BINUNICODE; buf[p + 1] = (byte)len;
                        p += 2 + len;
                        buf[p++] = MEMOIZE;
                        _memoSize++;
                        strings[i] = null;
                    }
                    else buf[p++] = NONE;
                    break;
            }
        }
        if (written < n)
        {
            _len = p;
            PushFrame(new ObjFrame { Value = v, Plan = plan, Index = written, Count = n });
            return true;
        }
        buf[p++] = n == 1 ? SETITEM : SETITEMS;
        buf[p++] = BUILD;
        _len = p;
        return true;
    }

    /// <summary><see cref="WriteGet"/> at protocol 4 and up (this path's only protocols), in one reservation.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void ObjectGet(int index)
    {
        OpenFrameIfNeeded();
        Reserve(5);
        _len = PutGet(_buf, _len, index);
    }

    /// <summary>The bytes of <see cref="WriteGet"/> (protocol 4 and up) at <paramref name="p"/>; the new end.</summary>
    static int PutGet(byte[] b, int p, int index)
    {
        if (index < 256) { b[p] = BINGET; b[p + 1] = (byte)index; return p + 2; }
        b[p] = LONG_BINGET;
        BinaryPrimitives.WriteInt32LittleEndian(b.AsSpan(p + 1), index);
        return p + 5;
    }

    /// <summary>SHORT_BINBYTES of a naive datetime's 10-byte state (as <see cref="SaveNaiveDateTime"/>); the new end.</summary>
    static int WriteDateState(byte[] b, int p, DateTime dt)
    {
        // The date in one calendar computation (Year, Month and Day would make three); the time from the ticks.
        dt.Deconstruct(out int year, out int month, out int day);
        long ticks = dt.Ticks % TimeSpan.TicksPerDay;
        int secs = (int)(ticks / TimeSpan.TicksPerSecond), us = (int)(ticks % TimeSpan.TicksPerSecond / 10);
        b[p] = SHORT_BINBYTES; b[p + 1] = 10;
        b[p + 2] = (byte)(year >> 8); b[p + 3] = (byte)year; b[p + 4] = (byte)month; b[p + 5] = (byte)day;
        b[p + 6] = (byte)(secs / 3600); b[p + 7] = (byte)(secs / 60 % 60); b[p + 8] = (byte)(secs % 60);
        b[p + 9] = (byte)(us >> 16); b[p + 10] = (byte)(us >> 8); b[p + 11] = (byte)us;
        return p + 12;
    }

    /// <summary>A naive datetime as <see cref="SaveTimestamp"/> writes it: datetime.datetime(state bytes) by REDUCE.</summary>
    void SaveNaiveDateTime(DateTime dt)
    {
        OpcodeBoundary();
        SaveCachedGlobal(ref _datetimeMemo, _datetimeMemo >= 0 ? null! : Global("datetime", "datetime"));
        OpcodeBoundary();   // the argument tuple
        OpcodeBoundary();   // its one item, the state bytes
        int us = (int)(dt.Ticks % TimeSpan.TicksPerSecond / 10);
        Span<byte> b = stackalloc byte[12];
        b[0] = SHORT_BINBYTES; b[1] = 10;
        b[2] = (byte)(dt.Year >> 8); b[3] = (byte)dt.Year; b[4] = (byte)dt.Month; b[5] = (byte)dt.Day;
        b[6] = (byte)dt.Hour; b[7] = (byte)dt.Minute; b[8] = (byte)dt.Second;
        b[9] = (byte)(us >> 16); b[10] = (byte)(us >> 8); b[11] = (byte)us;
        Write(b);
        MemoNext();
        WriteByte(TUPLE1);
        MemoNext();
        WriteByte(REDUCE);
        MemoNext();
    }
}
