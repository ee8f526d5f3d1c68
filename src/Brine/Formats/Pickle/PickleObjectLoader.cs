using System.Buffers.Binary;
using System.Collections;
using System.Numerics;
using System.Runtime.InteropServices;
using System.Text;
using Brine.Model;
using Brine.Objects;

namespace Brine.Formats.Pickle;

/// <summary>
/// The direct load path: runs one pickle's stack machine and builds the requested CLR objects as it goes, with no
/// <see cref="Node"/> graph and no tokens in between (the mirror of <c>PickleEncoder.Objects.cs</c>). NEWOBJ of a
/// class the <see cref="TypePolicy"/> allows makes the instance, BUILD with a dict state sets its members through
/// the cached <see cref="TypeShape"/>, scalars stay raw CLR values, and lists and dicts are converted to their
/// declared type when their owner takes them. The memo holds the very objects, so shared references and cycles
/// come back as shared CLR references.
/// </summary>
/// <remarks>
/// It covers the common shapes only. Anything else — a global or class the policy does not allow, a member the type
/// does not have, a set, a timezone, a type built by its constructor, callbacks, corrupt data — throws
/// <see cref="Fallback"/>, and the caller runs the same pickle again through the Node path, which gives the
/// result or the error the Node path always gave. Nothing is ever called: the only code run is the parameterless
/// constructors and setters of types the policy (or the caller's static type) allows, as on the Node path.
/// </remarks>
sealed class PickleObjectLoader
{
    /// <summary>The pickle holds something this path does not cover: rerun it through the Node path.</summary>
    public sealed class Fallback(string why) : Exception(why);

    /// <remarks><see cref="Eager"/>: the root list filled straight into its declared <c>List&lt;T&gt;</c> (see <see cref="EagerList"/>); its items are not in the base list then.</remarks>
    sealed class PyList : List<object?>
    {
        public object? Converted;
        public EagerList? Eager;

        /// <summary>Puts the eagerly taken items back into the list (something needs them as loaded values).</summary>
        public void Materialize()
        {
            if (Eager is not { } e) return;
            Eager = null;
            e.MoveTo(this);
        }
    }

    /// <summary>
    /// The root list when the caller asked for exactly <c>List&lt;T&gt;</c> of a class: items that are null or of
    /// exactly T (what <see cref="To"/> would hand over as they are) go straight into it as they are appended, so the
    /// untyped list and its copy at STOP are never made. Any other item puts everything back in the untyped list.
    /// </summary>
    abstract class EagerList
    {
        public abstract Type ListType { get; }
        public abstract object List { get; }
        public abstract bool TryAdd(object? item);
        public abstract void MoveTo(List<object?> target);
    }

    sealed class EagerList<T> : EagerList where T : class
    {
        // Items are gathered in small segments and the List<T> is made once at its full size. Grown by doubling, its
        // array moved to the large object heap at ~10,000 items and was copied whole on every doubling after: each copy
        // dirtied every card of a new large array, and the collector re-read them all (measured on a million records:
        // 0.57 s with 0.21 s of collection pauses, against 0.46 s and 0.13 s made at its full size).
        const int SegmentSize = 1024;
        readonly List<T?[]> _segments = new();
        int _count;
        /// <summary>The list once something has asked for it; later items go straight into it.</summary>
        List<T?>? _made;

        public override Type ListType => typeof(List<T>);

        public override object List
        {
            get
            {
                if (_made is not null) return _made;
                var list = new List<T?>(_count);
                System.Runtime.InteropServices.CollectionsMarshal.SetCount(list, _count);
                var to = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(list);
                for (int i = 0, at = 0; at < _count; i++, at += SegmentSize)
                    _segments[i].AsSpan(0, Math.Min(SegmentSize, _count - at)).CopyTo(to[at..]);
                _segments.Clear();
                return _made = list;
            }
        }

        public override bool TryAdd(object? item)
        {
            if (item is not null && item.GetType() != typeof(T)) return false;
            var t = System.Runtime.CompilerServices.Unsafe.As<T?>(item);
            if (_made is not null) { _made.Add(t); return true; }
            int at = _count & (SegmentSize - 1);
            if (at == 0 && _count >> 10 == _segments.Count) _segments.Add(new T?[SegmentSize]);
            _segments[_count >> 10][at] = t;
            _count++;
            return true;
        }

        public override void MoveTo(List<object?> target)
        {
            var items = (List<T?>)List;
            target.EnsureCapacity(target.Count + items.Count);
            foreach (var x in items) target.Add(x);
        }
    }

    /// <summary>The maker of the root's eager list (null: the root is not a <c>List&lt;T&gt;</c> of a class); used for the first list only.</summary>
    Func<EagerList>? _eagerRoot;

    void SetEagerRoot(Type root)
    {
        if (!root.IsGenericType || root.GetGenericTypeDefinition() != typeof(List<>)) return;
        var elem = root.GetGenericArguments()[0];
        if (elem.IsValueType || elem == typeof(Node) || elem.IsPointer || elem.IsByRef || elem.ContainsGenericParameters) return;
        TypeShape shape;
        try { shape = ShapeOf(root); }
        catch (NotSupportedException) { return; }
        // The same conditions under which ListToCore fills a List<T> through Fill (To of an item of exactly T is the item).
        if (shape.Kind != ShapeKind.List || shape.AddItem is not null || shape.Create is null || shape.ElementType != elem) return;
        var make = typeof(EagerList<>).MakeGenericType(elem);
        _eagerRoot = () => (EagerList)Activator.CreateInstance(make)!;
    }

    PyList NewList()
    {
        var l = new PyList();
        if (_eagerRoot is { } make && _sp == 0 && _marks.Count == 0) l.Eager = make();
        _eagerRoot = null;
        return l;
    }
    /// <remarks><see cref="Shared"/>: fetched from the memo or DUPed, so something besides the stack may hold it (never recycled).</remarks>
    sealed class PyDict : List<KeyValuePair<object?, object?>> { public object? Converted; public int MemoIndex = -1; public bool Shared; }
    sealed class PyTuple(object?[] items) { public readonly object?[] Items = items; public object? Converted; public int MemoIndex = -1; public bool Shared; }

    // A BUILD state dict and the argument tuples of NEWOBJ and of a datetime's REDUCE are used up by their opcode; when
    // nothing else can hold them (never fetched from the memo, never DUPed) the next one reuses them: a record then
    // costs its own objects and little else.
    PyDict? _freeDict;
    PyTuple? _freeEmpty, _freeOne;

    void MarkShared(object? v)
    {
        if (v is PyDict d) d.Shared = true;
        else if (v is PyTuple t) t.Shared = true;
    }

    void Recycle(PyTuple t)
    {
        if (t.Shared || t.Converted is not null) return;
        Release(t.MemoIndex, t);
        t.MemoIndex = -1;
        if (t.Items.Length == 0) _freeEmpty = t;
        else if (t.Items.Length == 1) { t.Items[0] = null; _freeOne = t; }
    }

