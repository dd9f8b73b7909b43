using System.Runtime.CompilerServices;

namespace Llmaot.Tests.TestSupport;

/// <summary>
/// A small snapshot helper with Verify-style file names: <c>Snapshots/{Class}.{Method}.verified.{ext}</c> is the approved
/// text; on a mismatch the new text is written as <c>.received.{ext}</c> beside it and the test fails. To approve a
/// change, review the diff and move the received file over the verified one. A missing verified file fails too.
/// </summary>
public static class Snapshot
{
    public static void Match(string actual, string ext = "txt", [CallerFilePath] string callerFile = "", [CallerMemberName] string method = "", string? name = null)
    {
        string dir = Path.Combine(Path.GetDirectoryName(callerFile)!, "Snapshots");
        string cls = Path.GetFileNameWithoutExtension(callerFile);
        string stem = Path.Combine(dir, $"{cls}.{name ?? method}");
        string verified = stem + ".verified." + ext, received = stem + ".received." + ext;
        actual = actual.Replace("\r\n", "\n");
        if (File.Exists(verified) && File.ReadAllText(verified).Replace("\r\n", "\n") == actual)
        {
            if (File.Exists(received)) File.Delete(received);
            return;
        }
        Directory.CreateDirectory(dir);
        File.WriteAllText(received, actual);
        Assert.Fail(File.Exists(verified)
            ? $"snapshot differs: compare {received} with {verified}; if the change is intended, move the received file over the verified one"
            : $"no approved snapshot yet: review {received} and rename it to {Path.GetFileName(verified)}");
    }
}
