using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using System.Runtime.CompilerServices;
using Brine.Model;
using static Brine.Formats.Pickle.PickleOpcodes;

namespace Brine.Formats.Pickle;

/// <summary>
/// Encodes a <see cref="Node"/> graph as one pickle, byte for byte what CPython's C pickler (<c>pickle.dumps</c>)
/// writes for the same plain data: the same opcodes per protocol, the same memo decisions (what is memoized and
/// when), APPENDS/SETITEMS/ADDITEMS batches of 1000, 64 KiB frames for protocol 4 and up with large strings and
/// bytes written outside frames, and the recursive-tuple case. Iterative: a work stack replaces Python's recursion.
/// </summary>
sealed partial class PickleEncoder
{
    const int FrameSizeTarget = 64 * 1024, FrameSizeMin = 4, FrameHeaderSize = 9, BatchSize = 1000;
    const int FlushAt = 1 << 20;

    readonly int _proto;
    readonly bool _bin;
    readonly Stream _output;
    readonly Func<ReadOnlyMemory<byte>, bool>? _bufferCallback;
    readonly long _outOfBandMin;

    byte[] _buf = new byte[FrameSizeTarget * 2];
    int _len;
    int _frameStart = -1;
    bool _framing;
    /// <summary>Keep every byte in the buffer until the pickle is complete (the object path may still give up and leave the output untouched).</summary>
    bool _hold;

    readonly Dictionary<Node, int> _memo = new(ReferenceEqualityComparer.Instance);
    int _memoSize;
    /// <summary>Values Python would make on the fly while pickling (reduce tuples, globals), keyed by a stand-in node.</summary>
    readonly Dictionary<Node, Synthetic> _synthetic = new(ReferenceEqualityComparer.Instance);
    /// <summary>
    /// Strings Python shares by value: module names, attribute names, the 'latin1' of the bytes hack. One node per
    /// value and kind, so the memo shares them as CPython does (a module 'datetime' and a class 'datetime' are two objects).
    /// </summary>
    readonly Dictionary<(char kind, string value), Node> _interned = new();
    readonly Dictionary<string, Node> _globals = new(StringComparer.Ordinal);
    Node? _utc;
    /// <summary>The stand-in of the class <c>datetime.datetime</c> (see <see cref="SaveTimestamp"/>).</summary>
    Node? _dateTimeClass;
    readonly Stack<Work> _work = new();

    abstract record Synthetic;
    sealed record SynthGlobal(string Module, string Name) : Synthetic;
    sealed record SynthReduce(Node Callable, Node Args, bool NewObj, Node? State) : Synthetic;

    enum Step : byte { Save, Op, TupleItems, TupleEnd, FrozenSetEnd, ListText, ListBatch, DictText, DictBatch, SetBatch, BatchItems, ReduceEnd, MemoPut }

    readonly record struct Work(Step Step, Node? Node = null, int Index = 0, int End = 0, byte Op = 0, Node? Extra = null);

    public PickleEncoder(Stream output, int protocol, Func<ReadOnlyMemory<byte>, bool>? bufferCallback, long outOfBandMin)
    {
        _output = output;
        _proto = protocol;
        _bin = protocol >= 1;
        _bufferCallback = bufferCallback;
        _outOfBandMin = outOfBandMin;
    }

    /// <summary>Writes <paramref name="root"/> as one complete pickle (PROTO … STOP).</summary>
    public void Encode(Node root)
    {
        _memo.Clear(); _memoSize = 0; _synthetic.Clear(); _interned.Clear(); _globals.Clear(); _utc = null;
        CheckTupleCycles(root);
        if (_proto >= 2) { WriteByte(PROTO); WriteByte((byte)_proto); }
        _framing = _proto >= 4;
        _work.Push(new Work(Step.Save, root));
        Run();
        WriteByte(STOP);
        CommitFrame();
        _framing = false;
        Flush();
    }

    // ---- output and framing (as CPython's _Pickler_Write / _Pickler_CommitFrame / _Pickler_OpcodeBoundary) ----

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void Reserve(int n)
    {
        if (_len + n > _buf.Length) Grow(n);
    }

