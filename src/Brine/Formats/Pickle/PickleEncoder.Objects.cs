using System.Collections;
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
/// sets, tuples, structs, <see cref="IStateful"/>, <see cref="Node"/> members, callbacks) makes it give up before a byte
/// reaches the output: output is held in memory until the pickle is complete, and the caller falls back to the
/// token path. Iterative, like the rest of the encoder.
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
    }

    sealed class Unsupported : Exception;

    struct ObjFrame
    {
        public object Value;
        public ClassPlan? Plan;   // null: a list
        public IList? Items;
        public int Index, Count;
    }

    readonly Dictionary<object, int> _objectMemo = new(ReferenceEqualityComparer.Instance);
    readonly Dictionary<Type, ClassPlan?> _plans = new();
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
        _objectMemo.Clear(); _plans.Clear(); _depth = 0; _datetimeMemo = -1;
        _objectOptions = options;
        int start = _len;
        _hold = true;
        try
        {
            WriteByte(PROTO); WriteByte((byte)_proto);
            _framing = true;
            SaveObjectValue(root);
            RunObjects();
            WriteByte(STOP);
            CommitFrame();
        }
        catch (Unsupported)
        {
            _len = start; _frameStart = -1;
            return false;
        }
        finally
        {
            _hold = false; _framing = false;
            _objectMemo.Clear(); _plans.Clear(); _work.Clear();
            Array.Clear(_frames, 0, _frames.Length);
            _objectOptions = ObjectOptions.Default;
        }
        Flush();
        return true;
    }

    /// <summary>A memo slot for a value no one can refer to again (fresh, unshared): the index and MEMOIZE, no table entry.</summary>
    void MemoNext()
    {
        _memoSize++;
        WriteByte(MEMOIZE);
    }

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
                    if (plan.KeyMemo[i] >= 0) WriteGet(plan.KeyMemo[i]);
                    else if (_memo.TryGetValue(plan.Keys[i], out var k)) { plan.KeyMemo[i] = k; WriteGet(k); }
                    else { SaveString((string)plan.Keys[i].Value!); MemoPut(plan.Keys[i]); plan.KeyMemo[i] = _memo[plan.Keys[i]]; }
                    var value = plan.Shape.Members[i].Get(f.Value);
                    // (SaveObjectValue may grow the frame array: f is not used after it.)
                    SaveObjectValue(value);
                    continue;
                }
                _depth--;
                WriteByte(f.Count == 1 ? SETITEM : SETITEMS);
                WriteByte(BUILD);
                f = default;
            }
            else
            {
                var items = f.Items!;
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
                    SaveObjectValue(items[i]);   // may grow the frame array: f is not used after it
                    continue;
                }
                _depth--;
                if (f.Count == 1) WriteByte(APPEND);
                else if (f.Count > 1) WriteByte(APPENDS);
                f = default;
            }
        }
    }

    void PushFrame(ObjFrame f)
    {
        if (_depth == _frames.Length) Array.Resize(ref _frames, _frames.Length * 2);
        _frames[_depth++] = f;
    }

    /// <summary>What <see cref="Save"/> does for the node the token path would make of <paramref name="v"/>.</summary>
    void SaveObjectValue(object? v)
    {
        OpcodeBoundary();
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
        var shape = TypeShape.Of(type, _objectOptions.Naming);
        switch (shape.Kind)
        {
            case ShapeKind.Scalar: SaveScalarNode(v); return;
            case ShapeKind.Enum: SaveString(v.ToString()!); MemoNext(); return;
            case ShapeKind.Object when !type.IsValueType: SaveClassInstance(v, type); return;
            case ShapeKind.List or ShapeKind.Array when v is IList list: SaveObjectList(v, list); return;
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
        if (_objectMemo.TryGetValue(v, out var idx)) { WriteGet(idx); return; }
        WriteByte(EMPTY_LIST);
        _objectMemo[v] = _memoSize;
        MemoNext();
        if (list.Count > 0) PushFrame(new ObjFrame { Value = v, Items = list, Count = list.Count });
    }

    void SaveClassInstance(object v, Type type)
    {
        if (_objectMemo.TryGetValue(v, out var idx)) { WriteGet(idx); return; }
        var plan = PlanOf(type);
        // NEWOBJ of the class with no arguments (CPython's object.__reduce_ex__), memoized before its state so cycles work.
        OpcodeBoundary();
        SaveCachedGlobal(ref plan.GlobalMemo, plan.Global);
        OpcodeBoundary();
        WriteByte(EMPTY_TUPLE);
        WriteByte(NEWOBJ);
        _objectMemo[v] = _memoSize;
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

    ClassPlan PlanOf(Type type)
    {
        if (_plans.TryGetValue(type, out var plan)) return plan ?? throw new Unsupported();
        var shape = TypeShape.Of(type, _objectOptions.Naming);
        var tag = _objectOptions.Types.NameOf(type);
        bool ok = shape.OnSerializing.Length == 0 && shape.OnSerialized.Length == 0 && shape.Members.Length < BatchSize
            && SplitClassName(tag) is { } cls && tag is not ("datetime.timedelta" or "datetime.timezone" or "builtins.complex")
            && shape.Members.All(m => m.Name != "__args__");
        if (!ok) { _plans[type] = null; throw new Unsupported(); }
        var (module, name) = SplitClassName(tag)!.Value;
        _plans[type] = plan = new ClassPlan
        {
            Shape = shape,
            Global = Global(module, name),
            Keys = shape.Members.Select(m => Interned('a', m.Name)).ToArray(),
            KeyMemo = shape.Members.Select(_ => -1).ToArray(),
        };
        return plan;
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
