using System.Diagnostics;
using Brine.Tests.Support;
using Xunit;

namespace Brine.Tests.Cli;

/// <summary>Runs the real `brine` program (Brine.Cli.dll beside the tests) as a child process.</summary>
public static class BrineProcess
{
    public static (int code, string stdout, string stderr) Run(params string[] args) => RunIn(null, null, args);

    public static (int code, string stdout, string stderr) RunIn(string? workingDir, byte[]? stdin, params string[] args)
    {
        var psi = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = true, UseShellExecute = false };
        psi.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Brine.Cli.dll"));
        foreach (var a in args) psi.ArgumentList.Add(a);
        if (workingDir is not null) psi.WorkingDirectory = workingDir;
        psi.Environment["DOTNET_TieredPGO"] = "0";
        using var p = Process.Start(psi)!;
        var so = p.StandardOutput.ReadToEndAsync();
        var se = p.StandardError.ReadToEndAsync();
        if (stdin is not null) p.StandardInput.BaseStream.Write(stdin);
        p.StandardInput.Close();
        if (!p.WaitForExit(120_000)) { p.Kill(true); throw new TimeoutException("brine timed out"); }
        return (p.ExitCode, so.Result, se.Result);
    }
}

public class CliTests
{
    [Fact]
    public void Help_lists_the_commands()
    {
        var (code, stdout, _) = BrineProcess.Run("--help");
        Assert.Equal(0, code);
        foreach (var c in new[] { "convert", "inspect", "formats" }) Assert.Contains(c, stdout);
    }

    [Fact]
    public void Unknown_command_is_a_usage_error()
    {
        var (code, _, stderr) = BrineProcess.Run("frobnicate");
        Assert.Equal(2, code);
        Assert.Contains("frobnicate", stderr);
    }

    [Fact]
    public void Missing_input_is_exit_2_with_one_line()
    {
        using var t = new TempDir();
        var (code, _, stderr) = BrineProcess.Run("convert", t.File("nope.json"), t.File("out.yaml"));
        Assert.Equal(2, code);
        Assert.Contains("not found", stderr);
        Assert.DoesNotContain("   at ", stderr);
        Assert.False(File.Exists(t.File("out.yaml")));
    }

    [Fact]
    public void Unknown_format_names_the_known_ones()
    {
        using var t = new TempDir();
        File.WriteAllText(t.File("a.json"), "{}");
        var (code, _, stderr) = BrineProcess.Run("convert", t.File("a.json"), t.File("b.out"), "--to", "nosuch");
        Assert.Equal(2, code);
        Assert.Contains("unknown format 'nosuch'", stderr);
        Assert.Contains("json", stderr);
    }

    [Fact]
    public void Bad_input_keeps_the_existing_output_file_and_leaves_no_temporary()
    {
        using var t = new TempDir();
        File.WriteAllText(t.File("bad.json"), "{\"a\": [1, 2,]}");
        File.WriteAllText(t.File("out.yaml"), "precious: true\n");
        var (code, _, stderr) = BrineProcess.Run("convert", t.File("bad.json"), t.File("out.yaml"));
        Assert.Equal(2, code);
        Assert.StartsWith("brine: json:", stderr);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.Equal("precious: true\n", File.ReadAllText(t.File("out.yaml")));
        Assert.Equal(new[] { "bad.json", "out.yaml" }, Directory.GetFiles(t.Path).Select(Path.GetFileName).Order().ToArray());
    }

    [Fact]
    public void Stdin_to_stdout_with_named_formats()
    {
        var (code, stdout, stderr) = BrineProcess.RunIn(null, "{\"b\": [1, 2.5, \"x\"]}"u8.ToArray(), "convert", "-", "-", "--from", "json", "--to", "yaml");
        Assert.True(code == 0, stderr);
        Assert.Contains("b:", stdout);
        Assert.Contains("2.5", stdout);
    }

    [Fact]
    public void Formats_table_lists_every_registered_format()
    {
        var (code, stdout, _) = BrineProcess.Run("formats", "--markdown");
        Assert.Equal(0, code);
        foreach (var f in Brine.Formats.FormatRegistry.Default.All) Assert.Contains($"`{f.Name}`", stdout);
    }
}
