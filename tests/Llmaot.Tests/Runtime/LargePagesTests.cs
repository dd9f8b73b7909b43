using Llmaot.Runtime;

namespace Llmaot.Tests.Runtime;

/// <summary>The huge-page blocks behind large weights files and arenas.</summary>
public unsafe class LargePagesTests
{
    [Fact]
    public void A_large_block_is_2_MiB_aligned_advised_on_Linux_and_usable()
    {
        long bytes = 9L << 20;
        byte* p = LargePages.Alloc(bytes, out bool advised);
        try
        {
            Assert.Equal(0, (long)p % LargePages.Size);
            Assert.Equal(OperatingSystem.IsLinux(), advised);
            var span = new Span<byte>(p, (int)bytes);
            for (int i = 0; i < span.Length; i += 4096) span[i] = (byte)(i >> 12);
            for (int i = 0; i < span.Length; i += 4096) Assert.Equal((byte)(i >> 12), span[i]);
        }
        finally
        {
            System.Runtime.InteropServices.NativeMemory.AlignedFree(p);
        }
    }

    [Fact]
    public void A_block_below_the_minimum_is_not_advised()
    {
        byte* p = LargePages.Alloc(LargePages.MinBytes - 1, out bool advised);
        System.Runtime.InteropServices.NativeMemory.AlignedFree(p);
        Assert.False(advised);
    }
}