    static readonly UTF8Encoding StrictUtf8 = new(false, true);
    /// <summary>Marks a list or array whose conversion is under way (a cycle through it cannot be restored here).</summary>
    static readonly object InProgress = new();
    /// <summary>A memo slot holding None (an empty slot is null).</summary>
    static readonly object MemoNone = new();
    /// <summary>
    /// A memo slot whose value was used up (a BUILD state dict, a datetime's state and argument tuple). Dropping them
    /// lets them die young instead of surviving in the memo to the end; a later GET of one goes to the Node path.
    /// </summary>
    static readonly object Consumed = new();

    readonly PickleInput _in;
    readonly ReadOptions _readOptions;
    readonly ObjectOptions _options;
    readonly Func<Type, TypeShape> _shapeOf;
    // The value stack: a reference per slot, and beside it the bits of an unboxed long, double or naive DateTime (the
    // reference is then one of the Typed marks). A record's id and timestamp go from the input to its setter unboxed;
    // anything else that takes a slot gets the boxed value (Boxed).
    object?[] _refs = new object?[64];
    long[] _bits = new long[64];
    int _sp;
    sealed class Typed;
    static readonly Typed LongMark = new(), DoubleMark = new(), DateMark = new();
    readonly List<int> _marks = new();
    // The memo in chunks: no copy of a huge array as it grows, and nothing allocated for indices a pickle does not use.
    const int MemoChunkBits = 10, MemoChunk = 1 << MemoChunkBits;
    object?[]?[] _memo = new object?[]?[16];
    int _memoCount;
    /// <summary>One past the highest index ever stored: slots from here on are all empty.</summary>
    long _memoHigh;
    /// <summary>
    /// The indices some GET of this pickle names (<see cref="MemoReferenceScan"/>); null: unknown, every entry is kept.
    /// An entry no GET names is not stored, only counted: <c>_present</c> says which such indices were put.
    /// </summary>
    readonly ulong[]? _named;
    ulong[] _present = [];
    /// <summary>Every index below this was put (kept or not): a pickle's MEMOIZEs fill the memo in order.</summary>
    long _presentBelow;
    /// <summary>Counts overwrites of stored entries: what a record's key GETs name may have changed.</summary>
    int _memoEpoch;

    /// <summary>Whether entry <paramref name="index"/> is stored in the slots (else only its presence is kept).</summary>
    bool Kept(long index) => _named is null || MemoReferenceScan.Contains(_named, index);

    /// <summary>Records that the unkept entry <paramref name="index"/> was put; false when it already was.</summary>
    bool MarkPresent(long index)
    {
        if (index == _presentBelow) { _presentBelow++; return !MemoBits.Get(_present, index); }
        return index > _presentBelow && MemoBits.Set(ref _present, index);
    }

    /// <summary>Whether entry <paramref name="index"/> was put, kept or not.</summary>
    bool Occupied(long index) => Kept(index) ? MemoAt(index) is not null : index < _presentBelow || MemoBits.Get(_present, index);

    /// <summary>Whether a GET may name one of the <paramref name="count"/> entries from <paramref name="from"/> on.</summary>
    bool AnyNamed(long from, int count)
    {
        if (_named is null || from < 256) return true;
        for (long i = from, end = from + count; i < end;)
        {
            long word = i >> 6;
            int lo = (int)(i & 63), hi = (int)Math.Min(64, end - (word << 6));
            ulong mask = (hi == 64 ? ulong.MaxValue : (1UL << hi) - 1) & ~((1UL << lo) - 1);
            if (word < _named.Length && (_named[word] & mask) != 0) return true;
            i = (word + 1) << 6;
        }
        return false;
    }
    /// <summary>Class names the caller's static types answer to (as the Node path accepts them without a registration); null value = ambiguous.</summary>
    readonly Dictionary<string, Type?> _static = new(StringComparer.Ordinal);
    readonly HashSet<Type> _walked = new();
    /// <summary>Instances whose class was taken from a static type only: they may only go where that type is declared.</summary>
    HashSet<object>? _staticOnly;
    Type? _lastType;
    TypeShape? _lastShape;

    /// <param name="sizeHint">The bytes left in the stream, when known: the memo is sized for them at once (a pickle of records memoizes about one value per dozen bytes), rather than grown by copying.</param>
    /// <param name="named">The memo indices the pickle's GETs name (<see cref="MemoReferenceScan.Scan"/>), or null when not known.</param>
    public PickleObjectLoader(PickleInput input, ReadOptions readOptions, ObjectOptions options, Func<Type, TypeShape> shapeOf, long sizeHint = 0, ulong[]? named = null)
    {
        _in = input; _readOptions = readOptions; _options = options; _shapeOf = shapeOf; _named = named;
        // (sizeHint: a pickle of records memoizes about one value per dozen bytes.)
        if (sizeHint > 12 * MemoChunk) _memo = new object?[]?[Math.Min(sizeHint / 12 / MemoChunk + 1, (1 << 26) / MemoChunk + 1)];
    }

    static Fallback No(string why) => new(why);

    TypeShape ShapeOf(Type t)
    {
        if (t == _lastType) return _lastShape!;
        var s = _shapeOf(t);
        _lastType = t; _lastShape = s;
        return s;
    }

