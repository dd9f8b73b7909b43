using System.Diagnostics;

namespace Llmaot.Tests.TestSupport;

/// <summary>Runs a child process (a built binary, qemu, dotnet, a script) with its output captured and a time limit.</summary>
public static class Proc
{
    /// <summary>
    /// Runs <paramref name="file"/> with <paramref name="args"/> in <paramref name="workDir"/> (null: the current folder),
    /// writes <paramref name="stdin"/> to its input then closes it (when given), and returns its exit code and outputs. A
    /// process still running after <paramref name="timeout"/> is killed and reported as a <see cref="TimeoutException"/>.
    /// </summary>
    public static (int Code, string Out, string Err) Run(string file, string? workDir, TimeSpan timeout, IEnumerable<string> args,
        string? stdin = null, params (string Key, string Value)[] env)
    {
        var psi = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, RedirectStandardInput = stdin != null };
        if (workDir != null) psi.WorkingDirectory = workDir;
        foreach (var a in args) psi.ArgumentList.Add(a);
        foreach (var (k, v) in env) psi.Environment[k] = v;
        using var p = Process.Start(psi)!;
        var o = p.StandardOutput.ReadToEndAsync();
        var e = p.StandardError.ReadToEndAsync();
        if (stdin != null)
        {
            p.StandardInput.Write(stdin);
            p.StandardInput.Close(); // EOF
        }
        if (!p.WaitForExit(timeout)) { p.Kill(true); throw new TimeoutException($"{file} {string.Join(" ", args)} did not finish within {timeout}"); }
        return (p.ExitCode, o.Result, e.Result);
    }

    /// <summary>The environment that keeps the dotnet CLI quiet in child builds.</summary>
    public static readonly (string Key, string Value)[] QuietDotnet = [("DOTNET_CLI_TELEMETRY_OPTOUT", "1"), ("DOTNET_NOLOGO", "1")];
}
