using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text;
using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>
/// Runs pickle's stack machine over one pickle at a time and returns the value as a <see cref="Node"/> graph:
/// one small method per opcode in a dispatch table, as CPython's <c>pickle.py</c> does. Memo references become
/// shared nodes. Nothing is imported or called: globals are names, and calls are translated by
/// <see cref="PickleGlobals"/> into data, or refused.
/// </summary>
sealed class PickleLoader
{
    const string Format = "pickle";
    static readonly UTF8Encoding StrictUtf8 = new(false, true);

    readonly PickleInput _in;
    readonly ReadOptions _options;
    readonly IReadOnlyList<ReadOnlyMemory<byte>>? _buffers;
    readonly IReadOnlySet<string>? _allowed;
    readonly Action[] _dispatch = new Action[256];

    readonly List<object> _stack = new();
    readonly List<int> _marks = new();
    // The memo is dense in practice (0, 1, 2 …): indices below DenseLimit go to chunks of a fixed size (a growing
    // list moved to the large object heap and was copied whole at each doubling); PUT may name any index, so larger
    // ones go to a dictionary.
    const int ChunkBits = 12, ChunkSize = 1 << ChunkBits;
    const long DenseLimit = 1L << 26;
    object?[]?[] _memoChunks = new object?[]?[16];
    /// <summary>Which dense indices were stored, kept or not: MEMOIZE counts them, and a GET tells "not kept" from "never stored".</summary>
    ulong[] _memoStored = new ulong[64];
    readonly Dictionary<long, object> _sparseMemo = new();
    int _memoCount;
    /// <summary>
    /// The memo indices some GET may name (<see cref="MemoReferenceScan"/>), or null to keep every entry. Entries no
    /// GET names are not stored: on a million records that is millions of references the collector would trace.
    /// </summary>
    ulong[]? _named;
    /// <summary>
    /// Every memo store in order (index, node), so the reader can name the few shared nodes after their first memo
    /// index. A log, not a dictionary: a million records make millions of stores, and hashing each one cost more than
    /// the rest of loading them.
    /// </summary>
    readonly List<(long index, Node node)> _memoLog = new();
    bool _logAll = true;
    /// <summary>Nodes whose memo slot went to another node (an object that became a scalar after BUILD).</summary>
    readonly HashSet<Node> _memoReplaced = new(ReferenceEqualityComparer.Instance);
    /// <summary>Maps made by instantiating a class (so BUILD, APPEND and SETITEM know them).</summary>
    readonly HashSet<Node> _objects = new(ReferenceEqualityComparer.Instance);
    /// <summary>Globals that were put into containers as values, so calls can still see them.</summary>
    readonly Dictionary<Node, PyGlobal> _globalNodes = new(ReferenceEqualityComparer.Instance);
    int _nextBuffer;

    long _opPos;
    byte _op;
    Node? _result;