    /// <summary>Runs one pickle and returns its value as <paramref name="root"/>.</summary>
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    public object? Load(Type root)
    {
        WalkStatic(root);
        SetEagerRoot(root);
        while (true)
        {
            int op = _in.ReadByte();
            switch (op)
            {
                case PickleOpcodes.PROTO: if (Take(1)[0] > PickleOpcodes.HighestProtocol) throw No("protocol"); break;
                case PickleOpcodes.FRAME: if (BinaryPrimitives.ReadUInt64LittleEndian(Take(8)) > (ulong)_readOptions.MaxValueBytes) throw No("frame"); break;
                case PickleOpcodes.STOP: return To(Pop(), root);
                case PickleOpcodes.MARK: _marks.Add(_sp); break;
                case PickleOpcodes.POP:
                    if (_sp > Floor) _refs[--_sp] = null;
                    else if (_marks.Count > 0) PopMark();
                    else throw No("underflow");
                    break;
                case PickleOpcodes.POP_MARK: PopMark(); break;
                case PickleOpcodes.DUP: { var v = Top(); MarkShared(v); Push(v); break; }
                case PickleOpcodes.NONE: Push(null); break;
                case PickleOpcodes.NEWTRUE: Push(True); break;
                case PickleOpcodes.NEWFALSE: Push(False); break;
                case PickleOpcodes.BININT: PushBits(LongMark, BinaryPrimitives.ReadInt32LittleEndian(Take(4))); break;
                case PickleOpcodes.BININT1: PushBits(LongMark, Take(1)[0]); break;
                case PickleOpcodes.BININT2: PushBits(LongMark, BinaryPrimitives.ReadUInt16LittleEndian(Take(2))); break;
                case PickleOpcodes.LONG1:
                {
                    int n = Take(1)[0];
                    var big = n == 0 ? BigInteger.Zero : new BigInteger(Take(n), isUnsigned: false, isBigEndian: false);
                    if (big >= long.MinValue && big <= long.MaxValue) PushBits(LongMark, (long)big);
                    else Push(big);
                    break;
                }
                case PickleOpcodes.BINFLOAT: PushBits(DoubleMark, BinaryPrimitives.ReadInt64BigEndian(Take(8))); break;
                case PickleOpcodes.SHORT_BINUNICODE: Push(StrictUtf8.GetString(TakeLength(Take(1)[0]))); break;
                case PickleOpcodes.BINUNICODE: Push(StrictUtf8.GetString(TakeLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))); break;
                case PickleOpcodes.BINUNICODE8: Push(StrictUtf8.GetString(TakeLength(BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))); break;
                case PickleOpcodes.SHORT_BINBYTES: Push(TakeLength(Take(1)[0]).ToArray()); break;
                case PickleOpcodes.BINBYTES: Push(TakeLength(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))).ToArray()); break;
                case PickleOpcodes.EMPTY_LIST: Push(NewList()); break;
                case PickleOpcodes.APPEND:
                {
                    var item = Pop(); var l = ListTarget();
                    if (l.Eager is { } e) { if (e.TryAdd(item)) break; l.Materialize(); }
                    l.Add(item);
                    break;
                }
                case PickleOpcodes.APPENDS:
                {
                    int m = MarkAt();
                    var target = m > 0 ? _refs[m - 1] as PyList : null;
                    if (target is not { Converted: null } || m - 1 < (_marks.Count > 1 ? _marks[^2] : 0)) throw No("append target");
                    if (target.Eager is { } e)
                    {
                        int i = m;
                        for (; i < _sp; i++) if (!e.TryAdd(_refs[i])) break;
                        if (i < _sp)
                        {
                            target.Materialize();
                            for (; i < _sp; i++) target.Add(Boxed(i));
                        }
                        DropTo(m);
                        break;
                    }
                    target.EnsureCapacity(target.Count + _sp - m);
                    for (int i = m; i < _sp; i++) target.Add(Boxed(i));
                    DropTo(m);
                    break;
                }
                case PickleOpcodes.LIST: { var l = new PyList(); l.AddRange(PopMark()); Push(l); break; }
                case PickleOpcodes.EMPTY_TUPLE: Push(_freeEmpty ?? new PyTuple([])); _freeEmpty = null; break;
                case PickleOpcodes.TUPLE: Push(new PyTuple(PopMark().ToArray())); break;
                case PickleOpcodes.TUPLE1:
                {
                    var a = Pop();
                    if (_freeOne is { } one) { one.Items[0] = a; _freeOne = null; Push(one); }
                    else Push(new PyTuple([a]));
                    break;
                }
                case PickleOpcodes.TUPLE2: { var b = Pop(); var a = Pop(); Push(new PyTuple([a, b])); break; }
                case PickleOpcodes.TUPLE3: { var c = Pop(); var b = Pop(); var a = Pop(); Push(new PyTuple([a, b, c])); break; }
                case PickleOpcodes.EMPTY_DICT: Push(_freeDict ?? new PyDict()); _freeDict = null; break;
                case PickleOpcodes.DICT: { var items = PopMark(); var d = new PyDict(); AddPairs(d, items); Push(d); break; }
                case PickleOpcodes.SETITEM:
                {
                    if (_sp - 3 >= Floor && TryBuildFromStack(_sp - 2, _sp - 3, Floor)) { _sp -= 2; Array.Clear(_refs, _sp, 2); FinishBuild(); break; }
                    var v = Pop(); var k = Pop(); var d = DictTarget(); d.Add(new(Key(k), v));
                    break;
                }
                case PickleOpcodes.SETITEMS:
                {
                    int m = MarkAt();
                    var target = m > 0 ? _refs[m - 1] as PyDict : null;
                    if (target is not { Converted: null } || m - 1 < (_marks.Count > 1 ? _marks[^2] : 0)) throw No("setitems target");
                    if ((_sp - m) % 2 != 0) throw No("odd items");
                    if (TryBuildFromStack(m, m - 1, _marks.Count > 1 ? _marks[^2] : 0)) { DropTo(m); FinishBuild(); break; }
                    target.EnsureCapacity(target.Count + (_sp - m) / 2);
                    for (int i = m; i < _sp; i += 2) target.Add(new(Key(Boxed(i)), Boxed(i + 1)));
                    DropTo(m);
                    break;
                }
                case PickleOpcodes.GLOBAL:
                {
                    var module = GlobalPart(); var name = GlobalPart();
                    Push(new PyGlobal(PickleGlobals.FixModule(module), name));
                    break;
                }
                case PickleOpcodes.STACK_GLOBAL:
                {
                    var name = Pop(); var module = Pop();
                    if (name is not string n || module is not string m) throw No("STACK_GLOBAL");
                    Push(new PyGlobal(m, n));
                    break;
                }
                case PickleOpcodes.NEWOBJ: { var args = Pop(); var cls = Pop(); Push(NewObject(cls, args)); break; }
                case PickleOpcodes.REDUCE:
                {
                    var args = Pop(); var f = Pop();
                    if (TryReduceDateTime(f, args, out var ticks)) PushBits(DateMark, ticks);
                    else Push(Reduce(f, args));
                    break;
                }
                case PickleOpcodes.BUILD: { var state = Pop(); Build(Top(), state); break; }
                case PickleOpcodes.BINPUT: MemoPut(Take(1)[0]); break;
                case PickleOpcodes.LONG_BINPUT: MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))); break;
                case PickleOpcodes.MEMOIZE: MemoPut(_memoCount); break;
                case PickleOpcodes.BINGET:
                case PickleOpcodes.LONG_BINGET:
                {
                    var v = MemoGet(op == PickleOpcodes.BINGET ? Take(1)[0] : BinaryPrimitives.ReadUInt32LittleEndian(Take(4)));
                    if (v is PyGlobal g && ReferenceEquals(g, _lastGlobal) && TryRecord(g)) break;
                    Push(v);
                    break;
                }
                default: throw No(op < 0 ? "truncated" : "opcode " + PickleOpcodes.NameOf((byte)op));
            }
        }
    }

    static readonly object True = true, False = false;

    // ---- input ----

    ReadOnlySpan<byte> Take(int n) => _in.TryRead(n, out var s) ? s : throw No("truncated");

    ReadOnlySpan<byte> TakeLength(ulong n)
    {
        if (n > (ulong)_readOptions.MaxValueBytes || n > int.MaxValue / 2) throw No("limit");
        return Take((int)n);
    }

    string GlobalPart() => _in.TryReadLine(out var line) ? StrictUtf8.GetString(line) : throw No("truncated");

    // ---- stack and memo ----

    int Floor => _marks.Count > 0 ? _marks[^1] : 0;

    void Push(object? v)
    {
        if (_sp == _refs.Length) GrowStack();
        _refs[_sp++] = v;
    }

    void PushBits(Typed mark, long bits)
    {
        if (_sp == _refs.Length) GrowStack();
        _refs[_sp] = mark;
        _bits[_sp++] = bits;
    }

    void GrowStack()
    {
        Array.Resize(ref _refs, _refs.Length * 2);
        Array.Resize(ref _bits, _bits.Length * 2);
    }

    /// <summary>The value in slot <paramref name="i"/>, boxed if it is held unboxed.</summary>
    object? Boxed(int i)
    {
        var r = _refs[i];
        if (r is Typed)
        {
            if (ReferenceEquals(r, LongMark)) return _bits[i];
            if (ReferenceEquals(r, DoubleMark)) return BitConverter.Int64BitsToDouble(_bits[i]);
            return new DateTime(_bits[i], DateTimeKind.Unspecified);
        }
        return r;
    }

    object? Pop()
    {
        if (_sp <= Floor) throw No("underflow");
        var o = Boxed(_sp - 1);
        _refs[--_sp] = null;
        return o;
    }

    object? Top() => _sp > Floor ? Boxed(_sp - 1) : throw No("underflow");

    /// <summary>The stack index of the topmost MARK.</summary>
    int MarkAt() => _marks.Count > 0 ? _marks[^1] : throw No("no mark");

    /// <summary>Removes the items above the topmost MARK (at <paramref name="m"/>) and the MARK.</summary>
    void DropTo(int m)
    {
        _marks.RemoveAt(_marks.Count - 1);
        Array.Clear(_refs, m, _sp - m);
        _sp = m;
    }

    List<object?> PopMark()
    {
        if (_marks.Count == 0) throw No("no mark");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = new List<object?>(_sp - m);
        for (int i = m; i < _sp; i++) items.Add(Boxed(i));
        Array.Clear(_refs, m, _sp - m);
        _sp = m;
        return items;
    }

    ref object? MemoSlot(long index)
    {
        int c = (int)(index >> MemoChunkBits);
        if (c >= _memo.Length) Array.Resize(ref _memo, Math.Max(c + 1, _memo.Length * 2));
        return ref (_memo[c] ??= new object?[MemoChunk])[index & (MemoChunk - 1)];
    }

    object? MemoAt(long index)
    {
        long c = index >> MemoChunkBits;
        return index >= 0 && c < _memo.Length && _memo[c] is { } chunk ? chunk[index & (MemoChunk - 1)] : null;
    }

    void MemoPut(long index)
    {
        if (index < 0 || index > 1 << 26) throw No("memo index");
        if (!Kept(index))
        {
            if (MarkPresent(index)) _memoCount++;
            if (index >= _memoHigh) _memoHigh = index + 1;
            return;
        }
        ref var slot = ref MemoSlot(index);
        if (slot is null) _memoCount++;
        else _memoEpoch++;
        if (index == _presentBelow) _presentBelow++;
        if (index >= _memoHigh) _memoHigh = index + 1;
        var v = Top();
        slot = v ?? MemoNone;
        if (v is PyDict { MemoIndex: < 0 } d) d.MemoIndex = (int)index;
        else if (v is PyTuple { MemoIndex: < 0 } t) t.MemoIndex = (int)index;
    }

    // Naive datetimes the record form memoizes: the slot holds DateMark and these hold the value (a box per record
    // would be a million more objects surviving to the end). Appended in memo order, so sorted by index.
    int[] _dateIndex = new int[64];
    long[] _dateTicks = new long[64];
    int _dates;

    void MemoDate(int index, long ticks)
    {
        if (_dates == _dateIndex.Length)
        {
            Array.Resize(ref _dateIndex, _dates * 2);
            Array.Resize(ref _dateTicks, _dates * 2);
        }
        _dateIndex[_dates] = index;
        _dateTicks[_dates++] = ticks;
    }

    object? MemoGet(long index)
    {
        var v = MemoAt(index);
        if (v is null || ReferenceEquals(v, Consumed)) throw No("memo get");
        if (ReferenceEquals(v, MemoNone)) return null;
        if (ReferenceEquals(v, DateMark))
        {
            int at = Array.BinarySearch(_dateIndex, 0, _dates, (int)index);
            if (at < 0) throw No("memo get");
            return new DateTime(_dateTicks[at], DateTimeKind.Unspecified);
        }
        MarkShared(v);
        return v;
    }

    // ---- containers ----

    /// <summary>A list being filled; one already handed to its owner must not change (the owner holds a copy).</summary>
    PyList ListTarget() => Top() is PyList { Converted: null } l ? l : throw No("append target");

    PyDict DictTarget() => Top() is PyDict { Converted: null } d ? d : throw No("setitem target");

    static object? Key(object? k) => k is PyList or PyDict or PyTuple or PyGlobal || IsInstance(k) ? throw No("key") : k;

    static void AddPairs(PyDict d, List<object?> items)
    {
        if (items.Count % 2 != 0) throw No("odd items");
        for (int i = 0; i < items.Count; i += 2) d.Add(new(Key(items[i]), items[i + 1]));
    }

    /// <summary>Whether a stack value is an instance this loader created (the only values not of the fixed raw kinds).</summary>
    static bool IsInstance(object? o) => o is not (null or string or long or double or bool or byte[] or BigInteger or DateTime or DateOnly
        or TimeOnly or DecimalNumber or PyList or PyDict or PyTuple or PyGlobal);

    // ---- classes ----

    /// <summary>What NEWOBJ of a class global makes, decided once per global (the memo hands back the same global object).</summary>
    readonly Dictionary<PyGlobal, (TypeShape shape, bool staticOnly)> _classes = new(ReferenceEqualityComparer.Instance);
    PyGlobal? _lastGlobal;
    (TypeShape shape, bool staticOnly) _lastClass;

    object NewObject(object? cls, object? args)
    {
        if (cls is not PyGlobal g || args is not PyTuple { Items.Length: 0 }) throw No("NEWOBJ form");
        (TypeShape shape, bool staticOnly) c;
        if (ReferenceEquals(g, _lastGlobal)) c = _lastClass;
        else
        {
            if (!_classes.TryGetValue(g, out c)) _classes[g] = c = ClassOf(g);
            (_lastGlobal, _lastClass) = (g, c);
        }
        Recycle((PyTuple)args);
        var o = c.shape.Create!();
        if (c.staticOnly) (_staticOnly ??= new(ReferenceEqualityComparer.Instance)).Add(o);
        return o;
    }

    (TypeShape shape, bool staticOnly) ClassOf(PyGlobal g)
    {
        if (g.Module is "builtins" or "copyreg" or "datetime" or "decimal" or "uuid" or "collections" || PickleGlobals.IsRefused(g, newObj: true, null))
            throw No("global " + g.FullName);
        var name = g.FullName;
        var x = _options.Types.Resolve(name);
        Type? s = null;
        if (_static.TryGetValue(name, out var st)) s = st ?? throw No("ambiguous name");
        if (x is not null && s is not null && x != s) throw No("name maps two ways");
        var type = x ?? s ?? throw No("class not allowed");
        var shape = ShapeOf(type);
        if (shape.Kind != ShapeKind.Object || type.IsValueType || type.IsAbstract || shape.Create is null ||
            shape.OnDeserializing.Length > 0 || shape.OnDeserialized.Length > 0)
            throw No("shape of " + type);
        if (x is not null) WalkStatic(x);
        return (shape, x is null);
    }

    void Build(object? target, object? state)
    {
        if (!IsInstance(target)) throw No("BUILD target");
        if (state is null) return;
        if (state is not PyDict d) throw No("BUILD state");
        var shape = ShapeOf(target!.GetType());
        foreach (var (k, v) in d)
        {
            // A key the type lacks is an error (strict) or skipped; either way the Node path decides.
            if (k is not string name || shape.Find(name) is not { Set: { } set } m) throw No("member");
            set(target, To(v, m.Type));
        }
        Release(d.MemoIndex, d);
        if (!d.Shared && d.Converted is null) { d.Clear(); d.MemoIndex = -1; _freeDict = d; }
    }

    void Release(int index, object value)
    {
        if (index >= 0 && ReferenceEquals(MemoAt(index), value)) MemoSlot(index) = Consumed;
    }

    /// <summary>Releases a REDUCE's argument tuple and its state bytes (memoized just before the tuple).</summary>
    void ReleaseArgs(PyTuple t)
    {
        if (t.MemoIndex < 0) return;
        Release(t.MemoIndex, t);
        if (t.Items is [byte[] b]) Release(t.MemoIndex - 1, b);
    }

    object? Reduce(object? f, object? args)
    {
        if (f is not PyGlobal g || args is not PyTuple t) throw No("REDUCE form");
        var a = t.Items;
        var value = ReduceCore(g, a);
        if (a is [byte[]]) ReleaseArgs(t);
        Recycle(t);
        return value;
    }

    static object ReduceCore(PyGlobal g, object?[] a)
    {
        // (Matched on the parts: FullName would build a string per call.)
        switch ((g.Module, g.Name))
        {
            case ("datetime", "datetime") when a is [byte[] { Length: 10 } b]: return NaiveDateTime(b);
            case ("datetime", "date") when a is [byte[] { Length: 4 } b]:
                return new DateOnly(b[0] * 256 + b[1], b[2], b[3]);
            case ("datetime", "time") when a is [byte[] { Length: 6 } b]:
            {
                int h = b[0] & 0x7f, us = (b[3] << 16) | (b[4] << 8) | b[5];
                if (h > 23 || b[1] > 59 || b[2] > 59 || us > 999_999) throw No("time");
                return new TimeOnly(h, b[1], b[2]).Add(TimeSpan.FromTicks(us * 10L));
            }
            case ("_codecs", "encode") when a is [string s, string enc] && enc.ToLowerInvariant().Replace('_', '-') is "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" or "l1":
            {
                // Protocols 0–2 write bytes (and the datetime states) as a latin-1 str.
                var bytes = new byte[s.Length];
                for (int i = 0; i < s.Length; i++) bytes[i] = s[i] <= 0xff ? (byte)s[i] : throw No("latin-1");
                return bytes;
            }
            case ("decimal", "Decimal") when a is [string s] && DecimalNumber.TryParse(s.Trim().Replace("_", ""), out var dec):
                return dec;
        }
        throw No("REDUCE of " + g.FullName);
    }

    static DateTime NaiveDateTime(ReadOnlySpan<byte> b)
    {
        int us = (b[7] << 16) | (b[8] << 8) | b[9];
        if (us > 999_999) throw No("datetime");
        var wall = new DateTime(b[0] * 256 + b[1], b[2] & 0x7f, b[3], b[4], b[5], b[6], DateTimeKind.Unspecified);
        // A naive datetime stays the wall time it is (a Timestamp without offset is made only if another type asks: NodeOf).
        return wall.AddTicks(us * 10L);
    }

    /// <summary>REDUCE of datetime.datetime with a naive state: the value stays unboxed on the stack (its ticks).</summary>
    bool TryReduceDateTime(object? f, object? args, out long ticks)
    {
        ticks = 0;
        if (f is not PyGlobal { Module: "datetime", Name: "datetime" } || args is not PyTuple { Items: [byte[] { Length: 10 } b] } t) return false;
        ticks = NaiveDateTime(b).Ticks;
        ReleaseArgs(t);
        Recycle(t);
        return true;
    }

    // ---- BUILD straight from the stack ----
    // EMPTY_DICT … SETITEMS BUILD on a new instance (how CPython and Brine write an object's state): when the dict is
    // fresh and nothing else holds it, its pairs are applied to the instance from the stack slots (typed setters for
    // unboxed slots), without filling the dict. Same members, same order, same conversions as Build.

    sealed class MemberLoad(MemberShape m)
    {
        public readonly MemberShape Member = m;
        public readonly Action<object, object?> Set = m.Set!;
        public readonly Action<object, long>? SetLong = m.TypedSet<long>();
        public readonly Action<object, int>? SetInt = m.TypedSet<int>();
        public readonly Action<object, double>? SetDouble = m.TypedSet<double>();
        public readonly Action<object, DateTime>? SetDate = m.TypedSet<DateTime>();
        public readonly bool IsString = m.Type == typeof(string);
    }

    /// <summary>Per class: the member each key position named last time, and that key (usually the same memoized string).</summary>
    sealed class LoadPlan(TypeShape shape)
    {
        public readonly TypeShape Shape = shape;
        public object?[] Keys = new object?[8];
        public MemberLoad?[] Members = new MemberLoad?[8];
        /// <summary>How many pairs its records have had (0: none yet; -1: not always the same).</summary>
        public int Count;
        /// <summary>Records in a row that were not in the form TryRecord parses.</summary>
        public int RecordMisses;
        /// <summary>
        /// The bytes of each key's GET in the last record parsed whole; valid while <see cref="KeyEpoch"/> is the
        /// loader's (no stored entry was overwritten since). The same bytes name the same memoized key.
        /// </summary>
        public byte[][]? KeyGets;
        public int KeyEpoch;
    }

    readonly Dictionary<Type, LoadPlan> _loadPlans = new();
    Type? _lastPlanType;
    LoadPlan? _lastPlan;

    LoadPlan LoadPlanOf(Type t)
    {
        if (t == _lastPlanType) return _lastPlan!;
        if (!_loadPlans.TryGetValue(t, out var plan)) _loadPlans[t] = plan = new LoadPlan(ShapeOf(t));
        (_lastPlanType, _lastPlan) = (t, plan);
        return plan;
    }

    /// <summary>
    /// Applies the pairs from slot <paramref name="items"/> up to the top to the instance below the dict at
    /// <paramref name="dict"/>, when the next opcode is BUILD and the dict is a fresh one no one else holds. False
    /// (nothing done) when the general path must fill the dict.
    /// </summary>
    /// <param name="floor">The stack floor once the pairs (and their MARK) are gone: the instance must be above it.</param>
    bool TryBuildFromStack(int items, int dict, int floor)
    {
        if (_refs[dict] is not PyDict { Converted: null, Shared: false, Count: 0 } || dict < 1) return false;
        var target = _refs[dict - 1];
        if (dict - 1 < floor || target is Typed || !IsInstance(target) || _in.PeekByte() != PickleOpcodes.BUILD) return false;
        var plan = LoadPlanOf(target!.GetType());
        for (int i = items, pos = 0; i < _sp; i += 2, pos++)
        {
            var key = _refs[i];
            if (key is not string name) throw No("member");
            MemberLoad? ml = null;
            if (pos < plan.Keys.Length && plan.Keys[pos] is { } known && (ReferenceEquals(known, key) || (string)known == name)) ml = plan.Members[pos];
            if (ml is null)
            {
                if (plan.Shape.Find(name) is not { Set: not null } m) throw No("member");
                ml = new MemberLoad(m);
                if (pos >= plan.Keys.Length) { Array.Resize(ref plan.Keys, pos * 2 + 1); Array.Resize(ref plan.Members, pos * 2 + 1); }
                plan.Keys[pos] = key;
                plan.Members[pos] = ml;
            }
            SetMember(target, ml, i + 1);
        }
        int pairs = (_sp - items) / 2;
        if (plan.Count == 0 && pairs <= plan.Keys.Length) plan.Count = pairs;
        else if (plan.Count != pairs) plan.Count = -1;
        return true;
    }

    // ---- whole records ----
    // The mirror of the encoder's WriteRecord: once a class's records have been built from the stack with the same
    // keys, a record that follows the usual form — GET class, EMPTY_TUPLE NEWOBJ MEMOIZE, EMPTY_DICT MEMOIZE [MARK],
    // then per member the same key's GET and a scalar value, SETITEM(S) BUILD — is parsed in one go from the input
    // buffer: the same instance, members, memo entries and stack as the opcodes one by one would leave. Anything
    // else in the bytes (another opcode, a FRAME, a value of another kind, the end of the buffer) and nothing is
    // taken: the opcodes run one by one.

    /// <summary>How many records were parsed in one go (tests check the fast form ran).</summary>
    public int Records { get; private set; }

    object?[] _recordValues = new object?[8];
    long[] _recordBits = new long[8];
    byte[] _recordKinds = new byte[8];
    /// <summary>Per member: where its memo entry (a string's, a datetime's) is in _recordMemo.</summary>
    int[] _recordMemoAt = new int[8];
    const byte RecLong = 1, RecString = 2, RecNone = 3, RecDate = 4, RecDouble = 5;
    /// <summary>Memo entries a record makes, in order: the value (null: used up, stored as <see cref="Consumed"/>).</summary>
    object?[] _recordMemo = new object?[64];
    /// <summary>Per key of the record being parsed the slow way: where its GET is in the span (offset &lt;&lt; 8 | length).</summary>
    int[] _keyGetAt = new int[8];

    bool TryRecord(PyGlobal g)
    {
        if (_lastClass.shape.Type != _lastPlanType || _lastPlan is not { Count: > 0 } plan || plan.RecordMisses > 64) return false;
        // A class whose records keep not matching (a list member, an object written before) stops being tried.
        if (TryRecord(plan)) { plan.RecordMisses = 0; return true; }
        plan.RecordMisses++;
        return false;
    }

    // Optimized at once: a load is usually one call, and its records run through here long before tiering would
    // have replaced the first, unoptimized code.
    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.AggressiveOptimization)]
    bool TryRecord(LoadPlan plan)
    {
        var c = _lastClass;
        int n = plan.Count;
        var span = _in.PeekUpTo(4096);
        int p = 0, memo = 0;
        if (span.Length < 6 || span[0] != PickleOpcodes.EMPTY_TUPLE || span[1] != PickleOpcodes.NEWOBJ || span[2] != PickleOpcodes.MEMOIZE
            || span[3] != PickleOpcodes.EMPTY_DICT || span[4] != PickleOpcodes.MEMOIZE) return false;
        p = 5;
        if (n > 1) { if (span[p] != PickleOpcodes.MARK) return false; p++; }
        if (_recordValues.Length < n) { _recordValues = new object?[n]; _recordBits = new long[n]; _recordKinds = new byte[n]; _recordMemoAt = new int[n]; }
        if (_recordMemo.Length < 2 + 4 * n) _recordMemo = new object?[2 + 4 * n];
        var memoOut = _recordMemo;
        var keyGets = plan.KeyEpoch == _memoEpoch ? plan.KeyGets : null;
        if (_keyGetAt.Length < n) _keyGetAt = new int[n];
        memoOut[memo++] = null;   // the instance (filled in when made)
        memoOut[memo++] = null;   // the state dict: used up by BUILD
        for (int i = 0; i < n; i++)
        {
            // The key: a GET of the same memoized string as before (by its bytes once a record has matched).
            if (keyGets is not null)
            {
                var g = keyGets[i];
                if (!span.Slice(p).StartsWith(g)) return false;
                p += g.Length;
            }
            else
            {
                int at = p;
                if (!TryParseGet(span, ref p, out long ki) || !ReferenceEquals(MemoAt(ki), plan.Keys[i])) return false;
                _keyGetAt[i] = at << 8 | (p - at);
            }
            var ml = plan.Members[i]!;
            if (p >= span.Length) return false;
            switch (span[p])
            {
                case PickleOpcodes.BININT1:
                    if (p + 2 > span.Length || ml.SetLong is null && ml.SetInt is null) return false;
                    _recordBits[i] = span[p + 1]; _recordKinds[i] = RecLong; p += 2;
                    break;
                case PickleOpcodes.BININT2:
                    if (p + 3 > span.Length || ml.SetLong is null && ml.SetInt is null) return false;
                    _recordBits[i] = BinaryPrimitives.ReadUInt16LittleEndian(span[(p + 1)..]); _recordKinds[i] = RecLong; p += 3;
                    break;
                case PickleOpcodes.BININT:
                    if (p + 5 > span.Length || ml.SetLong is null && ml.SetInt is null) return false;
                    _recordBits[i] = BinaryPrimitives.ReadInt32LittleEndian(span[(p + 1)..]); _recordKinds[i] = RecLong; p += 5;
                    break;
                case PickleOpcodes.BINFLOAT:
                    if (p + 9 > span.Length || ml.SetDouble is null) return false;
                    _recordBits[i] = BinaryPrimitives.ReadInt64BigEndian(span[(p + 1)..]); _recordKinds[i] = RecDouble; p += 9;
                    break;
                case PickleOpcodes.NONE:
                    if (!ml.IsString) return false;
                    _recordKinds[i] = RecNone; p += 1;
                    break;
                case PickleOpcodes.SHORT_BINUNICODE:
                {
                    if (!ml.IsString || p + 2 > span.Length) return false;
                    int len = span[p + 1];
                    if (p + 2 + len >= span.Length || span[p + 2 + len] != PickleOpcodes.MEMOIZE) return false;
                    // Decoded once the whole record matched (a record that does not match costs no string).
                    _recordValues[i] = null; _recordKinds[i] = RecString;
                    _recordBits[i] = (long)(p + 2) << 32 | (uint)len;
                    _recordMemoAt[i] = memo;
                    memoOut[memo++] = null;
                    p += 3 + len;
                    break;
                }
                case PickleOpcodes.BINGET or PickleOpcodes.LONG_BINGET:
                {
                    // A string memoized before (CPython shares equal strings a program shares), or datetime.datetime.
                    if (!TryParseGet(span, ref p, out long vi)) return false;
                    var v = MemoAt(vi);
                    if (v is string str && ml.IsString) { _recordValues[i] = str; _recordKinds[i] = RecString; break; }
                    if (v is not PyGlobal { Module: "datetime", Name: "datetime" } || ml.SetDate is null) return false;
                    // SHORT_BINBYTES 10 <state> MEMOIZE TUPLE1 MEMOIZE REDUCE MEMOIZE
                    if (p + 17 > span.Length || span[p] != PickleOpcodes.SHORT_BINBYTES || span[p + 1] != 10 || span[p + 12] != PickleOpcodes.MEMOIZE
                        || span[p + 13] != PickleOpcodes.TUPLE1 || span[p + 14] != PickleOpcodes.MEMOIZE || span[p + 15] != PickleOpcodes.REDUCE
                        || span[p + 16] != PickleOpcodes.MEMOIZE) return false;
                    _recordBits[i] = NaiveDateTime(span.Slice(p + 2, 10)).Ticks; _recordKinds[i] = RecDate;
                    memoOut[memo++] = null;   // the state bytes and the argument tuple: used up by REDUCE
                    memoOut[memo++] = null;
                    _recordMemoAt[i] = memo;
                    memoOut[memo++] = null;   // the datetime itself (boxed when stored)
                    p += 17;
                    break;
                }
                default: return false;
            }
        }
        if (p + 2 > span.Length || span[p] != (n > 1 ? PickleOpcodes.SETITEMS : PickleOpcodes.SETITEM) || span[p + 1] != PickleOpcodes.BUILD) return false;
        p += 2;
        // Ints the member cannot take as they are go the general way (To decides there).
        for (int i = 0; i < n; i++)
            if (_recordKinds[i] == RecLong && plan.Members[i]!.SetLong is null && _recordBits[i] is < int.MinValue or > int.MaxValue) return false;

        // The bytes are a record: make it. (Its memo entries go to fresh slots, as MEMOIZE's one by one would.)
        if (_memoCount + memo > 1 << 26) return false;
        if (_memoHigh > _memoCount) for (int k = 0; k < memo; k++) if (Occupied(_memoCount + k)) return false;
        // Usually no GET names any of the record's entries: then they are only counted.
        bool keepAny = AnyNamed(_memoCount, memo);
        if (keyGets is null)
        {
            plan.KeyGets = new byte[n][];
            for (int i = 0; i < n; i++) plan.KeyGets[i] = span.Slice(_keyGetAt[i] >> 8, _keyGetAt[i] & 0xff).ToArray();
            plan.KeyEpoch = _memoEpoch;
        }
        var o = c.shape.Create!();
        if (c.staticOnly) (_staticOnly ??= new(ReferenceEqualityComparer.Instance)).Add(o);
        memoOut[0] = o;
        for (int i = 0; i < n; i++)
        {
            var ml = plan.Members[i]!;
            long b = _recordBits[i];
            switch (_recordKinds[i])
            {
                case RecLong: if (ml.SetLong is { } sl) sl(o, b); else ml.SetInt!(o, (int)b); break;
                case RecDouble: ml.SetDouble!(o, BitConverter.Int64BitsToDouble(b)); break;
                case RecDate:
                {
                    var dt = new DateTime(b, DateTimeKind.Unspecified);
                    ml.SetDate!(o, dt);
                    memoOut[_recordMemoAt[i]] = DateMark;
                    if (keepAny && Kept(_memoCount + _recordMemoAt[i])) MemoDate(_memoCount + _recordMemoAt[i], b);
                    break;
                }
                case RecNone: ml.Set(o, null); break;
                default:
                    if (_recordValues[i] is { } shared) { ml.Set(o, shared); _recordValues[i] = null; }
                    else
                    {
                        var str = StrictUtf8.GetString(span.Slice((int)(b >> 32), (int)(uint)b));
                        ml.Set(o, str);
                        memoOut[_recordMemoAt[i]] = str;
                    }
                    break;
            }
        }
        if (!keepAny && _presentBelow == _memoCount)
        {
            _memoCount += memo;
            _presentBelow = _memoCount;
            Array.Clear(memoOut, 0, memo);
        }
        else
            for (int k = 0; k < memo; k++)
            {
                long index = _memoCount++;
                if (Kept(index)) { MemoSlot(index) = memoOut[k] ?? Consumed; if (index == _presentBelow) _presentBelow++; }
                else MarkPresent(index);
                memoOut[k] = null;
            }
        if (_memoCount > _memoHigh) _memoHigh = _memoCount;
        _in.Skip(p);
        Push(o);
        Records++;
        return true;
    }

    /// <summary>A GET of an entry made before this record (the record's own entries are not stored yet).</summary>
    bool TryParseGet(ReadOnlySpan<byte> span, ref int p, out long index)
    {
        index = -1;
        if (p + 2 <= span.Length && span[p] == PickleOpcodes.BINGET) { index = span[p + 1]; p += 2; }
        else if (p + 5 <= span.Length && span[p] == PickleOpcodes.LONG_BINGET) { index = BinaryPrimitives.ReadUInt32LittleEndian(span[(p + 1)..]); p += 5; }
        else return false;
        return index < _memoCount;
    }

    void SetMember(object target, MemberLoad ml, int slot)
    {
        var r = _refs[slot];
        if (r is Typed)
        {
            long b = _bits[slot];
            if (ReferenceEquals(r, LongMark))
            {
                if (ml.SetLong is { } sl) { sl(target, b); return; }
                if (ml.SetInt is { } si && b is >= int.MinValue and <= int.MaxValue) { si(target, (int)b); return; }
            }
            else if (ReferenceEquals(r, DoubleMark)) { if (ml.SetDouble is { } sd) { sd(target, BitConverter.Int64BitsToDouble(b)); return; } }
            else if (ml.SetDate is { } st) { st(target, new DateTime(b, DateTimeKind.Unspecified)); return; }
            ml.Set(target, To(Boxed(slot), ml.Member.Type));
            return;
        }
        if (ml.IsString && r is string s) { ml.Set(target, s); return; }
        ml.Set(target, To(r, ml.Member.Type));
    }

    /// <summary>After <see cref="TryBuildFromStack"/>: takes the BUILD and the used-up dict (recycled as Build does).</summary>
    void FinishBuild()
    {
        _in.ReadByte();
        var d = (PyDict)_refs[--_sp]!;
        _refs[_sp] = null;
        Release(d.MemoIndex, d);
        d.MemoIndex = -1;
        _freeDict = d;
    }

    /// <summary>Records the class names of the concrete types reachable from <paramref name="t"/>'s declared members.</summary>
    void WalkStatic(Type t)
    {
        var todo = new Stack<Type>();
        todo.Push(t);
        while (todo.Count > 0)
        {
            var u = todo.Pop();
            u = Nullable.GetUnderlyingType(u) ?? u;
            if (!_walked.Add(u)) continue;
            TypeShape shape;
            try { shape = ShapeOf(u); }
            catch (NotSupportedException) { continue; }
            switch (shape.Kind)
            {
                case ShapeKind.Object:
                    if (u.IsAbstract || u.IsInterface || u == typeof(object)) break;
                    AddStatic(_options.Types.NameOf(u), u);
                    AddStatic(u.FullName ?? u.Name, u);
                    foreach (var m in shape.Members) todo.Push(m.Type);
                    break;
                case ShapeKind.List or ShapeKind.Set or ShapeKind.Array: todo.Push(shape.ElementType!); break;
                case ShapeKind.Dictionary: todo.Push(shape.ValueType!); break;
                case ShapeKind.Tuple: foreach (var x in shape.TupleTypes) todo.Push(x); break;
            }
        }
    }

    void AddStatic(string name, Type t)
    {
        if (_static.TryGetValue(name, out var had) && had != t) _static[name] = null;
        else _static[name] = t;
    }

    // ---- conversion to declared types ----

    /// <summary>Converts a loaded value to <paramref name="t"/> as the Node path's <c>ObjectReader</c> would.</summary>
    object? To(object? v, Type t)
    {
        // The value already is the declared type (what the checks below would return as it is).
        if (v is not null && v.GetType() == t && t != typeof(PyList) && t != typeof(PyDict) && t != typeof(PyTuple) && t != typeof(PyGlobal)) return v;
        if (t == typeof(Node)) throw No("Node member");
        if (v is null)
        {
            if (!t.IsValueType || Nullable.GetUnderlyingType(t) is not null) return null;
            throw No("null for a value type");
        }
        var u = Nullable.GetUnderlyingType(t) ?? t;
        if (u == typeof(Node)) throw No("Node member");
        switch (v)
        {
            case string s when u == typeof(string) || u == typeof(object): return s;
            case long when u == typeof(long) || u == typeof(object): return v;
            case long l when u == typeof(int) && l is >= int.MinValue and <= int.MaxValue: return (int)l;
            case double when u == typeof(double) || u == typeof(object): return v;
            case bool when u == typeof(bool) || u == typeof(object): return v;
            case DateTime when u == typeof(DateTime) || u == typeof(object): return v;
            case PyList list: return ListTo(list, list, isTuple: false, u);
            case PyTuple tuple: return ListTo(tuple.Items, tuple, isTuple: true, u);
            case PyDict dict: return DictTo(dict, u);
            case PyGlobal: throw No("global as a value");
        }
        if (IsInstance(v))
        {
            if (u == typeof(object) ? _staticOnly?.Contains(v) == true
                : !u.IsInstanceOfType(v) || _staticOnly?.Contains(v) == true && v.GetType() != u)
                throw No("instance where " + u + " is declared");
            return v;
        }
        return ScalarConversion.To(NodeOf(v), t);
    }

    static Node NodeOf(object v) => v switch
    {
        string s => Node.String(s),
        long l => Node.Int(l),
        BigInteger b => Node.Int(b),
        double d => Node.Float(d),
        bool b => Node.Bool(b),
        byte[] b => Node.Bytes(b),
        DateTime dt => Node.Timestamp(NaiveTimestamp(dt)),
        DateOnly d => Node.Date(d),
        TimeOnly t => Node.Time(t),
        DecimalNumber d => Node.Decimal(d),
        _ => throw No("scalar"),
    };

    /// <summary>The Timestamp the Node path makes of a naive datetime: floor seconds since the epoch of the wall time, and the rest.</summary>
    static Timestamp NaiveTimestamp(DateTime wall)
    {
        long rel = wall.Ticks - DateTime.UnixEpoch.Ticks;
        long secs = rel / TimeSpan.TicksPerSecond, rem = rel % TimeSpan.TicksPerSecond;
        if (rem < 0) { secs--; rem += TimeSpan.TicksPerSecond; }
        return new Timestamp(secs, (int)(rem * 100), null);
    }

    /// <summary>The converted form of a list or dict already handed out, when it is one the declared type accepts.</summary>
    static bool Reuse(object? converted, Type u, out object? result)
    {
        result = converted;
        if (converted is null) return false;
        if (ReferenceEquals(converted, InProgress) || !u.IsInstanceOfType(converted)) throw No("shared container of another type");
        return true;
    }

    /// <summary>Lists and dicts are converted recursively: deeper nesting than this goes to the Node path, which has no recursion.</summary>
    const int MaxNesting = 500;
    int _nesting;

    object? ListTo(IReadOnlyList<object?> items, object holder, bool isTuple, Type u)
    {
        if (++_nesting > MaxNesting) throw No("nesting");
        try { return ListToCore(items, holder, isTuple, u); }
        finally { _nesting--; }
    }

    object? DictTo(PyDict d, Type u)
    {
        if (++_nesting > MaxNesting) throw No("nesting");
        try { return DictToCore(d, u); }
        finally { _nesting--; }
    }

    object? ListToCore(IReadOnlyList<object?> items, object holder, bool isTuple, Type u)
    {
        ref object? converted = ref holder is PyList pl ? ref pl.Converted : ref ((PyTuple)holder).Converted;
        if (Reuse(converted, u, out var done)) return done;
        if (holder is PyList { Eager: { } eager } ep)
        {
            // The items are already in the declared list: it is what the conversion below would make.
            if (u == eager.ListType) return converted = eager.List;
            ep.Materialize();
        }
        var type = u;
        var shape = ShapeOf(u);
        if (u == typeof(object) || shape.Kind == ShapeKind.Object && (u.IsAbstract || u.IsInterface))
        {
            type = isTuple ? typeof(object?[]) : typeof(List<object?>);
            shape = ShapeOf(type);
        }
        switch (shape.Kind)
        {
            case ShapeKind.List:
            {
                var list = (shape.Create ?? throw No("list without constructor"))();
                var elem = shape.ElementType!;
                converted = list;
                if (shape.AddItem is { } add) foreach (var i in items) add(list, To(i, elem));
                else if (items.Count > 16 && list.GetType() == typeof(List<>).MakeGenericType(elem)) FillerOf(elem)(this, list, items);
                else if (list is IList il) foreach (var i in items) il.Add(To(i, elem));
                else throw No("list without Add");
                return list;
            }
            case ShapeKind.Set:
            {
                var set = shape.Create!();
                converted = set;
                var values = new object?[items.Count];
                for (int i = 0; i < values.Length; i++) values[i] = To(items[i], shape.ElementType!);
                foreach (var x in values) shape.AddItem!(set, x);
                return set;
            }
            case ShapeKind.Array:
            {
                converted = InProgress;
                var a = Array.CreateInstance(shape.ElementType!, items.Count);
                for (int i = 0; i < items.Count; i++) a.SetValue(To(items[i], shape.ElementType!), i);
                converted = a;
                return a;
            }
        }
        throw No("list as " + u);
    }

    /// <summary>A long list into a <c>List&lt;T&gt;</c>: sized once, added to without the non-generic interface.</summary>
    static void Fill<T>(PickleObjectLoader self, object list, IReadOnlyList<object?> items)
    {
        var l = (List<T>)list;
        l.EnsureCapacity(l.Count + items.Count);
        for (int i = 0; i < items.Count; i++) l.Add((T)self.To(items[i], typeof(T))!);
    }

    static readonly System.Collections.Concurrent.ConcurrentDictionary<Type, Action<PickleObjectLoader, object, IReadOnlyList<object?>>> Fillers = new();

    static Action<PickleObjectLoader, object, IReadOnlyList<object?>> FillerOf(Type elem) => Fillers.GetOrAdd(elem, static e =>
        typeof(PickleObjectLoader).GetMethod(nameof(Fill), System.Reflection.BindingFlags.NonPublic | System.Reflection.BindingFlags.Static)!
            .MakeGenericMethod(e).CreateDelegate<Action<PickleObjectLoader, object, IReadOnlyList<object?>>>());

    object? DictToCore(PyDict d, Type u)
    {
        if (Reuse(d.Converted, u, out var done)) return done;
        var type = u;
        var shape = ShapeOf(u);
        if (shape.Kind != ShapeKind.Dictionary)
        {
            if (u != typeof(object)) throw No("dict as " + u);
            type = typeof(Dictionary<object, object?>);
            shape = ShapeOf(type);
        }
        var dict = (IDictionary)shape.Create!();
        d.Converted = dict;
        foreach (var (k, v) in d)
            dict[To(k, shape.KeyType!) ?? throw No("null key")] = To(v, shape.ValueType!);
        return dict;
    }
}
