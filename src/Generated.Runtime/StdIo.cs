using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Llmaot.Runtime;

/// <summary>
/// Standard input, output and error of a generated executable as plain file streams on descriptors 0, 1 and 2.
/// System.Console is not used: its terminal handling (terminfo, key parsing, encodings) is about 50 KB of native code
/// that a model binary never needs.
/// </summary>
public static class StdIo
{
    /// <summary>An unbuffered stream on file descriptor <paramref name="fd"/> (not closed when disposed).</summary>
    public static Stream Open(int fd, FileAccess access) => new FileStream(new SafeFileHandle(fd, ownsHandle: false), access, 1);

    /// <summary>Writes <paramref name="line"/> and a newline to standard output as UTF-8.</summary>
    public static void Out(string line) => Write(1, line);

    /// <summary>Writes <paramref name="line"/> and a newline to standard error as UTF-8.</summary>
    public static void Err(string line) => Write(2, line);

    private static void Write(int fd, string line)
    {
        using var s = Open(fd, FileAccess.Write);
        s.Write(Encoding.UTF8.GetBytes(line + "\n"));
    }
}
