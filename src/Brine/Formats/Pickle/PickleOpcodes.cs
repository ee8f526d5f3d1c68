namespace Brine.Formats.Pickle;

/// <summary>How an opcode's argument is laid out in the stream (the names follow <c>pickletools</c>).</summary>
enum PickleArg : byte
{
    None,
    Uint1, Uint2, Int4, Uint4, Uint8,
    DecimalNlShort, DecimalNlLong, FloatNl, Float8, StringNl, StringNlNoEscape, StringNlNoEscapePair,
    String1, String4, Bytes1, Bytes4, Bytes8, Bytearray8, UnicodeStringNl, UnicodeString1, UnicodeString4, UnicodeString8,
    Long1, Long4,
}

/// <summary>One opcode: its byte, name, the protocol that introduced it and its stack effect (for the disassembler).</summary>
/// <param name="Pops">Items popped below any mark (pickletools' <c>stack_before</c> up to the mark).</param>
/// <param name="TakesMark">Pops everything down to and including the topmost mark.</param>
/// <param name="Pushes">Items pushed.</param>
sealed record PickleOpcode(byte Code, string Name, int Protocol, PickleArg Arg, int Pops, bool TakesMark, int Pushes);

/// <summary>The opcodes of pickle protocols 0–5, as CPython's <c>pickle.py</c> and <c>pickletools</c> define them.</summary>
static class PickleOpcodes
{
    public const byte MARK = (byte)'(', STOP = (byte)'.', POP = (byte)'0', POP_MARK = (byte)'1', DUP = (byte)'2',
        FLOAT = (byte)'F', INT = (byte)'I', BININT = (byte)'J', BININT1 = (byte)'K', LONG = (byte)'L', BININT2 = (byte)'M',
        NONE = (byte)'N', PERSID = (byte)'P', BINPERSID = (byte)'Q', REDUCE = (byte)'R', STRING = (byte)'S',
        BINSTRING = (byte)'T', SHORT_BINSTRING = (byte)'U', UNICODE = (byte)'V', BINUNICODE = (byte)'X',
        APPEND = (byte)'a', BUILD = (byte)'b', GLOBAL = (byte)'c', DICT = (byte)'d', EMPTY_DICT = (byte)'}',
        APPENDS = (byte)'e', GET = (byte)'g', BINGET = (byte)'h', INST = (byte)'i', LONG_BINGET = (byte)'j',
        LIST = (byte)'l', EMPTY_LIST = (byte)']', OBJ = (byte)'o', PUT = (byte)'p', BINPUT = (byte)'q',
        LONG_BINPUT = (byte)'r', SETITEM = (byte)'s', TUPLE = (byte)'t', EMPTY_TUPLE = (byte)')', SETITEMS = (byte)'u',
        BINFLOAT = (byte)'G',
        PROTO = 0x80, NEWOBJ = 0x81, EXT1 = 0x82, EXT2 = 0x83, EXT4 = 0x84, TUPLE1 = 0x85, TUPLE2 = 0x86, TUPLE3 = 0x87,
        NEWTRUE = 0x88, NEWFALSE = 0x89, LONG1 = 0x8a, LONG4 = 0x8b,
        BINBYTES = (byte)'B', SHORT_BINBYTES = (byte)'C',
        SHORT_BINUNICODE = 0x8c, BINUNICODE8 = 0x8d, BINBYTES8 = 0x8e, EMPTY_SET = 0x8f, ADDITEMS = 0x90,
        FROZENSET = 0x91, NEWOBJ_EX = 0x92, STACK_GLOBAL = 0x93, MEMOIZE = 0x94, FRAME = 0x95,
        BYTEARRAY8 = 0x96, NEXT_BUFFER = 0x97, READONLY_BUFFER = 0x98;

    public const int HighestProtocol = 5;

    /// <summary>Opcode by byte; null for bytes that are no opcode.</summary>
    public static readonly PickleOpcode?[] ByCode = Build();

    public static string NameOf(byte code) => ByCode[code]?.Name ?? $"unknown opcode 0x{code:x2}";

