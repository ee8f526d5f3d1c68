using System.Buffers.Binary;
using System.Globalization;
using System.Numerics;
using System.Text;
using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>
/// A readable listing of a pickle, laid out as <c>python -m pickletools</c> prints it: offset, opcode byte and name
/// (indented by MARK depth), argument, memo and MARK notes, and the highest protocol among the opcodes.
/// Nothing is built or run; the stack is only emulated to pair MARKs and check memo use.
/// </summary>
public static class PickleDisassembler
{
    /// <summary>Lists every pickle in <paramref name="input"/> (a blank line between pickles).</summary>
    public static void Disassemble(Stream input, TextWriter output, int indentLevel = 4)
    {
        var src = new PickleInput(input);
        bool first = true;
        while (!src.AtEnd)
        {
            if (!first) output.WriteLine();
            first = false;
            DisassembleOne(src, output, indentLevel);
        }
    }

    /// <summary>The listing as a string.</summary>
    public static string Disassemble(byte[] pickle)
    {
        var sw = new StringWriter { NewLine = "\n" };
        Disassemble(new MemoryStream(pickle), sw);
        return sw.ToString();
    }

    static void DisassembleOne(PickleInput src, TextWriter output, int indentLevel)
    {
        var stack = new List<bool>(); // true = a MARK
        var markStack = new List<long>();
        var memo = new HashSet<long>();
        int maxProto = -1;
        var indent = new string(' ', indentLevel);
        while (true)
        {
            long pos = src.Position;
            int b = src.ReadByte();
            if (b < 0) throw Fail(pos, "pickle exhausted before seeing STOP");
            var op = PickleOpcodes.ByCode[b] ?? throw Fail(pos, $"opcode {PythonText.BytesRepr([(byte)b])} unknown");
            var arg = ReadArg(src, op, pos);
            var line = new StringBuilder();
            line.Append(pos.ToString(CultureInfo.InvariantCulture).PadLeft(5)).Append(": ");
            line.Append(CodeRepr(op.Code).PadRight(4)).Append(' ');
            for (int i = 0; i < markStack.Count; i++) line.Append(indent);
            line.Append(op.Name);
            maxProto = Math.Max(maxProto, op.Protocol);

            string? markMsg = null, error = null;
            int pops = op.Pops;
            if (op.TakesMark || (op.Code == PickleOpcodes.POP && stack.Count > 0 && stack[^1]))
            {
                if (markStack.Count > 0)
                {
                    markMsg = $"(MARK at {markStack[^1]})";
                    markStack.RemoveAt(markStack.Count - 1);
                    int m = stack.LastIndexOf(true);
                    if (m >= 0) stack.RemoveRange(m, stack.Count - m);
                    if (op.Code == PickleOpcodes.POP) pops = 0;
                }
                else error = markMsg = "no MARK exists on stack";
            }
            long? memoIndex = null;
            if (op.Code is PickleOpcodes.PUT or PickleOpcodes.BINPUT or PickleOpcodes.LONG_BINPUT or PickleOpcodes.MEMOIZE)
            {
                if (op.Code == PickleOpcodes.MEMOIZE) { memoIndex = memo.Count; markMsg = $"(as {memo.Count})"; }
                else memoIndex = arg.index;
                if (memo.Contains(memoIndex.Value)) error = $"memo key {arg.repr ?? memoIndex.ToString()} already defined";
                else if (stack.Count == 0) error = "stack is empty -- can't store into memo";
                else if (stack[^1]) error = "can't store markobject in the memo";
                else memo.Add(memoIndex.Value);
            }
            else if (op.Code is PickleOpcodes.GET or PickleOpcodes.BINGET or PickleOpcodes.LONG_BINGET && !memo.Contains(arg.index))
                error = $"memo key {arg.repr} has never been stored into";

            if (arg.repr is not null || markMsg is not null)
            {
                line.Append(' ', Math.Max(0, 10 - op.Name.Length));
                if (arg.repr is not null) line.Append(' ').Append(arg.repr);
                if (markMsg is not null) line.Append(' ').Append(markMsg);
            }
            output.WriteLine(line.ToString());
            if (error is not null) throw Fail(pos, error);

            if (stack.Count < pops) throw Fail(pos, $"tries to pop {pops} items from stack with only {stack.Count} items");
            stack.RemoveRange(stack.Count - pops, pops);
            if (op.Code == PickleOpcodes.MARK) { stack.Add(true); markStack.Add(pos); }
            for (int i = 0; i < op.Pushes; i++) stack.Add(false);
            if (op.Code == PickleOpcodes.STOP) break;
        }
        output.WriteLine($"highest protocol among opcodes = {maxProto}");
    }

    static BrineFormatException Fail(long pos, string detail) => new("pickle", $"byte {pos}", detail);

    /// <summary>Python's <c>repr(opcode.code)[1:-1]</c>.</summary>
    static string CodeRepr(byte c) => c >= 0x20 && c < 0x7f ? (c == '\\' ? "\\\\" : ((char)c).ToString()) : $"\\x{c:x2}";