    void Grow(int n) => Array.Resize(ref _buf, Math.Max(_len + n, _buf.Length * 2));

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void OpenFrameIfNeeded()
    {
        if (!_framing || _frameStart >= 0) return;
        Reserve(FrameHeaderSize);
        _frameStart = _len;
        _len += FrameHeaderSize;
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void WriteByte(byte b)
    {
        OpenFrameIfNeeded();
        Reserve(1);
        _buf[_len++] = b;
    }

    void Write(ReadOnlySpan<byte> data)
    {
        OpenFrameIfNeeded();
        Reserve(data.Length);
        data.CopyTo(_buf.AsSpan(_len));
        _len += data.Length;
    }

    void WriteAscii(string s)
    {
        OpenFrameIfNeeded();
        Reserve(s.Length);
        for (int i = 0; i < s.Length; i++) _buf[_len++] = (byte)s[i];
    }

    void CommitFrame()
    {
        if (!_framing || _frameStart < 0) return;
        int frameLen = _len - _frameStart - FrameHeaderSize;
        if (frameLen >= FrameSizeMin)
        {
            _buf[_frameStart] = FRAME;
            BinaryPrimitives.WriteUInt64LittleEndian(_buf.AsSpan(_frameStart + 1), (ulong)frameLen);
        }
        else
        {
            Buffer.BlockCopy(_buf, _frameStart + FrameHeaderSize, _buf, _frameStart, frameLen);
            _len -= FrameHeaderSize;
        }
        _frameStart = -1;
    }

    /// <summary>Called where CPython's save() starts: a frame that reached the target size is closed.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    void OpcodeBoundary()
    {
        // (inlined: the object path calls it per value; its rare work is out of line)
        if (_frameStart >= 0 ? _len - _frameStart - FrameHeaderSize >= FrameSizeTarget : _len >= FlushAt) BoundaryWork();
    }

    void BoundaryWork()
    {
        if (_framing && _frameStart >= 0 && _len - _frameStart - FrameHeaderSize >= FrameSizeTarget) CommitFrame();
        if (_frameStart < 0 && _len >= FlushAt && !_hold) Flush();
    }

    void Flush()
    {
        if (_len == 0) return;
        // A segment buffer (ObjectWriter.ToBytes) takes the buffer itself and gives a pooled one back: no copy.
        if (_output is Brine.IO.SegmentBuffer segments && _len >= FlushAt) _buf = segments.Adopt(_buf, _len);
        else _output.Write(_buf, 0, _len);
        _len = 0;
    }

    /// <summary>A header and a payload; payloads of 64 KiB and more go outside any frame, as CPython writes them.</summary>
    void WriteHeaderAndPayload(ReadOnlySpan<byte> header, ReadOnlySpan<byte> payload)
    {
        if (payload.Length < FrameSizeTarget) { Write(header); Write(payload); return; }
        CommitFrame();
        bool framing = _framing;
        _framing = false;
        Write(header);
        if (_hold) Write(payload);
        else { Flush(); _output.Write(payload); }
        _framing = framing;
    }

    // ---- memo ----

    void MemoPut(Node n)
    {
        int idx = _memoSize++;
        _memo[n] = idx;
        if (_proto >= 4) WriteByte(MEMOIZE);
        else if (!_bin) WriteAscii("p" + idx.ToString(CultureInfo.InvariantCulture) + "\n");
        else if (idx < 256) { WriteByte(BINPUT); WriteByte((byte)idx); }
        else { Span<byte> b = stackalloc byte[5]; b[0] = LONG_BINPUT; BinaryPrimitives.WriteUInt32LittleEndian(b[1..], (uint)idx); Write(b); }
    }

    /// <summary>Memoizes an object no later value can refer to: its index is taken and written, no entry is kept.</summary>
    void MemoPutFresh()
    {
        int idx = _memoSize++;
        if (_proto >= 4) WriteByte(MEMOIZE);
        else if (!_bin) WriteAscii("p" + idx.ToString(CultureInfo.InvariantCulture) + "\n");
        else if (idx < 256) { WriteByte(BINPUT); WriteByte((byte)idx); }
        else { Span<byte> b = stackalloc byte[5]; b[0] = LONG_BINPUT; BinaryPrimitives.WriteUInt32LittleEndian(b[1..], (uint)idx); Write(b); }
    }

    void WriteGet(int idx)
    {
        if (!_bin) WriteAscii("g" + idx.ToString(CultureInfo.InvariantCulture) + "\n");
        else if (idx < 256) { WriteByte(BINGET); WriteByte((byte)idx); }
        else { Span<byte> b = stackalloc byte[5]; b[0] = LONG_BINGET; BinaryPrimitives.WriteUInt32LittleEndian(b[1..], (uint)idx); Write(b); }
    }

    // ---- synthetic values ----

    Node Interned(char kind, string s)
    {
        if (!_interned.TryGetValue((kind, s), out var n)) _interned[(kind, s)] = n = Node.String(s);
        return n;
    }

    Node Global(string module, string name)
    {
        var key = module + "\n" + name;
        if (!_globals.TryGetValue(key, out var n))
        {
            _globals[key] = n = Node.Null();
            _synthetic[n] = new SynthGlobal(module, name);
        }
        return n;
    }

    static Node Tuple(params Node[] items)
    {
        var t = Node.List("tuple");
        t.Items!.AddRange(items);
        return t;
    }

    Node Reduce(Node callable, Node args, bool newObj = false, Node? state = null)
    {
        var n = Node.Null();
        _synthetic[n] = new SynthReduce(callable, args, newObj, state);
        return n;
    }

    // ---- the work loop ----

    void Push(Step s, Node? n = null, int index = 0, int end = 0, byte op = 0, Node? extra = null) => _work.Push(new Work(s, n, index, end, op, extra));

    void Run()
    {
        while (_work.Count > 0)
        {
            var w = _work.Pop();
            switch (w.Step)
            {
                case Step.Save: Save(w.Node!); break;
                case Step.Op: WriteByte(w.Op); break;
                case Step.MemoPut: MemoPut(w.Node!); break;
                case Step.TupleItems:
                    if (w.Index < w.End) { Push(Step.TupleItems, w.Node, w.Index + 1, w.End); Push(Step.Save, w.Node!.Items![w.Index]); }
                    break;
                case Step.TupleEnd: TupleEnd(w.Node!); break;
                case Step.FrozenSetEnd: FrozenSetEnd(w.Node!); break;
                case Step.ListText:
                    if (w.Index < w.Node!.Items!.Count)
                    {
                        Push(Step.ListText, w.Node, w.Index + 1);
                        Push(Step.Op, op: APPEND);
                        Push(Step.Save, w.Node.Items[w.Index]);
                    }
                    break;
                case Step.ListBatch:
                {
                    var items = w.Node!.Items!;
                    WriteByte(MARK);
                    int end = Math.Min(w.Index + BatchSize, items.Count);
                    if (end < items.Count) Push(Step.ListBatch, w.Node, end);
                    Push(Step.Op, op: APPENDS);
                    Push(Step.BatchItems, w.Node, w.Index, end);
                    break;
                }
                case Step.DictText:
                    if (w.Index < w.Node!.Entries!.Count)
                    {
                        var e = w.Node.Entries[w.Index];
                        Push(Step.DictText, w.Node, w.Index + 1);
                        Push(Step.Op, op: SETITEM);
                        Push(Step.Save, e.Value);
                        Push(Step.Save, e.Key);
                    }
                    break;
                case Step.DictBatch:
                case Step.SetBatch:
                {
                    int count = w.Step == Step.DictBatch ? w.Node!.Entries!.Count : w.Node!.Items!.Count;
                    WriteByte(MARK);
                    int end = Math.Min(w.Index + BatchSize, count);
                    // CPython loops while a batch was full, so a size that is a multiple of 1000 ends with an empty batch.
                    if (end - w.Index == BatchSize) Push(w.Step, w.Node, end);
                    Push(Step.Op, op: w.Step == Step.DictBatch ? SETITEMS : ADDITEMS);
                    Push(Step.BatchItems, w.Node, w.Index, end);
                    break;
                }
                case Step.BatchItems:
                    if (w.Index < w.End)
                    {
                        Push(Step.BatchItems, w.Node, w.Index + 1, w.End);
                        if (w.Node!.Entries is { } entries) { Push(Step.Save, entries[w.Index].Value); Push(Step.Save, entries[w.Index].Key); }
                        else Push(Step.Save, w.Node.Items![w.Index]);
                    }
                    break;
                case Step.ReduceEnd: ReduceEnd(w.Node!, w.Extra); break;
            }
        }
    }

    void Save(Node n)
    {
        OpcodeBoundary();
        switch (n.Kind)
        {
            case TokenKind.Null when !_synthetic.ContainsKey(n): WriteByte(NONE); return;
            case TokenKind.Bool: SaveBool((bool)n.Value!); return;
            case TokenKind.Int: if (n.Value is long l) SaveInt(l); else SaveInt((BigInteger)n.Value!); return;
            case TokenKind.Float: SaveFloat((double)n.Value!); return;
        }
        if (_memo.TryGetValue(n, out var idx)) { WriteGet(idx); return; }
        // Stand-ins (Reduce, Global) are all null nodes: other kinds need not be looked up.
        if (n.Kind == TokenKind.Null && _synthetic.TryGetValue(n, out var syn))
        {
            if (syn is SynthGlobal g) SaveGlobal(n, g);
            else { var r = (SynthReduce)syn; PushReduce(r.Callable, r.Args, n, r.NewObj, r.State); }
            return;
        }
        switch (n.Kind)
        {
            case TokenKind.String: SaveString((string)n.Value!); MemoPut(n); return;
            case TokenKind.Bytes: SaveBytes(n); return;
            case TokenKind.Decimal: PushReduce(Global("decimal", "Decimal"), Tuple(Node.String(PythonText.DecimalStr((DecimalNumber)n.Value!))), n); return;
            case TokenKind.Date: PushReduce(Global("datetime", "date"), Tuple(Node.Bytes(DateState((DateOnly)n.Value!))), n); return;
            case TokenKind.Time: PushReduce(Global("datetime", "time"), Tuple(Node.Bytes(TimeState((TimeOnly)n.Value!))), n); return;
            case TokenKind.Timestamp: SaveTimestamp(n, (Timestamp)n.Value!); return;
            case TokenKind.Uuid:
            {
                var big = new BigInteger(((Guid)n.Value!).ToByteArray(bigEndian: true), isUnsigned: true, isBigEndian: true);
                var state = Node.Map();
                state.Add(Interned('a', "int"), Node.Int(big));
                SaveObject(n, "uuid", "UUID", null, state);
                return;
            }
            case TokenKind.StartList:
                switch (n.Tag)
                {
                    case "tuple": SaveTuple(n); return;
                    case "set": SaveSet(n); return;
                    case "frozenset": SaveFrozenSet(n); return;
                    default: SaveList(n); return;
                }
            case TokenKind.StartMap:
                if (n.Tag is { } tag && SplitClassName(tag) is { } cls) SaveTaggedMap(n, cls.module, cls.name);
                else SaveDict(n);
                return;
        }
        throw new BrineFormatException("pickle", "", $"cannot pickle a {n.Kind}");
    }

    // ---- atoms ----

    void SaveBool(bool v)
    {
        if (_proto >= 2) WriteByte(v ? NEWTRUE : NEWFALSE);
        else WriteAscii(v ? "I01\n" : "I00\n");
    }

    /// <summary>The 64-bit case of <see cref="SaveInt(BigInteger)"/> (the same bytes) without making a BigInteger.</summary>
    void SaveInt(long v)
    {
        if (v >= int.MinValue && v <= int.MaxValue && _bin)
        {
            int x = (int)v;
            if (x >= 0 && x < 256) { Reserve2(BININT1, (byte)x); }
            else if (x >= 0 && x < 65536) { Span<byte> b = stackalloc byte[3]; b[0] = BININT2; BinaryPrimitives.WriteUInt16LittleEndian(b[1..], (ushort)x); Write(b); }
            else { Span<byte> b = stackalloc byte[5]; b[0] = BININT; BinaryPrimitives.WriteInt32LittleEndian(b[1..], x); Write(b); }
            return;
        }
        SaveInt((BigInteger)v);
    }

    void Reserve2(byte a, byte b)
    {
        OpenFrameIfNeeded();
        Reserve(2);
        _buf[_len++] = a;
        _buf[_len++] = b;
    }

    void SaveInt(BigInteger v)
    {
        if (v >= int.MinValue && v <= int.MaxValue)
        {
            int x = (int)v;
            if (!_bin) { WriteAscii("I" + x.ToString(CultureInfo.InvariantCulture) + "\n"); return; }
            if (x >= 0 && x < 256) { WriteByte(BININT1); WriteByte((byte)x); }
            else if (x >= 0 && x < 65536) { Span<byte> b = stackalloc byte[3]; b[0] = BININT2; BinaryPrimitives.WriteUInt16LittleEndian(b[1..], (ushort)x); Write(b); }
            else { Span<byte> b = stackalloc byte[5]; b[0] = BININT; BinaryPrimitives.WriteInt32LittleEndian(b[1..], x); Write(b); }
            return;
        }
        if (_proto >= 2)
        {
            // Minimal two's complement, little-endian: what pickle's encode_long gives.
            var bytes = v.ToByteArray(isUnsigned: false, isBigEndian: false);
            if (bytes.Length < 256) { WriteByte(LONG1); WriteByte((byte)bytes.Length); }
            else { Span<byte> h = stackalloc byte[5]; h[0] = LONG4; BinaryPrimitives.WriteInt32LittleEndian(h[1..], bytes.Length); Write(h); }
            Write(bytes);
            return;
        }
        WriteAscii("L" + v.ToString(CultureInfo.InvariantCulture) + "L\n");
    }

    void SaveFloat(double d)
    {
        // .NET's double.NaN has the sign bit set; Python's float('nan') does not. Other NaN payloads pass as they are.
        if (BitConverter.DoubleToInt64Bits(d) == BitConverter.DoubleToInt64Bits(double.NaN)) d = BitConverter.Int64BitsToDouble(0x7FF8_0000_0000_0000);
        if (_bin) { Span<byte> b = stackalloc byte[9]; b[0] = BINFLOAT; BinaryPrimitives.WriteDoubleBigEndian(b[1..], d); Write(b); }
        else WriteAscii("F" + PythonText.FloatRepr(d) + "\n");
    }

    /// <summary>
    /// The UTF-8 bytes of a short string at <paramref name="p"/>; their count. Names and e-mail addresses are mostly
    /// ASCII: a plain loop copies those without the encoder's setup (which cost more than the copy).
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    static int ShortUtf8(string s, byte[] buf, int p)
    {
        var dest = buf.AsSpan(p, s.Length);
        for (int k = 0; k < s.Length; k++)
        {
            char c = s[k];
            if (c >= 0x80) return Encoding.UTF8.GetBytes(s, buf.AsSpan(p));
            dest[k] = (byte)c;
        }
        return s.Length;
    }

    void SaveString(string s)
    {
        if (!_bin)
        {
            WriteByte(UNICODE);
            Write(PythonText.RawUnicodeEscape(s));
            WriteByte((byte)'\n');
            return;
        }
        if (_proto >= 4 && s.Length <= 0xff / 3)
        {
            // At most 255 UTF-8 bytes: encode straight into the buffer after a SHORT_BINUNICODE header.
            OpenFrameIfNeeded();
            Reserve(2 + s.Length * 3);
            int n = ShortUtf8(s, _buf, _len + 2);
            _buf[_len] = SHORT_BINUNICODE; _buf[_len + 1] = (byte)n;
            _len += 2 + n;
            return;
        }
        var utf8 = Encoding.UTF8.GetBytes(s);
        Span<byte> h = stackalloc byte[9];
        int hl;
        if (utf8.Length <= 0xff && _proto >= 4) { h[0] = SHORT_BINUNICODE; h[1] = (byte)utf8.Length; hl = 2; }
        else if ((uint)utf8.Length <= uint.MaxValue) { h[0] = BINUNICODE; BinaryPrimitives.WriteUInt32LittleEndian(h[1..], (uint)utf8.Length); hl = 5; }
        else { h[0] = BINUNICODE8; BinaryPrimitives.WriteUInt64LittleEndian(h[1..], (ulong)utf8.Length); hl = 9; }
        WriteHeaderAndPayload(h[..hl], utf8);
    }

    // ---- bytes ----

    void SaveBytes(Node n)
    {
        var data = (byte[])n.Value!;
        bool outOfBandCandidate = _proto >= 5 && _bufferCallback is not null && (n.Tag == "picklebuffer" || (n.Tag is null && data.Length >= _outOfBandMin));
        if (outOfBandCandidate && _bufferCallback!(data))
        {
            // Out of band: the data travels beside the pickle; NEXT_BUFFER is not memoized (as in CPython).
            WriteByte(NEXT_BUFFER);
            if (n.Tag != "bytearray") WriteByte(READONLY_BUFFER);
            return;
        }
        if (n.Tag == "bytearray")
        {
            if (_proto >= 5)
            {
                Span<byte> h = stackalloc byte[9];
                h[0] = BYTEARRAY8; BinaryPrimitives.WriteUInt64LittleEndian(h[1..], (ulong)data.Length);
                WriteHeaderAndPayload(h, data);
                MemoPut(n);
                return;
            }
            PushReduce(Global("builtins", "bytearray"), data.Length == 0 ? Tuple() : Tuple(Node.Bytes(data)), n);
            return;
        }
        if (_proto >= 3)
        {
            Span<byte> h = stackalloc byte[9];
            int hl;
            if (data.Length <= 0xff) { h[0] = SHORT_BINBYTES; h[1] = (byte)data.Length; hl = 2; }
            else { h[0] = BINBYTES; BinaryPrimitives.WriteUInt32LittleEndian(h[1..], (uint)data.Length); hl = 5; }
            WriteHeaderAndPayload(h[..hl], data);
            MemoPut(n);
            return;
        }
        // Protocols 0–2 have no bytes opcode: CPython writes _codecs.encode(latin-1 text, 'latin1').
        if (data.Length == 0) { PushReduce(Global("builtins", "bytes"), Tuple(), n); return; }
        PushReduce(Global("_codecs", "encode"), Tuple(Node.String(Encoding.Latin1.GetString(data)), Interned('s', "latin1")), n);
    }

    // ---- containers ----

    void SaveTuple(Node n)
    {
        int len = n.Items!.Count;
        if (len == 0)
        {
            if (_bin) WriteByte(EMPTY_TUPLE); else { WriteByte(MARK); WriteByte(TUPLE); }
            return;
        }
        if (len > 3 || _proto < 2) WriteByte(MARK);
        Push(Step.TupleEnd, n);
        Push(Step.TupleItems, n, 0, len);
    }

    /// <summary>After a tuple's items: if saving them memoized the tuple (a cycle through a list or dict), drop them and GET it.</summary>
    void TupleEnd(Node n)
    {
        int len = n.Items!.Count;
        bool shortForm = len <= 3 && _proto >= 2;
        if (_memo.TryGetValue(n, out var idx))
        {
            if (shortForm) for (int i = 0; i < len; i++) WriteByte(POP);
            else if (_bin) WriteByte(POP_MARK);
            else for (int i = 0; i <= len; i++) WriteByte(POP);
            WriteGet(idx);
            return;
        }
        WriteByte(shortForm ? (byte)(TUPLE1 + len - 1) : TUPLE);
        MemoPut(n);
    }

    void SaveList(Node n)
    {
        if (_bin) WriteByte(EMPTY_LIST); else { WriteByte(MARK); WriteByte(LIST); }
        MemoPut(n);
        var items = n.Items!;
        if (items.Count == 0) return;
        if (!_bin) { Push(Step.ListText, n, 0); return; }
        if (items.Count == 1) { Push(Step.Op, op: APPEND); Push(Step.Save, items[0]); return; }
        Push(Step.ListBatch, n, 0);
    }

    void SaveDict(Node n)
    {
        if (_bin) WriteByte(EMPTY_DICT); else { WriteByte(MARK); WriteByte(DICT); }
        MemoPut(n);
        var entries = n.Entries!;
        if (entries.Count == 0) return;
        if (!_bin) { Push(Step.DictText, n, 0); return; }
        if (entries.Count == 1) { Push(Step.Op, op: SETITEM); Push(Step.Save, entries[0].Value); Push(Step.Save, entries[0].Key); return; }
        Push(Step.DictBatch, n, 0);
    }

    void SaveSet(Node n)
    {
        if (_proto < 4) { PushReduce(Global("builtins", "set"), Tuple(CopyAsList(n)), n); return; }
        WriteByte(EMPTY_SET);
        MemoPut(n);
        if (n.Items!.Count == 0) return;
        Push(Step.SetBatch, n, 0);
    }

    void SaveFrozenSet(Node n)
    {
        if (_proto < 4) { PushReduce(Global("builtins", "frozenset"), Tuple(CopyAsList(n)), n); return; }
        WriteByte(MARK);
        Push(Step.FrozenSetEnd, n);
        Push(Step.TupleItems, n, 0, n.Items!.Count);
    }

    void FrozenSetEnd(Node n)
    {
        if (_memo.TryGetValue(n, out var idx)) { WriteByte(POP_MARK); WriteGet(idx); return; }
        WriteByte(FROZENSET);
        MemoPut(n);
    }

    static Node CopyAsList(Node n)
    {
        var l = Node.List();
        l.Items!.AddRange(n.Items!);
        return l;
    }

    // ---- globals, reductions, objects ----

    void SaveGlobal(Node n, SynthGlobal g)
    {
        if (_proto >= 4)
        {
            Push(Step.MemoPut, n);
            Push(Step.Op, op: STACK_GLOBAL);
            Push(Step.Save, Interned('n', g.Name));
            Push(Step.Save, Interned('m', g.Module));
            return;
        }
        var (module, name) = _proto < 3 ? Python2Name(g.Module, g.Name) : (g.Module, g.Name);
        WriteByte(GLOBAL);
        Write(Encoding.UTF8.GetBytes(module + "\n" + name + "\n"));
        MemoPut(n);
    }

    /// <summary>pickle's fix_imports for protocols 0–2: Python 3 names written as Python 2 knows them.</summary>
    static (string, string) Python2Name(string module, string name) => module switch
    {
        "builtins" => ("__builtin__", name switch { "str" => "unicode", "int" => "long", "range" => "xrange", _ => name }),
        "copyreg" => ("copy_reg", name),
        "queue" => ("Queue", name),
        "socketserver" => ("SocketServer", name),
        "configparser" => ("ConfigParser", name),
        "reprlib" => ("repr", name),
        "_thread" => ("thread", name),
        _ => (module, name),
    };

    /// <summary>CPython's save_reduce: callable and arguments (or class and NEWOBJ arguments), memoize, then the state and BUILD.</summary>
    void PushReduce(Node callable, Node args, Node obj, bool newObj = false, Node? state = null)
    {
        Push(Step.ReduceEnd, obj, extra: state);
        Push(Step.Op, op: newObj ? NEWOBJ : REDUCE);
        Push(Step.Save, args);
        Push(Step.Save, callable);
    }

    void ReduceEnd(Node obj, Node? state)
    {
        if (_memo.TryGetValue(obj, out var idx)) { WriteByte(POP); WriteGet(idx); return; }
        MemoPut(obj);
        if (state is not null) { Push(Step.Op, op: BUILD); Push(Step.Save, state); }
    }

    /// <summary>A plain class instance as CPython pickles one through <c>object.__reduce_ex__</c>.</summary>
    void SaveObject(Node obj, string module, string name, Node? args, Node? state)
    {
        if (state is { Entries.Count: 0 }) state = null;
        var cls = Global(module, name);
        args ??= Tuple();
        if (_proto >= 2) PushReduce(cls, args, obj, newObj: true, state);
        else if (args.Items!.Count > 0) PushReduce(cls, args, obj, newObj: false, state);
        else PushReduce(Global("copyreg", "_reconstructor"), Tuple(cls, Global("builtins", "object"), Node.Null()), obj, newObj: false, state);
    }

    void SaveTaggedMap(Node n, string module, string name)
    {
        switch (module + "." + name)
        {
            case "datetime.timedelta":
                PushReduce(Global("datetime", "timedelta"), Tuple(n["days"] ?? Node.Int(0), n["seconds"] ?? Node.Int(0), n["microseconds"] ?? Node.Int(0)), n);
                return;
            case "datetime.timezone":
                PushReduce(Global("datetime", "timezone"), n["name"] is { } tzName ? Tuple(n["offset"] ?? Node.Int(0), tzName) : Tuple(n["offset"] ?? Node.Int(0)), n);
                return;
            case "builtins.complex":
                PushReduce(Global("builtins", "complex"), Tuple(n["real"] ?? Node.Float(0), n["imag"] ?? Node.Float(0)), n);
                return;
        }
        Node? args = null;
        var state = Node.Map();
        foreach (var e in n.Entries!)
        {
            if (e.Key.Value is "__args__" && e.Value.IsList) { args = Tuple(e.Value.Items!.ToArray()); continue; }
            // Attribute names are interned in Python, so every instance shares them through the memo.
            state.Add(e.Key.Value is string k ? Interned('a', k) : e.Key, e.Value);
        }
        SaveObject(n, module, name, args, state);
    }

    /// <summary><c>module.Name</c> (split at the last dot) or <c>module:Qual.Name</c>; null for tags that are no Python class name.</summary>
    internal static (string module, string name)? SplitClassName(string tag)
    {
        int colon = tag.IndexOf(':');
        string module, name;
        if (colon > 0) { module = tag[..colon]; name = tag[(colon + 1)..]; }
        else
        {
            int dot = tag.LastIndexOf('.');
            if (dot <= 0) return null;
            module = tag[..dot]; name = tag[(dot + 1)..];
        }
        return IsDottedName(module) && IsDottedName(name) ? (module, name) : null;
    }

    static bool IsDottedName(string s)
    {
        if (s.Length == 0) return false;
        foreach (var part in s.Split('.'))
        {
            if (part.Length == 0 || !(char.IsLetter(part[0]) || part[0] == '_')) return false;
            foreach (var c in part) if (!(char.IsLetterOrDigit(c) || c == '_')) return false;
        }
        return true;
    }

    // ---- datetime, as the datetime module's __reduce__ packs it ----

    static byte[] DateState(DateOnly d) => [(byte)(d.Year >> 8), (byte)d.Year, (byte)d.Month, (byte)d.Day];

    static byte[] TimeState(TimeOnly t)
    {
        int us = (int)(t.Ticks % TimeSpan.TicksPerSecond / 10);
        return [(byte)t.Hour, (byte)t.Minute, (byte)t.Second, (byte)(us >> 16), (byte)(us >> 8), (byte)us];
    }

    void SaveTimestamp(Node n, Timestamp ts)
    {
        int offsetMin = ts.OffsetMinutes ?? 0;
        long wallSeconds = ts.UnixSeconds + offsetMin * 60L;
        long days = Math.DivRem(wallSeconds, 86400, out long rem);
        if (rem < 0) { days--; rem += 86400; }
        long dayNumber = days + DateOnly.FromDateTime(DateTime.UnixEpoch).DayNumber;
        if (dayNumber < 0 || dayNumber > DateOnly.MaxValue.DayNumber)
            throw new BrineFormatException("pickle", "", $"the timestamp {ts} is outside Python's datetime range (years 1–9999)");
        var date = DateOnly.FromDayNumber((int)dayNumber);
        int us = ts.Nanoseconds / 1000;
        byte[] state = [(byte)(date.Year >> 8), (byte)date.Year, (byte)date.Month, (byte)date.Day,
            (byte)(rem / 3600), (byte)(rem / 60 % 60), (byte)(rem % 60), (byte)(us >> 16), (byte)(us >> 8), (byte)us];
        // The class node is remembered (its string key costs a hash each time); looking it up in the memo checks it
        // still belongs to this pickle.
        int dtIdx = -1;
        if (ts.OffsetMinutes is null && _proto >= 3 && _bufferCallback is null
            && ((_dateTimeClass is not null && _memo.TryGetValue(_dateTimeClass, out dtIdx))
                || (_globals.TryGetValue("datetime\ndatetime", out _dateTimeClass) && _memo.TryGetValue(_dateTimeClass, out dtIdx))))
        {
            // A naive datetime once the class is memoized: the bytes the general path below writes (the same
            // opcode boundaries and memo indexes), without its stand-in nodes. The state bytes and the tuple are
            // fresh objects nothing else can reach, so they take memo indexes but no memo entries.
            OpcodeBoundary(); WriteGet(dtIdx);                 // Save(callable): a memo hit
            OpcodeBoundary(); OpcodeBoundary();                // Save(args tuple), Save(state bytes)
            Span<byte> h = [SHORT_BINBYTES, (byte)state.Length];
            WriteHeaderAndPayload(h, state);
            MemoPutFresh();
            WriteByte(TUPLE1); MemoPutFresh();
            WriteByte(REDUCE);
            MemoPut(n); // (ReduceEnd: n was not in the memo when Save began, and saving fresh objects cannot put it there)
            return;
        }
        Node args;
        if (ts.OffsetMinutes is null) args = Tuple(Node.Bytes(state));
        else args = Tuple(Node.Bytes(state), TimeZone(offsetMin));
        PushReduce(Global("datetime", "datetime"), args, n);
    }

    /// <summary><c>datetime.timezone(timedelta(minutes=…))</c>; UTC is one shared object, as <c>timezone.utc</c> is.</summary>
    Node TimeZone(int offsetMinutes)
    {
        if (offsetMinutes == 0 && _utc is not null) return _utc;
        long secs = offsetMinutes * 60L;
        long days = Math.DivRem(secs, 86400, out long rem);
        if (rem < 0) { days--; rem += 86400; }
        var td = Reduce(Global("datetime", "timedelta"), Tuple(Node.Int(days), Node.Int(rem), Node.Int(0)));
        var tz = Reduce(Global("datetime", "timezone"), Tuple(td));
        if (offsetMinutes == 0) _utc = tz;
        return tz;
    }

    // ---- cycles Python could not build ----

    /// <summary>
    /// Tuples, frozensets and reduce arguments are memoized only after their items, so a cycle made of them alone
    /// (which Python cannot build) would never end. Refuse it up front.
    /// </summary>
    void CheckTupleCycles(Node root)
    {
        static bool LateMemo(Node n, int proto) => n.IsList && (n.Tag is "tuple" or "frozenset" || (n.Tag == "set" && proto < 4));
        var state = new Dictionary<Node, byte>(ReferenceEqualityComparer.Instance); // 1 open, 2 done
        var seen = new HashSet<Node>(ReferenceEqualityComparer.Instance);
        var all = new Stack<Node>();
        all.Push(root);
        while (all.Count > 0)
        {
            var n = all.Pop();
            // Scalars are never pushed, and only containers holding containers are remembered: a container of
            // scalars (a record) cannot close a cycle, and seeing it again costs less than remembering a million.
            bool inner = false;
            if (n.Items is { } items) { foreach (var i in items) if (!i.IsScalar) { inner = true; break; } }
            else if (n.Entries is { } entries) { foreach (var e in entries) if (!e.Key.IsScalar || !e.Value.IsScalar) { inner = true; break; } }
            if (inner)
            {
                if (!seen.Add(n)) continue;
                if (n.Items is { } its) { foreach (var i in its) if (!i.IsScalar) all.Push(i); }
                else foreach (var e in n.Entries!) { if (!e.Key.IsScalar) all.Push(e.Key); if (!e.Value.IsScalar) all.Push(e.Value); }
            }
            if (!LateMemo(n, _proto) || state.ContainsKey(n)) continue;
            // Depth-first over late-memo nodes only.
            var dfs = new Stack<(Node node, int next)>();
            dfs.Push((n, 0));
            state[n] = 1;
            while (dfs.Count > 0)
            {
                var (cur, next) = dfs.Pop();
                if (next < cur.Items!.Count)
                {
                    dfs.Push((cur, next + 1));
                    var child = cur.Items[next];
                    if (!LateMemo(child, _proto)) continue;
                    if (state.TryGetValue(child, out var s))
                    {
                        if (s == 1) throw new BrineFormatException("pickle", "", $"a {child.Tag} contains itself with no list, dict or object in between; Python cannot build that");
                        continue;
                    }
                    state[child] = 1;
                    dfs.Push((child, 0));
                }
                else state[cur] = 2;
            }
        }
    }
}
