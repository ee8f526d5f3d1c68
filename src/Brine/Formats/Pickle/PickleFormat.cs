using Brine.Model;

namespace Brine.Formats.Pickle;

/// <summary>Python's pickle (protocols 0–5), read and written by hand: no .NET library reads and writes it faithfully.</summary>
public sealed class PickleFormat : Format
{
    public override string Name => "pickle";
    public override string Title => "Python pickle (protocols 0–5)";
    public override IReadOnlyList<string> Extensions { get; } = [".pkl", ".pickle"];
    public override IReadOnlyList<string> MediaTypes { get; } = ["application/x-python-pickle"];
    public override IReadOnlyList<string> Aliases { get; } = ["pkl"];

    public override FormatCapabilities Capabilities { get; } = new()
    {
        Binary = true,
        References = ReferenceSupport.Native,
        NativeTags = true,
        MultipleValues = true,
        Schema = "none",
        ReferencesText = "memo",
        TypesText = "globals",
        BytesText = "native",
        Shape = "object graph",
        Losses = "tags that are not Python class names on lists and scalars; timestamps below a microsecond; years outside 1–9999",
    };

    public override int SniffPriority => 20;

    /// <summary>Protocol 2–5: the PROTO opcode then a valid opcode. Protocol 0–1: the shapes CPython starts a pickle with.</summary>
    public override bool Sniff(ReadOnlySpan<byte> head)
    {
        if (head.Length >= 3 && head[0] == PickleOpcodes.PROTO && head[1] is >= 2 and <= PickleOpcodes.HighestProtocol)
        {
            var next = PickleOpcodes.ByCode[head[2]];
            return next is not null && next.Protocol <= head[1] && next.Code != PickleOpcodes.PROTO;
        }
        return SniffText(head);
    }

    static bool SniffText(ReadOnlySpan<byte> head)
    {
        if (head.Length < 2) return false;
        bool whole = head.Length < Brine.IO.PeekableInput.HeadSize;
        // A whole short file must end with STOP.
        if (whole && head[^1] != PickleOpcodes.STOP) return false;
        // Protocol 0/1 containers as CPython writes them: "(lp0\n", "(dp0\n", "]q\0", "}q\0", "(tp0\n"; a global "cmodule\nname\n".
        if (head.StartsWith("(lp0\n"u8) || head.StartsWith("(dp0\n"u8) || head.StartsWith("(lp1\n"u8) || head.StartsWith("(dp1\n"u8)) return true;
        if (head.Length >= 3 && (head[0] == ']' || head[0] == '}') && head[1] == 'q' && head[2] == 0) return true;
        if (head[0] == 'c')
        {
            int nl = head.IndexOf((byte)'\n');
            if (nl < 2 || nl > 100) return false;
            for (int i = 1; i < nl; i++) if (!(char.IsAsciiLetterOrDigit((char)head[i]) || head[i] is (byte)'_' or (byte)'.')) return false;
            var rest = head[(nl + 1)..];
            int nl2 = rest.IndexOf((byte)'\n');
            if (nl2 < 1 || nl2 > 100) return false;
            for (int i = 0; i < nl2; i++) if (!(char.IsAsciiLetterOrDigit((char)rest[i]) || rest[i] is (byte)'_' or (byte)'.')) return false;
            return true;
        }
        if (whole && head.Length <= 64 && (head[0] is (byte)'I' or (byte)'L' or (byte)'F' or (byte)'V' or (byte)'S' or (byte)'N'))
        {
            // A lone scalar: "I42\n.", "N.", "S'x'\np0\n."
            if (head[0] == 'N') return head.Length == 2;
            return head.IndexOf((byte)'\n') > 0;
        }
        return false;
    }

    public override TokenReader CreateReader(Stream input, ReadOptions options) => new PickleReader(input, options, leaveOpen: true);
    public override TokenWriter CreateWriter(Stream output, WriteOptions options) => new PickleWriter(output, options, leaveOpen: true);
}