    static (string? repr, long index) ReadArg(PickleInput src, PickleOpcode op, long pos)
    {
        ReadOnlySpan<byte> Take(int n) => src.TryRead(n, out var s) ? s : throw Fail(pos, $"{op.Name}: not enough data for the argument");
        byte[] TakeArray(long n) => n < 0 ? throw Fail(pos, $"{op.Name}: negative length") : src.TryReadArray(n) ?? throw Fail(pos, $"{op.Name}: not enough data for the argument");
        string Line() => src.TryReadLine(out var l) ? Encoding.Latin1.GetString(l) : throw Fail(pos, $"{op.Name}: no newline found");
        static string Int(BigInteger v) => v.ToString(CultureInfo.InvariantCulture);

        switch (op.Arg)
        {
            case PickleArg.None: return (null, 0);
            case PickleArg.Uint1: { var v = Take(1)[0]; return (Int(v), v); }
            case PickleArg.Uint2: { var v = BinaryPrimitives.ReadUInt16LittleEndian(Take(2)); return (Int(v), v); }
            case PickleArg.Int4: { var v = BinaryPrimitives.ReadInt32LittleEndian(Take(4)); return (Int(v), v); }
            case PickleArg.Uint4: { var v = BinaryPrimitives.ReadUInt32LittleEndian(Take(4)); return (Int(v), v); }
            case PickleArg.Uint8: { var v = BinaryPrimitives.ReadUInt64LittleEndian(Take(8)); return (Int(v), (long)Math.Min(v, long.MaxValue)); }
            case PickleArg.DecimalNlShort:
            {
                var s = Line();
                if (op.Code == PickleOpcodes.INT && s == "00") return ("False", 0);
                if (op.Code == PickleOpcodes.INT && s == "01") return ("True", 1);
                if (!PythonText.TryParseInt(s, out var v)) throw Fail(pos, $"{op.Name}: '{s}' is not an integer");
                return (Int(v), v >= long.MinValue && v <= long.MaxValue ? (long)v : -1);
            }
            case PickleArg.DecimalNlLong:
            {
                var s = Line();
                if (s.EndsWith('L')) s = s[..^1];
                if (!PythonText.TryParseInt(s, out var v)) throw Fail(pos, $"{op.Name}: '{s}' is not an integer");
                return (Int(v), 0);
            }
            case PickleArg.FloatNl:
            {
                var s = Line();
                if (!PythonText.TryParseFloat(s, out var d)) throw Fail(pos, $"{op.Name}: '{s}' is not a float");
                return (PythonText.FloatRepr(d), 0);
            }
            case PickleArg.Float8: return (PythonText.FloatRepr(BinaryPrimitives.ReadDoubleBigEndian(Take(8))), 0);
            case PickleArg.StringNl:
            {
                var raw = src.TryReadLine(out var l) ? l.ToArray() : throw Fail(pos, $"{op.Name}: no newline found");
                if (raw.Length < 2 || raw[0] != raw[^1] || raw[0] is not ((byte)'\'' or (byte)'"')) throw Fail(pos, $"{op.Name}: no string quotes around {PythonText.BytesRepr(raw)}");
                return (PythonText.StrRepr(Encoding.Latin1.GetString(PythonText.EscapeDecode(raw.AsSpan(1, raw.Length - 2))), asciiOnly: true), 0);
            }
            case PickleArg.StringNlNoEscape: return (PythonText.StrRepr(Line()), 0);
            case PickleArg.StringNlNoEscapePair: { var a = Line(); var b = Line(); return (PythonText.StrRepr(a + " " + b), 0); }
            case PickleArg.String1: return (PythonText.StrRepr(Encoding.Latin1.GetString(TakeArray(Take(1)[0])), asciiOnly: true), 0);
            case PickleArg.String4: return (PythonText.StrRepr(Encoding.Latin1.GetString(TakeArray(BinaryPrimitives.ReadInt32LittleEndian(Take(4)))), asciiOnly: true), 0);
            case PickleArg.Bytes1: return (PythonText.BytesRepr(TakeArray(Take(1)[0])), 0);
            case PickleArg.Bytes4: return (PythonText.BytesRepr(TakeArray(BinaryPrimitives.ReadUInt32LittleEndian(Take(4)))), 0);
            case PickleArg.Bytes8: return (PythonText.BytesRepr(TakeArray((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))), 0);
            case PickleArg.Bytearray8: return ("bytearray(" + PythonText.BytesRepr(TakeArray((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8)))) + ")", 0);
            case PickleArg.UnicodeStringNl:
            {
                var raw = src.TryReadLine(out var l) ? l.ToArray() : throw Fail(pos, $"{op.Name}: no newline found");
                return (PythonText.StrRepr(PythonText.RawUnicodeUnescape(raw)), 0);
            }
            case PickleArg.UnicodeString1: return (PythonText.StrRepr(Encoding.UTF8.GetString(TakeArray(Take(1)[0]))), 0);
            case PickleArg.UnicodeString4: return (PythonText.StrRepr(Encoding.UTF8.GetString(TakeArray(BinaryPrimitives.ReadUInt32LittleEndian(Take(4))))), 0);
            case PickleArg.UnicodeString8: return (PythonText.StrRepr(Encoding.UTF8.GetString(TakeArray((long)BinaryPrimitives.ReadUInt64LittleEndian(Take(8))))), 0);
            case PickleArg.Long1:
            {
                int n = Take(1)[0];
                return (Int(n == 0 ? BigInteger.Zero : new BigInteger(Take(n))), 0);
            }
            case PickleArg.Long4:
            {
                int n = BinaryPrimitives.ReadInt32LittleEndian(Take(4));
                return (Int(n <= 0 ? BigInteger.Zero : new BigInteger(TakeArray(n))), 0);
            }
        }
        throw Fail(pos, "unknown argument type");
    }
}