    public PickleLoader(Stream input, ReadOptions options, IReadOnlyList<ReadOnlyMemory<byte>>? buffers)
    {
        _in = new PickleInput(input);
        _options = options;
        _buffers = buffers;
        if (options.Setting("allow") is { Length: > 0 } allow)
            _allowed = allow.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).ToHashSet(StringComparer.Ordinal);
        BuildDispatch();
    }

    /// <summary>The byte source, shared with the direct object path (<see cref="PickleObjectLoader"/>).</summary>
    public PickleInput Input => _in;
    public ReadOptions Options => _options;
    /// <summary>Whether out-of-band buffers were given (the direct object path leaves those pickles to this loader).</summary>
    public bool HasBuffers => _buffers is not null;

    /// <summary>Offset of the opcode being run (or of the next pickle).</summary>
    public long Position => _opPos;
    /// <summary>Offset of the PROTO opcode (or first opcode) of the pickle last loaded.</summary>
    public long StartOffset { get; private set; }

    /// <summary>Loads the next pickle of the stream; null when the stream ends cleanly between pickles.</summary>
    /// <param name="nameShared">Whether <see cref="NameByMemo"/> will be asked to name the shared nodes (the token path):
    /// without it only the stores of objects are logged (<see cref="MemoReplace"/> needs those), not every store.</param>
    public Node? LoadNext(bool nameShared = true)
    {
        _logAll = nameShared;
        Reset();
        _opPos = _in.Position;
        StartOffset = _opPos;
        if (_in.AtEnd) return null;
        int firstBuffer = _nextBuffer;
        _named = ScanNamed();
        try { return Run(); }
        catch (MemoRerunException)
        {
            // A GET named an entry the scan said no GET names (its guess of where the pickle ends was wrong): run the
            // pickle again keeping every entry, as without the scan. Everything before that GET ran as it would have.
            Reset();
            _named = null;
            _nextBuffer = firstBuffer;
            _in.Rewind(StartOffset);
            Reruns++;
            return Run();
        }
    }

    /// <summary>Pickles from this many bytes before the end of the stream are scanned for their GETs first (tests lower it).</summary>
    internal long ScanFromBytes { get; set; } = 64 * 1024;
    /// <summary>How many pickles were run a second time keeping every memo entry (tests check the rerun).</summary>
    internal int Reruns { get; private set; }

    /// <summary>The memo indices the pickle's GETs may name, or null (keep everything) when the input cannot go back or the pickle is small.</summary>
    ulong[]? ScanNamed()
    {
        if (!_in.CanRewind) return null;
        long left = _in.Remaining;
        if (left < ScanFromBytes) return null;
        ulong[]? named;
        try { named = MemoReferenceScan.Scan(_in, left); }
        catch (Exception e) when (e is not OutOfMemoryException) { named = null; }
        _in.Rewind(StartOffset);
        return named;
    }

    void Reset()
    {
        _stack.Clear(); _marks.Clear(); _sparseMemo.Clear(); _memoCount = 0;
        // A large memo's chunks are dropped (the next pickle may be small); a small one's are cleared.
        if (_memoChunks.Length > 16) _memoChunks = new object?[]?[16];
        else foreach (var c in _memoChunks) if (c is not null) Array.Clear(c);
        if (_memoStored.Length > 64) _memoStored = new ulong[64]; else Array.Clear(_memoStored);
        _memoLog.Clear(); _memoReplaced.Clear(); _objects.Clear(); _globalNodes.Clear(); _maybeShared.Clear();
        _result = null;
    }

    sealed class MemoRerunException : Exception { }

    Node Run()
    {
        while (_result is null)
        {
            _opPos = _in.Position;
            int b = _in.ReadByte();
            if (b < 0) throw new BrineFormatException(Format, $"byte {_opPos}", "pickle truncated: the data ended before the STOP opcode");
            _op = (byte)b;
            try
            {
                // The opcodes of records are called directly (so the small ones inline); the rest through the table.
                switch (_op)
                {
                    case PickleOpcodes.MEMOIZE: LoadMemoize(); break;
                    case PickleOpcodes.BINGET: LoadBinGet(); break;
                    case PickleOpcodes.LONG_BINGET: LoadLongBinGet(); break;
                    case PickleOpcodes.BINPUT: LoadBinPut(); break;
                    case PickleOpcodes.SHORT_BINUNICODE: LoadShortBinUnicode(); break;
                    case PickleOpcodes.BININT1: LoadBinInt1(); break;
                    case PickleOpcodes.BININT: LoadBinInt(); break;
                    case PickleOpcodes.BINFLOAT: LoadBinFloat(); break;
                    case PickleOpcodes.EMPTY_DICT: Push(Node.Map()); break;
                    case PickleOpcodes.MARK: LoadMark(); break;
                    case PickleOpcodes.SETITEMS: LoadSetItems(); break;
                    case PickleOpcodes.APPENDS: LoadAppends(); break;
                    case PickleOpcodes.SHORT_BINBYTES: LoadShortBinBytes(); break;
                    default:
                        var handler = _dispatch[b];
                        if (handler is null) throw Fail($"invalid opcode byte 0x{b:x2} (not a pickle, or corrupt)", named: false);
                        handler();
                        break;
                }
            }
            catch (Exception e) when (e is InvalidCastException or ArgumentException or OverflowException or FormatException or InvalidOperationException or IndexOutOfRangeException)
            {
                // A safety net: corrupt input must give a format error, never another exception.
                throw Fail($"corrupt pickle ({e.Message})");
            }
        }
        return _result;
    }

    void BuildDispatch()
    {
        void On(byte op, Action a) => _dispatch[op] = a;
        On(PickleOpcodes.PROTO, LoadProto);
        On(PickleOpcodes.FRAME, LoadFrame);
        On(PickleOpcodes.STOP, LoadStop);
        On(PickleOpcodes.MARK, LoadMark);
        On(PickleOpcodes.POP, LoadPop);
        On(PickleOpcodes.POP_MARK, LoadPopMark);
        On(PickleOpcodes.DUP, LoadDup);
        On(PickleOpcodes.NONE, () => Push(Node.Null()));
        On(PickleOpcodes.NEWTRUE, () => Push(Node.Bool(true)));
        On(PickleOpcodes.NEWFALSE, () => Push(Node.Bool(false)));
        On(PickleOpcodes.INT, LoadInt);
        On(PickleOpcodes.BININT, LoadBinInt);
        On(PickleOpcodes.BININT1, LoadBinInt1);
        On(PickleOpcodes.BININT2, LoadBinInt2);
        On(PickleOpcodes.LONG, LoadLong);
        On(PickleOpcodes.LONG1, LoadLong1);
        On(PickleOpcodes.LONG4, LoadLong4);
        On(PickleOpcodes.FLOAT, LoadFloat);
        On(PickleOpcodes.BINFLOAT, LoadBinFloat);
        On(PickleOpcodes.STRING, LoadString);
        On(PickleOpcodes.BINSTRING, LoadBinString);
        On(PickleOpcodes.SHORT_BINSTRING, LoadShortBinString);
        On(PickleOpcodes.UNICODE, LoadUnicode);
        On(PickleOpcodes.BINUNICODE, LoadBinUnicode);
        On(PickleOpcodes.SHORT_BINUNICODE, LoadShortBinUnicode);
        On(PickleOpcodes.BINUNICODE8, LoadBinUnicode8);
        On(PickleOpcodes.BINBYTES, LoadBinBytes);
        On(PickleOpcodes.SHORT_BINBYTES, LoadShortBinBytes);
        On(PickleOpcodes.BINBYTES8, LoadBinBytes8);
        On(PickleOpcodes.BYTEARRAY8, LoadByteArray8);
        On(PickleOpcodes.NEXT_BUFFER, LoadNextBuffer);
        On(PickleOpcodes.READONLY_BUFFER, LoadReadOnlyBuffer);
        On(PickleOpcodes.EMPTY_LIST, () => Push(Node.List()));
        On(PickleOpcodes.APPEND, LoadAppend);
        On(PickleOpcodes.APPENDS, LoadAppends);
        On(PickleOpcodes.LIST, LoadList);
        On(PickleOpcodes.EMPTY_TUPLE, () => Push(Node.List("tuple")));
        On(PickleOpcodes.TUPLE, LoadTuple);
        On(PickleOpcodes.TUPLE1, () => LoadTupleN(1));
        On(PickleOpcodes.TUPLE2, () => LoadTupleN(2));
        On(PickleOpcodes.TUPLE3, () => LoadTupleN(3));
        On(PickleOpcodes.EMPTY_DICT, () => Push(Node.Map()));
        On(PickleOpcodes.DICT, LoadDict);
        On(PickleOpcodes.SETITEM, LoadSetItem);
        On(PickleOpcodes.SETITEMS, LoadSetItems);
        On(PickleOpcodes.EMPTY_SET, () => Push(Node.List("set")));
        On(PickleOpcodes.ADDITEMS, LoadAddItems);
        On(PickleOpcodes.FROZENSET, LoadFrozenSet);
        On(PickleOpcodes.GLOBAL, LoadGlobal);
        On(PickleOpcodes.STACK_GLOBAL, LoadStackGlobal);
        On(PickleOpcodes.REDUCE, LoadReduce);
        On(PickleOpcodes.BUILD, LoadBuild);
        On(PickleOpcodes.INST, LoadInst);
        On(PickleOpcodes.OBJ, LoadObj);
        On(PickleOpcodes.NEWOBJ, LoadNewObj);
        On(PickleOpcodes.NEWOBJ_EX, LoadNewObjEx);
        On(PickleOpcodes.PUT, LoadPut);
        On(PickleOpcodes.BINPUT, LoadBinPut);
        On(PickleOpcodes.LONG_BINPUT, LoadLongBinPut);
        On(PickleOpcodes.MEMOIZE, LoadMemoize);
        On(PickleOpcodes.GET, LoadGet);
        On(PickleOpcodes.BINGET, LoadBinGet);
        On(PickleOpcodes.LONG_BINGET, LoadLongBinGet);
        On(PickleOpcodes.PERSID, LoadPersId);
        On(PickleOpcodes.BINPERSID, LoadPersId);
        On(PickleOpcodes.EXT1, LoadExt);
        On(PickleOpcodes.EXT2, LoadExt);
        On(PickleOpcodes.EXT4, LoadExt);
    }

    // ---- errors and argument reading ----

    BrineFormatException Fail(string detail, bool named = true) =>
        new(Format, $"byte {_opPos}", named ? $"{PickleOpcodes.NameOf(_op)}: {detail}" : detail);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    ReadOnlySpan<byte> Take(int n)
    {
        if (!_in.TryRead(n, out var s)) ThrowTruncated(n);
        return s;
    }

    [MethodImpl(MethodImplOptions.NoInlining)]
    void ThrowTruncated(int n) => throw Fail($"pickle truncated: the argument needs {n} bytes");

    byte[] TakeArray(long n)
    {
        if (n < 0) throw Fail($"negative length {n}");
        if (n > _options.MaxValueBytes) throw new BrineLimitException(Format, $"byte {_opPos}", $"{PickleOpcodes.NameOf(_op)}: a value of {n} bytes is over the limit of {_options.MaxValueBytes} (raise ReadOptions.MaxValueBytes)");
        return _in.TryReadArray(n) ?? throw Fail($"pickle truncated: the argument needs {n} bytes");
    }

    string TakeLine()
    {
        if (!_in.TryReadLine(out var line)) throw Fail("pickle truncated: the argument's line has no end");
        return Encoding.Latin1.GetString(line);
    }

    byte[] TakeLineBytes()
    {
        if (!_in.TryReadLine(out var line)) throw Fail("pickle truncated: the argument's line has no end");
        return line.ToArray();
    }

    string DecodeUtf8(byte[] b)
    {
        try { return StrictUtf8.GetString(b); }
        catch (DecoderFallbackException) { throw Fail("the string is not valid UTF-8"); }
    }

    // ---- stack ----

    void Push(object o) => _stack.Add(o);

    object Pop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Fail(_marks.Count > 0 && _stack.Count == floor ? "the stack holds only a MARK here" : "stack underflow (corrupt pickle)");
        var o = _stack[^1];
        _stack.RemoveAt(_stack.Count - 1);
        return o;
    }

    object Top()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count <= floor) throw Fail("stack underflow (corrupt pickle)");
        return _stack[^1];
    }

    /// <summary>Removes and returns the items above the topmost MARK (and the MARK).</summary>
    List<object> PopMark()
    {
        if (_marks.Count == 0) throw Fail("no MARK on the stack");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        var items = _stack.GetRange(m, _stack.Count - m);
        _stack.RemoveRange(m, _stack.Count - m);
        return items;
    }

    /// <summary>A stack item as a model node: globals used as values become strings tagged <c>global</c>.</summary>
    Node AsNode(object o)
    {
        switch (o)
        {
            case Node n: return n;
            case PyGlobal g:
            {
                var n = Node.String(g.FullName); n.Tag = "global";
                _globalNodes[n] = g;
                return n;
            }
            default: throw Fail("an unknown value on the stack");
        }
    }

    PyGlobal? GlobalOf(object o) => o switch
    {
        PyGlobal g => g,
        Node n when _globalNodes.TryGetValue(n, out var g) => g,
        _ => null,
    };

    static string Describe(object o) => o switch
    {
        PyGlobal g => "the global " + g.FullName,
        Node { IsList: true, Tag: { } t } => "a " + t,
        Node { IsList: true } => "a list",
        Node { IsMap: true, Tag: { } t } => "an object " + t,
        Node { IsMap: true } => "a dict",
        Node n => "a " + n.Kind.ToString().ToLowerInvariant(),
        _ => "an unknown value",
    };

    // ---- framing and control ----

    void LoadProto()
    {
        int p = Take(1)[0];
        if (p > PickleOpcodes.HighestProtocol) throw Fail($"unsupported pickle protocol {p} (Brine reads 0–{PickleOpcodes.HighestProtocol})");
    }

    void LoadFrame()
    {
        var n = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (n > (ulong)_options.MaxValueBytes) throw Fail($"frame of {n} bytes is over the limit");
    }

    void LoadStop()
    {
        var v = Pop();
        _result = AsNode(v);
    }

    void LoadMark() => _marks.Add(_stack.Count);

    void LoadPop()
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count > floor) _stack.RemoveAt(_stack.Count - 1);
        else if (_marks.Count > 0) PopMark();
        else throw Fail("stack underflow (corrupt pickle)");
    }

    void LoadPopMark() => PopMark();
    void LoadDup() => Push(Top() is Node n ? Dup(n) : Top());

    // ---- numbers ----

    void LoadInt()
    {
        var s = TakeLine();
        if (s == "00") { Push(Node.Bool(false)); return; }
        if (s == "01") { Push(Node.Bool(true)); return; }
        if (!PythonText.TryParseInt(s, out var v)) throw Fail($"'{s}' is not an integer");
        Push(Node.Int(v));
    }

    void LoadBinInt() => Push(Node.Int(BinaryPrimitives.ReadInt32LittleEndian(Take(4))));
    void LoadBinInt1() => Push(Node.Int(Take(1)[0]));
    void LoadBinInt2() => Push(Node.Int(BinaryPrimitives.ReadUInt16LittleEndian(Take(2))));

    void LoadLong()
    {
        var s = TakeLine();
        if (s.EndsWith('L')) s = s[..^1];
        if (!PythonText.TryParseInt(s, out var v)) throw Fail($"'{s}' is not an integer");
        Push(Node.Int(v));
    }

    void LoadLong1()
    {
        int n = Take(1)[0];
        Push(Node.Int(n == 0 ? BigInteger.Zero : new BigInteger(Take(n), isUnsigned: false, isBigEndian: false)));
    }

    void LoadLong4()
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        if (n < 0) throw Fail("negative byte count");
        var b = TakeArray(n);
        Push(Node.Int(n == 0 ? BigInteger.Zero : new BigInteger(b, isUnsigned: false, isBigEndian: false)));
    }

    void LoadFloat()
    {
        var s = TakeLine();
        if (!PythonText.TryParseFloat(s, out var d)) throw Fail($"'{s}' is not a float");
        Push(Node.Float(d));
    }

    void LoadBinFloat() => Push(Node.Float(BinaryPrimitives.ReadDoubleBigEndian(Take(8))));

    // ---- strings and bytes ----

    /// <summary>A Python 2 <c>str</c> (STRING, BINSTRING): text when it is valid UTF-8, else bytes.</summary>
    void PushLegacyString(byte[] b)
    {
        try { Push(Node.String(StrictUtf8.GetString(b))); }
        catch (DecoderFallbackException) { Push(Node.Bytes(b)); }
    }

    void LoadString()
    {
        var line = TakeLineBytes();
        if (line.Length < 2 || line[0] != line[^1] || (line[0] != '\'' && line[0] != '"'))
            throw Fail("the STRING argument must be quoted");
        try { PushLegacyString(PythonText.EscapeDecode(line.AsSpan(1, line.Length - 2))); }
        catch (FormatException e) { throw Fail(e.Message); }
    }

    void LoadBinString()
    {
        int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        if (n < 0) throw Fail("negative length");
        PushLegacyString(TakeArray(n));
    }

    void LoadShortBinString() => PushLegacyString(TakeArray(Take(1)[0]));

    void LoadUnicode()
    {
        var line = TakeLineBytes();
        try { Push(Node.String(PythonText.RawUnicodeUnescape(line))); }
        catch (FormatException e) { throw Fail(e.Message); }
    }

    void LoadBinUnicode() => Push(Node.String(TakeUtf8(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))));
    void LoadShortBinUnicode() => Push(Node.String(TakeUtf8(Take(1)[0])));
    void LoadBinUnicode8() => Push(Node.String(TakeUtf8(ReadLength8())));

    /// <summary>A UTF-8 string argument of <paramref name="n"/> bytes; short ones are decoded in the buffer (no array to throw away).</summary>
    string TakeUtf8(long n)
    {
        if (n > 64 * 1024 || n > _options.MaxValueBytes) return DecodeUtf8(TakeArray(n));
        var span = Take((int)n);
        if (n <= ShortString) return ShortUtf8(span);
        try { return StrictUtf8.GetString(span); }
        catch (DecoderFallbackException) { throw Fail("the string is not valid UTF-8"); }
    }

    /// <summary>
    /// Strings up to this many bytes come from a small cache: values such as a language or a status repeat across
    /// records, and each fresh copy was one more object the collector traced to the end of the load.
    /// </summary>
    const int ShortString = 8;
    readonly string?[] _shortStrings = new string?[512];

    string ShortUtf8(ReadOnlySpan<byte> span)
    {
        if (span.Length == 0) return "";
        ulong key = 0;
        for (int i = 0; i < span.Length; i++) key |= (ulong)span[i] << (8 * i);
        int slot = (int)((key * 0x9E3779B97F4A7C15UL) >> 55) ^ span.Length;
        var hit = _shortStrings[slot];
        if (hit is not null && hit.Length == span.Length && Ascii.Equals(span, hit)) return hit;
        string s;
        try { s = StrictUtf8.GetString(span); }
        catch (DecoderFallbackException) { throw Fail("the string is not valid UTF-8"); }
        if (Ascii.IsValid(span)) _shortStrings[slot] = s;
        return s;
    }

    long ReadLength8()
    {
        var n = BinaryPrimitives.ReadUInt64LittleEndian(Take(8));
        if (n > long.MaxValue) throw Fail($"length {n} is too large");
        return (long)n;
    }

    void LoadBinBytes() => Push(Node.Bytes(TakeArray(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))));
    void LoadShortBinBytes()
    {
        int n = Take(1)[0];
        if (n == 10 && TryNaiveDateTime()) return;
        Push(Node.Bytes(TakeArray(n)));
    }

    /// <summary>
    /// A naive datetime as pickle writes it: <c>datetime.datetime</c> on the stack, then its 10-byte state, a
    /// one-item tuple and REDUCE, each maybe memoized. When the memo keeps neither the bytes nor the tuple (no GET
    /// names them), the value is made at once without those two nodes; anything else takes the general path.
    /// </summary>
    bool TryNaiveDateTime()
    {
        if (_named is null || _stack.Count <= (_marks.Count > 0 ? _marks[^1] : 0) || _stack[^1] is not PyGlobal { FullName: "datetime.datetime" }) return false;
        var span = _in.PeekUpTo(14);
        if (span.Length < 12) return false;
        int p = 10;
        bool memoBytes = span[p] == PickleOpcodes.MEMOIZE;
        if (memoBytes) p++;
        if (span[p++] != PickleOpcodes.TUPLE1) return false;
        bool memoTuple = p < span.Length && span[p] == PickleOpcodes.MEMOIZE;
        if (memoTuple) p++;
        if (p >= span.Length || span[p++] != PickleOpcodes.REDUCE) return false;
        long first = _memoCount, second = memoBytes ? first + 1 : first;
        if (second >= DenseLimit) return false;
        if (memoBytes && (IsStored(first) || MemoReferenceScan.Contains(_named, first))) return false;
        if (memoTuple && (IsStored(second) || MemoReferenceScan.Contains(_named, second))) return false;
        if (!TryWallTime(span, out long secs, out int us)) return false;
        // As the MEMOIZEs would: the indices are stored (not kept) and counted.
        if (memoBytes) { MarkStored(first); _memoCount++; }
        if (memoTuple) { MarkStored(second); _memoCount++; }
        _in.Skip(p);
        _stack[^1] = Node.Timestamp(new Timestamp(secs, us * 1000, null));
        return true;
    }
    void LoadBinBytes8() => Push(Node.Bytes(TakeArray(ReadLength8())));

    void LoadByteArray8()
    {
        var n = Node.Bytes(TakeArray(ReadLength8()));
        n.Tag = "bytearray";
        Push(n);
    }

    void LoadNextBuffer()
    {
        if (_buffers is null) throw Fail("the pickle refers to an out-of-band buffer, but no buffers were given (pass them to the PickleReader)");
        if (_nextBuffer >= _buffers.Count) throw Fail($"not enough out-of-band buffers: {_buffers.Count} given");
        var n = Node.Bytes(_buffers[_nextBuffer++].ToArray());
        n.Tag = "picklebuffer";
        Push(n);
    }

    void LoadReadOnlyBuffer() => Top();

    // ---- containers ----

    void AppendTo(object target, object item)
    {
        if (target is Node { IsList: true } list && list.Tag is not ("tuple" or "frozenset")) { list.Items!.Add(AsNode(item)); return; }
        if (target is Node { IsMap: true, Tag: not null } obj && _objects.Contains(obj)) { ObjectPart(obj, "__items__", list: true).Items!.Add(AsNode(item)); return; }
        throw Fail($"cannot append to {Describe(target)}");
    }

    Node ObjectPart(Node obj, string key, bool list)
    {
        if (obj[key] is { } existing) return existing;
        var part = list ? Node.List() : Node.Map();
        obj.Add(key, part);
        return part;
    }

    void LoadAppend()
    {
        var item = Pop();
        AppendTo(Top(), item);
    }

    /// <summary>Removes the topmost MARK and returns where its items start on the stack (they stay there; the caller removes them).</summary>
    int PopMarkIndex()
    {
        if (_marks.Count == 0) throw Fail("no MARK on the stack");
        int m = _marks[^1];
        _marks.RemoveAt(_marks.Count - 1);
        return m;
    }

    /// <summary>The item below <paramref name="m"/> after its MARK is gone (what <see cref="Top"/> gives once the items are popped).</summary>
    object TopBelow(int m)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (m <= floor) { _stack.RemoveRange(m, _stack.Count - m); throw Fail("stack underflow (corrupt pickle)"); }
        return _stack[m - 1];
    }

    // APPENDS and SETITEMS take their items from the stack in place (as PopMark and Top would, without a list per batch).
    void LoadAppends()
    {
        int m = PopMarkIndex(), count = _stack.Count - m;
        var target = TopBelow(m);
        if (target is Node { IsList: true } list && list.Tag != "tuple")
        {
            // Grows by doubling: setting the capacity to just this batch more copied the whole list every 1000 items.
            list.Items!.EnsureCapacity(list.Items.Count + count);
            for (int i = m; i < m + count; i++) list.Items.Add(AsNode(_stack[i]));
        }
        else for (int i = m; i < m + count; i++) AppendTo(target, _stack[i]);
        _stack.RemoveRange(m, count);
    }

    Node ListOf(List<object> items, string? tag)
    {
        var n = Node.List(tag);
        n.Items!.Capacity = items.Count;
        foreach (var i in items) n.Items.Add(AsNode(i));
        return n;
    }

    void LoadList() => Push(ListOf(PopMark(), null));
    void LoadTuple() => Push(ListOf(PopMark(), "tuple"));

    void LoadTupleN(int n)
    {
        int floor = _marks.Count > 0 ? _marks[^1] : 0;
        if (_stack.Count - floor < n) throw Fail("stack underflow (corrupt pickle)");
        var t = Node.List("tuple");
        t.Items!.Capacity = n;
        for (int i = _stack.Count - n; i < _stack.Count; i++) t.Items.Add(AsNode(_stack[i]));
        _stack.RemoveRange(_stack.Count - n, n);
        Push(t);
    }

    void SetItem(object target, object key, object value)
    {
        var k = AsNode(key);
        if (!k.IsScalar) throw Fail($"a dict key is {Describe(k)}; Brine maps need scalar keys (str, int, float, bytes …)");
        if (target is Node { IsMap: true } map)
        {
            // Objects always have a tag (their class): a plain dict needs no look-up.
            if (map.Tag is not null && _objects.Contains(map)) map = ObjectPart(map, "__entries__", list: false);
            map.Entries!.Add(new(k, AsNode(value)));
            return;
        }
        throw Fail($"cannot set an item on {Describe(target)}");
    }

    void LoadDict()
    {
        var items = PopMark();
        if (items.Count % 2 != 0) throw Fail("odd number of items for a dict");
        var d = Node.Map();
        Push(d);
        for (int i = 0; i < items.Count; i += 2) SetItem(d, items[i], items[i + 1]);
    }

    void LoadSetItem()
    {
        var v = Pop(); var k = Pop();
        SetItem(Top(), k, v);
    }

    void LoadSetItems()
    {
        int m = PopMarkIndex(), count = _stack.Count - m;
        if (count % 2 != 0) { _stack.RemoveRange(m, count); throw Fail("odd number of items for SETITEMS"); }
        var target = TopBelow(m);
        // A plain dict filled in one batch (the usual record) gets its entries array at its final size.
        if (target is Node { IsMap: true, Tag: null } map) map.Entries!.EnsureCapacity(map.Entries.Count + count / 2);
        for (int i = m; i < m + count; i += 2) SetItem(target, _stack[i], _stack[i + 1]);
        _stack.RemoveRange(m, count);
    }

    void LoadAddItems()
    {
        var items = PopMark();
        if (Top() is not Node { IsList: true, Tag: "set" } set) throw Fail($"cannot add items to {Describe(Top())}");
        foreach (var i in items) set.Items!.Add(AsNode(i));
    }

    void LoadFrozenSet() => Push(ListOf(PopMark(), "frozenset"));

    // ---- memo ----

    void MemoPut(long index)
    {
        if (index < 0) throw Fail("negative memo index");
        var v = Top();
        bool isNew;
        if (index < DenseLimit)
        {
            isNew = MarkStored(index);
            if (_named is null || MemoReferenceScan.Contains(_named, index)) DenseSet(index, v);
        }
        else { isNew = !_sparseMemo.ContainsKey(index); _sparseMemo[index] = v; }
        if (isNew) _memoCount++;
        // Objects (tagged maps) are the only nodes MemoReplace looks for.
        if (v is Node n && (_logAll || n is { IsMap: true, Tag: not null })) _memoLog.Add((index, n));
    }

    object MemoGet(long index)
    {
        object? v;
        if ((ulong)index < DenseLimit)
        {
            v = DenseGet(index);
            if (v is null && _named is not null && IsStored(index)) throw new MemoRerunException();
        }
        else v = _sparseMemo.GetValueOrDefault(index);
        if (v is Node n) return Dup(n);
        return v ?? throw Fail($"memo index {index} was never stored (corrupt pickle)");
    }

    /// <summary>
    /// Nodes a second reference to which was made (a GET, a DUP, a call or BUILD that puts its argument's parts in
    /// the value it makes): the only nodes the graph can reach twice, so the only ones the reader's walk for shared
    /// nodes must track (tracking all of them cost a hash set entry per node). Kept when naming shared nodes only.
    /// </summary>
    readonly HashSet<Node> _maybeShared = new(ReferenceEqualityComparer.Instance);
    public IReadOnlySet<Node> MaybeShared => _maybeShared;

    Node Dup(Node n)
    {
        if (_logAll) _maybeShared.Add(n);
        return n;
    }

    IEnumerable<Node> DupAll(IEnumerable<Node> nodes) { foreach (var n in nodes) yield return Dup(n); }

    IEnumerable<KeyValuePair<Node, Node>> DupEntries(List<KeyValuePair<Node, Node>> entries)
    {
        foreach (var e in entries) { Dup(e.Key); Dup(e.Value); yield return e; }
    }

    /// <summary>Marks a dense index stored; true when it was not before.</summary>
    bool MarkStored(long index) => MemoBits.Set(ref _memoStored, index);

    bool IsStored(long index) => MemoBits.Get(_memoStored, index);

    void DenseSet(long index, object v)
    {
        int c = (int)(index >> ChunkBits);
        if (c >= _memoChunks.Length) Array.Resize(ref _memoChunks, Math.Max(c + 1, _memoChunks.Length * 2));
        (_memoChunks[c] ??= new object?[ChunkSize])[index & (ChunkSize - 1)] = v;
    }

    object? DenseGet(long index)
    {
        int c = (int)(index >> ChunkBits);
        return c < _memoChunks.Length && _memoChunks[c] is { } chunk ? chunk[index & (ChunkSize - 1)] : null;
    }

    long ParseIndexLine()
    {
        var s = TakeLine();
        if (!long.TryParse(s, System.Globalization.NumberStyles.AllowLeadingSign, System.Globalization.CultureInfo.InvariantCulture, out var i)) throw Fail($"'{s}' is not a memo index");
        return i;
    }

    void LoadPut() => MemoPut(ParseIndexLine());
    void LoadBinPut() => MemoPut(Take(1)[0]);
    void LoadLongBinPut() => MemoPut(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)));
    void LoadMemoize() => MemoPut(_memoCount);
    void LoadGet() => Push(MemoGet(ParseIndexLine()));
    void LoadBinGet() => Push(MemoGet(Take(1)[0]));
    void LoadLongBinGet() => Push(MemoGet(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))));

    /// <summary>Replaces a memoized value (an object that became a scalar after BUILD).</summary>
    void MemoReplace(Node old, Node now)
    {
        if (_memoReplaced.Contains(old)) return;
        int at = _memoLog.FindLastIndex(e => ReferenceEquals(e.node, old));
        if (at < 0) return;
        // (Its latest store: the object was memoized just before its BUILD, so this is found at once.)
        long index = _memoLog[at].index;
        if (index >= DenseLimit) _sparseMemo[index] = now;
        else if (_named is null || MemoReferenceScan.Contains(_named, index)) DenseSet(index, now);
        _memoReplaced.Add(old);
        _memoLog.Add((index, now));
    }

    /// <summary>Names each of <paramref name="shared"/> after its first memo index (<c>m3</c>); nodes never memoized are left out.</summary>
    public void NameByMemo(IReadOnlySet<Node> shared, Dictionary<Node, string> names)
    {
        if (shared.Count == 0) return;
        if (!_logAll) throw new InvalidOperationException("the pickle was loaded without naming its shared nodes");
        // A few shared nodes (a record's keys) are compared by reference: hashing each of millions of stores cost more.
        var few = shared.Count <= 8 ? shared.ToArray() : null;
        foreach (var (index, node) in _memoLog)
            if ((few is null ? shared.Contains(node) : PickleReader.InFew(few, node)) && !_memoReplaced.Contains(node) && !names.ContainsKey(node)) names[node] = "m" + index;
    }

    // ---- refused features ----

    void LoadPersId() => throw Fail("persistent ids need the application's persistent_load; Brine does not read them");

    void LoadExt()
    {
        int n = _op == PickleOpcodes.EXT1 ? Take(1)[0] : _op == PickleOpcodes.EXT2 ? BinaryPrimitives.ReadUInt16LittleEndian(Take(2)) : BinaryPrimitives.ReadInt32LittleEndian(Take(4));
        throw Fail($"extension code {n} refers to copyreg's extension registry, which Brine does not have");
    }

    // ---- globals and objects ----

    string ReadGlobalPart()
    {
        if (!_in.TryReadLine(out var line)) throw Fail("pickle truncated: the global's name has no end");
        return DecodeUtf8(line.ToArray());
    }

    void LoadGlobal()
    {
        var module = ReadGlobalPart();
        var name = ReadGlobalPart();
        Push(new PyGlobal(PickleGlobals.FixModule(module), name));
    }

    void LoadStackGlobal()
    {
        var name = Pop(); var module = Pop();
        if (name is not Node { Value: string n } || module is not Node { Value: string m }) throw Fail("STACK_GLOBAL needs two strings");
        Push(new PyGlobal(m, n));
    }

    PyGlobal CallableOf(object o, string role) =>
        GlobalOf(o) ?? throw Fail($"the {role} is {Describe(o)}, not a global; Brine calls nothing");

    List<Node> TupleItems(object args, string what)
    {
        if (args is Node { IsList: true } t) return t.Items!;
        throw Fail($"the {what} must be a tuple, not {Describe(args)}");
    }

    void LoadReduce()
    {
        var args = Pop(); var callable = Pop();
        var g = CallableOf(callable, "callable");
        Push(Call(g, TupleItems(args, "arguments"), newObj: false));
    }

    void LoadNewObj()
    {
        var args = Pop(); var cls = Pop();
        var g = CallableOf(cls, "class");
        Push(Call(g, TupleItems(args, "arguments"), newObj: true));
    }

    void LoadNewObjEx()
    {
        var kwargs = Pop(); var args = Pop(); var cls = Pop();
        var g = CallableOf(cls, "class");
        var obj = Call(g, TupleItems(args, "arguments"), newObj: true);
        if (kwargs is Node { IsMap: true } kw && kw.Entries!.Count > 0 && obj.IsMap && _objects.Contains(obj)) obj.Add("__kwargs__", kw);
        Push(obj);
    }

    void LoadInst()
    {
        var module = ReadGlobalPart();
        var name = ReadGlobalPart();
        var args = PopMark().Select(AsNode).ToList();
        Push(Call(new PyGlobal(PickleGlobals.FixModule(module), name), args, newObj: false));
    }

    void LoadObj()
    {
        var items = PopMark();
        if (items.Count == 0) throw Fail("OBJ needs a class");
        var g = CallableOf(items[0], "class");
        Push(Call(g, items.Skip(1).Select(AsNode).ToList(), newObj: false));
    }

    BrineFormatException Refuse(PyGlobal g) =>
        new(Format, $"byte {_opPos}", $"refusing to call {g.FullName} (globals are never called; allow types through the type policy)");

    /// <summary>What a call of a global stands for: a model value for known data types, a tagged map for a class.</summary>
    Node Call(PyGlobal g, List<Node> args, bool newObj)
    {
        switch (g.FullName)
        {
            case "builtins.set": return CollectionFrom(args, "set");
            case "builtins.frozenset": return CollectionFrom(args, "frozenset");
            case "builtins.list": return CollectionFrom(args, null);
            case "builtins.tuple": return CollectionFrom(args, "tuple");
            case "builtins.bytearray": { var b = BytesFrom(args); b.Tag = "bytearray"; return b; }
            case "builtins.bytes": return BytesFrom(args);
            case "_codecs.encode" when !newObj: return BytesFrom(args);
            case "builtins.complex":
            {
                var c = Node.Map("builtins.complex");
                c.Add("real", args.Count > 0 ? Dup(args[0]) : Node.Float(0));
                c.Add("imag", args.Count > 1 ? Dup(args[1]) : Node.Float(0));
                return c;
            }
            case "builtins.dict" or "collections.OrderedDict":
            {
                var d = Node.Map();
                if (args.Count > 0 && args[0] is { IsList: true } pairs)
                    foreach (var p in pairs.Items!)
                        if (p is { IsList: true } kv && kv.Items!.Count == 2) SetItem(d, Dup(kv.Items[0]), Dup(kv.Items[1]));
                        else throw Fail($"{g.FullName} takes a list of pairs");
                return d;
            }
            case "copyreg._reconstructor" when !newObj:
            {
                if (args.Count != 3) throw Fail("copyreg._reconstructor takes (class, base, state)");
                var cls = GlobalOf(args[0]) ?? throw Fail("copyreg._reconstructor: the class is not a global");
                var obj = Call(cls, new List<Node>(), newObj: true);
                if (GlobalOf(args[1]) is { FullName: not "builtins.object" } && args[2].Kind != TokenKind.Null && _objects.Contains(obj)) obj.Add("__value__", Dup(args[2]));
                return obj;
            }
            case "copyreg.__newobj__" when !newObj:
            {
                if (args.Count == 0) throw Fail("copyreg.__newobj__ needs a class");
                var cls = GlobalOf(args[0]) ?? throw Fail("copyreg.__newobj__: the class is not a global");
                return Call(cls, args.Skip(1).ToList(), newObj: true);
            }
            case "datetime.date": return DateFrom(args, g);
            case "datetime.time": return TimeFrom(args, g);
            case "datetime.datetime": return DateTimeFrom(args, g);
            case "datetime.timedelta":
            {
                var m = Node.Map("datetime.timedelta");
                m.Add("days", args.Count > 0 ? Dup(args[0]) : Node.Int(0));
                m.Add("seconds", args.Count > 1 ? Dup(args[1]) : Node.Int(0));
                m.Add("microseconds", args.Count > 2 ? Dup(args[2]) : Node.Int(0));
                return m;
            }
            case "datetime.timezone":
            {
                var m = Node.Map("datetime.timezone");
                if (args.Count > 0) m.Add("offset", Dup(args[0]));
                if (args.Count > 1) m.Add("name", Dup(args[1]));
                return m;
            }
            case "decimal.Decimal": return DecimalFrom(args);
            case "uuid.UUID": return NewObject(g, args); // becomes a Uuid when BUILD gives it its int
        }
        if (PickleGlobals.IsRefused(g, newObj, _allowed)) throw Refuse(g);
        return NewObject(g, args);
    }

    /// <summary>An instance of a class: a map tagged with the class name; constructor arguments, if any, under <c>__args__</c>.</summary>
    Node NewObject(PyGlobal g, List<Node> args)
    {
        var o = Node.Map(g.FullName);
        _objects.Add(o);
        if (args.Count > 0) { var t = Node.List("tuple"); t.Items!.AddRange(DupAll(args)); o.Add("__args__", t); }
        return o;
    }

    Node CollectionFrom(List<Node> args, string? tag)
    {
        var n = Node.List(tag);
        if (args.Count == 0) return n;
        var src = args[0];
        if (src.IsList) n.Items!.AddRange(DupAll(src.Items!));
        else if (src.IsMap) n.Items!.AddRange(DupAll(src.Entries!.Select(e => e.Key)));
        else if (src.Value is string s) foreach (var r in s.EnumerateRunes()) n.Items!.Add(Node.String(r.ToString()));
        else throw Fail($"cannot make a {tag ?? "list"} of {Describe(src)}");
        return n;
    }

    Node BytesFrom(List<Node> args)
    {
        if (args.Count == 0) return Node.Bytes(Array.Empty<byte>());
        var a = args[0];
        if (a.Value is byte[] b) return Node.Bytes(b);
        if (a.Value is string s)
        {
            var enc = args.Count > 1 ? args[1].Value as string : null;
            if (enc is null) throw Fail("bytes of a str need an encoding");
            var e = enc.ToLowerInvariant().Replace('_', '-');
            if (e is "latin1" or "latin-1" or "iso-8859-1" or "iso8859-1" or "l1")
            {
                var bytes = new byte[s.Length];
                for (int i = 0; i < s.Length; i++) bytes[i] = s[i] <= 0xff ? (byte)s[i] : throw Fail("a latin-1 string holds a character above U+00FF");
                return Node.Bytes(bytes);
            }
            if (e is "utf-8" or "utf8" or "ascii") return Node.Bytes(Encoding.UTF8.GetBytes(s));
            throw Fail($"unknown encoding '{enc}'");
        }
        if (a.IsList) return Node.Bytes(a.Items!.Select(i => i.Value is long l && l is >= 0 and <= 255 ? (byte)l : throw Fail("bytes from a list need ints 0–255")).ToArray());
        throw Fail($"cannot make bytes of {Describe(a)}");
    }

    /// <summary>The packed state of date/time/datetime (<c>bytes</c>, or a latin-1 <c>str</c> from Python 2).</summary>
    byte[]? StateBytes(List<Node> args, int length)
    {
        if (args.Count == 0) return null;
        if (args[0].Value is byte[] b && b.Length == length) return b;
        if (args[0].Value is string s)
        {
            var utf8 = Encoding.UTF8.GetBytes(s);
            if (utf8.Length == length) return utf8;
            if (s.Length == length && s.All(c => c <= 0xff)) return s.Select(c => (byte)c).ToArray();
        }
        return null;
    }

    static long? IntArg(List<Node> args, int i, long dflt) => i < args.Count ? args[i].Value as long? : dflt;

    Node DateFrom(List<Node> args, PyGlobal g)
    {
        try
        {
            if (StateBytes(args, 4) is { } b) return Node.Date(new DateOnly(b[0] * 256 + b[1], b[2], b[3]));
            if (args.Count == 3 && IntArg(args, 0, 0) is { } y && IntArg(args, 1, 0) is { } m && IntArg(args, 2, 0) is { } d) return Node.Date(new DateOnly((int)y, (int)m, (int)d));
        }
        catch (ArgumentOutOfRangeException) { throw Fail("datetime.date state is not a valid date"); }
        throw Fail("datetime.date takes its 4-byte state");
    }

    Node TimeFrom(List<Node> args, PyGlobal g)
    {
        var b = StateBytes(args, 6) ?? throw Fail("datetime.time takes its 6-byte state");
        int h = b[0] & 0x7f;
        int us = (b[3] << 16) | (b[4] << 8) | b[5];
        if (h > 23 || b[1] > 59 || b[2] > 59 || us > 999_999) throw Fail("datetime.time state is not a valid time");
        var t = Node.Time(new TimeOnly(h, b[1], b[2]).Add(TimeSpan.FromTicks(us * 10L)));
        if (args.Count > 1 && args[1].Kind != TokenKind.Null)
        {
            var m = Node.Map("datetime.time");
            m.Add("value", t); m.Add("tzinfo", Dup(args[1]));
            return m;
        }
        return t;
    }

    /// <summary>The wall time of a datetime's 10-byte state (seconds since 1970 as if UTC, microseconds), or false when it is not valid.</summary>
    static bool TryWallTime(ReadOnlySpan<byte> b, out long secs, out int us)
    {
        int year = b[0] * 256 + b[1], month = b[2] & 0x7f;
        us = (b[7] << 16) | (b[8] << 8) | b[9];
        secs = 0;
        if (us > 999_999 || year is < 1 or > 9999 || month is < 1 or > 12 || b[3] < 1 || b[3] > DateTime.DaysInMonth(year, month)
            || b[4] > 23 || b[5] > 59 || b[6] > 59) return false;
        var wall = new DateTime(year, month, b[3], b[4], b[5], b[6], DateTimeKind.Unspecified);
        // Floor division: before 1970 the microseconds are added to the earlier whole second.
        secs = Math.DivRem(wall.Ticks - DateTime.UnixEpoch.Ticks, TimeSpan.TicksPerSecond, out _);
        return true;
    }

    Node DateTimeFrom(List<Node> args, PyGlobal g)
    {
        var b = StateBytes(args, 10) ?? throw Fail("datetime.datetime takes its 10-byte state");
        if (!TryWallTime(b, out long secs, out int us)) throw Fail("datetime.datetime state is not a valid date and time");
        var tz = args.Count > 1 ? args[1] : null;
        if (tz is null || tz.Kind == TokenKind.Null) return Node.Timestamp(new Timestamp(secs, us * 1000, null));
        if (OffsetSeconds(tz) is { } off && off % 60 == 0)
            return Node.Timestamp(new Timestamp(secs - off, us * 1000, (short)(off / 60)));
        var m = Node.Map("datetime.datetime");
        m.Add("value", Node.Timestamp(new Timestamp(secs, us * 1000, null)));
        m.Add("tzinfo", Dup(tz));
        return m;
    }

    /// <summary>The fixed offset of a <c>datetime.timezone</c> map, in seconds.</summary>
    static long? OffsetSeconds(Node tz)
    {
        if (tz.Tag != "datetime.timezone" || tz["offset"] is not { Tag: "datetime.timedelta" } td) return null;
        if (td["days"]?.Value is long d && td["seconds"]?.Value is long s && td["microseconds"]?.Value is long us && us == 0) return d * 86400 + s;
        return null;
    }

    Node DecimalFrom(List<Node> args)
    {
        if (args.Count == 0) return Node.Decimal(new DecimalNumber(0, 0));
        var s = args[0].Value as string ?? throw Fail("decimal.Decimal takes a string");
        if (DecimalNumber.TryParse(s.Trim().Replace("_", ""), out var d)) return Node.Decimal(d);
        var f = s.Trim().ToLowerInvariant().TrimStart('+') switch
        {
            "nan" or "-nan" or "snan" or "-snan" => double.NaN,
            "inf" or "infinity" => double.PositiveInfinity,
            "-inf" or "-infinity" => double.NegativeInfinity,
            _ => throw Fail($"'{s}' is not a decimal number"),
        };
        var n = Node.Float(f); n.Tag = "decimal.Decimal";
        return n;
    }

    void LoadBuild()
    {
        var state = Pop();
        var target = Top();
        if (target is not Node { IsMap: true } obj || !_objects.Contains(obj))
            throw Fail($"BUILD on {Describe(target)}: only objects take state");
        var st = AsNode(state);
        if (obj.Tag == "uuid.UUID" && st.IsMap && st["int"]?.Value is { } iv && obj.Entries!.Count == 0)
        {
            var big = iv is long l ? new BigInteger(l) : (BigInteger)iv;
            if (big.Sign < 0 || big.GetBitLength() > 128) throw Fail("uuid.UUID int is out of range");
            var bytes = new byte[16];
            var raw = big.ToByteArray(isUnsigned: true, isBigEndian: true);
            raw.CopyTo(bytes, 16 - raw.Length);
            var u = Node.Uuid(new Guid(bytes, bigEndian: true));
            _stack[^1] = u;
            MemoReplace(obj, u);
            return;
        }
        AddState(obj, st);
    }

    void AddState(Node obj, Node st)
    {
        if (st.Kind == TokenKind.Null) return;
        if (st.IsMap && st.Tag is null) { obj.Entries!.AddRange(DupEntries(st.Entries!)); return; }
        // (dict state, slots state): both become entries of the object's map.
        if (st is { IsList: true, Tag: "tuple" } && st.Items!.Count == 2 && st.Items.All(p => p.Kind == TokenKind.Null || (p.IsMap && p.Tag is null)))
        {
            foreach (var p in st.Items) if (p.IsMap) obj.Entries!.AddRange(DupEntries(p.Entries!));
            return;
        }
        obj.Add("__state__", st);
    }
}
