using System.CommandLine;
using Brine.IO;
using Brine.Model;
using Brine.Security;

namespace Brine.Cli.Commands;

/// <summary><c>brine sign</c> and <c>brine verify</c>: HMAC-SHA256 envelopes checked before anything is decoded.</summary>
public static class SignCommands
{
    public static Command CreateSign() => Create("sign", "Put an HMAC-SHA256 signature before the payload of IN and write the envelope to OUT.", sign: true);
    public static Command CreateVerify() => Create("verify", "Check the signature of the envelope IN and write its payload to OUT; a tampered payload or a wrong key is refused and nothing is written.", sign: false);

    static Command Create(string name, string description, bool sign)
    {
        var input = new Argument<string>("IN") { Description = "Input file, or - for standard input" };
        var output = new Argument<string>("OUT") { Description = "Output file, or - for standard output" };
        var keyFile = new Option<string?>("--key-file", "-k") { Description = "A file holding the key: at least 32 raw bytes, or text base64:…" };
        var keyEnv = new Option<string?>("--key-env") { Description = $"An environment variable holding the key (default {SigningKey.DefaultEnvironmentVariable} when no --key-file)" };
        var keyId = new Option<string?>("--key-id") { Description = "The key id to write in the envelope (sign) or to expect in it (verify)" };
        var cmd = new Command(name, description) { input, output, keyFile, keyEnv, keyId };
        cmd.SetAction(p =>
        {
            var id = p.GetValue(keyId);
            var key = p.GetValue(keyFile) is { } kf
                ? SigningKey.FromFile(kf, id)
                : SigningKey.FromEnvironment(p.GetValue(keyEnv) ?? SigningKey.DefaultEnvironmentVariable, id);
            var inPath = p.GetValue(input)!;
            if (inPath != "-" && !File.Exists(inPath)) throw new BrineUsageException($"input file not found: {inPath}");
            using var src = inPath == "-" ? Console.OpenStandardInput() : File.OpenRead(inPath);
            var outPath = p.GetValue(output)!;
            if (outPath == "-")
            {
                // Verify to a buffer first so that nothing of a refused payload reaches standard output.
                var buffer = new MemoryStream();
                Run(src, buffer, key);
                using var stdout = Console.OpenStandardOutput();
                buffer.Position = 0;
                buffer.CopyTo(stdout);
            }
            else
            {
                using var file = new AtomicFile(outPath);
                Run(src, file.Stream, key);
                file.Commit();
            }
            return CliApp.Ok;
        });
        return cmd;

        void Run(Stream src, Stream dst, SigningKey key)
        {
            if (sign) SignedEnvelope.Sign(src, dst, key);
            else SignedEnvelope.Verify(src, dst, key);
        }
    }
}