    static PickleOpcode?[] Build()
    {
        var t = new PickleOpcode?[256];
        void A(byte c, string n, int p, PickleArg a, int pops, bool mark, int pushes) => t[c] = new PickleOpcode(c, n, p, a, pops, mark, pushes);
        A(INT, "INT", 0, PickleArg.DecimalNlShort, 0, false, 1);
        A(BININT, "BININT", 1, PickleArg.Int4, 0, false, 1);
        A(BININT1, "BININT1", 1, PickleArg.Uint1, 0, false, 1);
        A(BININT2, "BININT2", 1, PickleArg.Uint2, 0, false, 1);
        A(LONG, "LONG", 0, PickleArg.DecimalNlLong, 0, false, 1);
        A(LONG1, "LONG1", 2, PickleArg.Long1, 0, false, 1);
        A(LONG4, "LONG4", 2, PickleArg.Long4, 0, false, 1);
        A(STRING, "STRING", 0, PickleArg.StringNl, 0, false, 1);
        A(BINSTRING, "BINSTRING", 1, PickleArg.String4, 0, false, 1);
        A(SHORT_BINSTRING, "SHORT_BINSTRING", 1, PickleArg.String1, 0, false, 1);
        A(BINBYTES, "BINBYTES", 3, PickleArg.Bytes4, 0, false, 1);
        A(SHORT_BINBYTES, "SHORT_BINBYTES", 3, PickleArg.Bytes1, 0, false, 1);
        A(BINBYTES8, "BINBYTES8", 4, PickleArg.Bytes8, 0, false, 1);
        A(BYTEARRAY8, "BYTEARRAY8", 5, PickleArg.Bytearray8, 0, false, 1);
        A(NEXT_BUFFER, "NEXT_BUFFER", 5, PickleArg.None, 0, false, 1);
        A(READONLY_BUFFER, "READONLY_BUFFER", 5, PickleArg.None, 1, false, 1);
        A(NONE, "NONE", 0, PickleArg.None, 0, false, 1);
        A(NEWTRUE, "NEWTRUE", 2, PickleArg.None, 0, false, 1);
        A(NEWFALSE, "NEWFALSE", 2, PickleArg.None, 0, false, 1);
        A(UNICODE, "UNICODE", 0, PickleArg.UnicodeStringNl, 0, false, 1);
        A(SHORT_BINUNICODE, "SHORT_BINUNICODE", 4, PickleArg.UnicodeString1, 0, false, 1);
        A(BINUNICODE, "BINUNICODE", 1, PickleArg.UnicodeString4, 0, false, 1);
        A(BINUNICODE8, "BINUNICODE8", 4, PickleArg.UnicodeString8, 0, false, 1);
        A(FLOAT, "FLOAT", 0, PickleArg.FloatNl, 0, false, 1);
        A(BINFLOAT, "BINFLOAT", 1, PickleArg.Float8, 0, false, 1);
        A(EMPTY_LIST, "EMPTY_LIST", 1, PickleArg.None, 0, false, 1);
        A(APPEND, "APPEND", 0, PickleArg.None, 2, false, 1);
        A(APPENDS, "APPENDS", 1, PickleArg.None, 1, true, 1);
        A(LIST, "LIST", 0, PickleArg.None, 0, true, 1);
        A(EMPTY_TUPLE, "EMPTY_TUPLE", 1, PickleArg.None, 0, false, 1);
        A(TUPLE, "TUPLE", 0, PickleArg.None, 0, true, 1);
        A(TUPLE1, "TUPLE1", 2, PickleArg.None, 1, false, 1);
        A(TUPLE2, "TUPLE2", 2, PickleArg.None, 2, false, 1);
        A(TUPLE3, "TUPLE3", 2, PickleArg.None, 3, false, 1);
        A(EMPTY_DICT, "EMPTY_DICT", 1, PickleArg.None, 0, false, 1);
        A(DICT, "DICT", 0, PickleArg.None, 0, true, 1);
        A(SETITEM, "SETITEM", 0, PickleArg.None, 3, false, 1);
        A(SETITEMS, "SETITEMS", 1, PickleArg.None, 1, true, 1);
        A(EMPTY_SET, "EMPTY_SET", 4, PickleArg.None, 0, false, 1);
        A(ADDITEMS, "ADDITEMS", 4, PickleArg.None, 1, true, 1);
        A(FROZENSET, "FROZENSET", 4, PickleArg.None, 0, true, 1);
        A(POP, "POP", 0, PickleArg.None, 1, false, 0);
        A(DUP, "DUP", 0, PickleArg.None, 1, false, 2);
        A(MARK, "MARK", 0, PickleArg.None, 0, false, 0);
        A(POP_MARK, "POP_MARK", 1, PickleArg.None, 0, true, 0);
        A(GET, "GET", 0, PickleArg.DecimalNlShort, 0, false, 1);
        A(BINGET, "BINGET", 1, PickleArg.Uint1, 0, false, 1);
        A(LONG_BINGET, "LONG_BINGET", 1, PickleArg.Uint4, 0, false, 1);
        A(PUT, "PUT", 0, PickleArg.DecimalNlShort, 0, false, 0);
        A(BINPUT, "BINPUT", 1, PickleArg.Uint1, 0, false, 0);
        A(LONG_BINPUT, "LONG_BINPUT", 1, PickleArg.Uint4, 0, false, 0);
        A(MEMOIZE, "MEMOIZE", 4, PickleArg.None, 0, false, 0);
        A(EXT1, "EXT1", 2, PickleArg.Uint1, 0, false, 1);
        A(EXT2, "EXT2", 2, PickleArg.Uint2, 0, false, 1);
        A(EXT4, "EXT4", 2, PickleArg.Int4, 0, false, 1);
        A(GLOBAL, "GLOBAL", 0, PickleArg.StringNlNoEscapePair, 0, false, 1);
        A(STACK_GLOBAL, "STACK_GLOBAL", 4, PickleArg.None, 2, false, 1);
        A(REDUCE, "REDUCE", 0, PickleArg.None, 2, false, 1);
        A(BUILD, "BUILD", 0, PickleArg.None, 2, false, 1);
        A(INST, "INST", 0, PickleArg.StringNlNoEscapePair, 0, true, 1);
        A(OBJ, "OBJ", 1, PickleArg.None, 0, true, 1);
        A(NEWOBJ, "NEWOBJ", 2, PickleArg.None, 2, false, 1);
        A(NEWOBJ_EX, "NEWOBJ_EX", 4, PickleArg.None, 3, false, 1);
        A(PROTO, "PROTO", 2, PickleArg.Uint1, 0, false, 0);
        A(STOP, "STOP", 0, PickleArg.None, 1, false, 0);
        A(FRAME, "FRAME", 4, PickleArg.Uint8, 0, false, 0);
        A(PERSID, "PERSID", 0, PickleArg.StringNlNoEscape, 0, false, 1);
        A(BINPERSID, "BINPERSID", 1, PickleArg.None, 1, false, 1);
        return t;
    }
}
