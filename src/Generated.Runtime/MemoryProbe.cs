using System.Runtime.CompilerServices;

namespace Llmaot.Runtime;

/// <summary>
/// Measures, in a generated executable, the memory one inference uses beyond the planned arena: the stack depth of Run
/// (a window below the caller's frame is poison-filled first; the deepest byte overwritten afterwards marks the peak) and the
/// process's peak resident set (VmHWM from /proc/self/status). Used by <c>NAME --mem</c> and <c>llmaot build --report</c>.
/// </summary>
public static unsafe class MemoryProbe
{
    /// <summary>Bytes of stack below the caller's frame that are watched (256 KiB; the main thread has 8 MiB). The probe itself
    /// makes these pages resident, so they are part of the peak RSS it reports.</summary>
    public const int StackWindow = 256 << 10;

    private const byte Poison = 0xA5;

    /// <summary>Fills the window below the caller's frame with the poison byte; returns its lowest address.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static nint PoisonStack()
    {
        byte* p = stackalloc byte[StackWindow];
        new Span<byte>(p, StackWindow).Fill(Poison);
        return (nint)p;
    }

    /// <summary>Bytes of the window written since <see cref="PoisonStack"/> returned <paramref name="low"/> (call from the same frame).</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static long StackUsed(nint low)
    {
        int first = new ReadOnlySpan<byte>((byte*)low, StackWindow).IndexOfAnyExcept(Poison);
        return first < 0 ? 0 : StackWindow - first;
    }

    /// <summary>Peak resident set size of this process in bytes (Linux VmHWM), or -1 where /proc is not available.</summary>
    public static long PeakRssBytes()
    {
        byte[] status;
        try { status = File.ReadAllBytes("/proc/self/status"); }
        catch (IOException) { return -1; }
        catch (UnauthorizedAccessException) { return -1; }
        // "VmHWM:\t    1234 kB": parsed as bytes, so no text decoding is compiled in.
        int i = status.AsSpan().IndexOf("VmHWM:"u8);
        if (i < 0) return -1;
        long kb = 0;
        for (i += 6; i < status.Length && status[i] != (byte)'\n'; i++)
            if (status[i] >= (byte)'0' && status[i] <= (byte)'9') kb = kb * 10 + (status[i] - (byte)'0');
        return kb * 1024;
    }
}
