using Llmaot.Runtime;

namespace Llmaot.Tests.Runtime;

/// <summary>
/// Opening a weights file beside a binary: a large one is read into huge-page memory (Linux), a small one or any one with
/// <see cref="WeightBlob.PreferMapping"/> is memory-mapped; either way the bytes are the file's, and a wrong length or a
/// missing file is a coded error.
/// </summary>
public unsafe class WeightBlobTests
{
    private static string WriteFile(long bytes)
    {
        string path = Path.Combine(Path.GetTempPath(), $"llmaot-weights-{Guid.NewGuid():N}.weights");
        var data = new byte[bytes];
        new Random(7).NextBytes(data);
        File.WriteAllBytes(path, data);
        return path;
    }

    private static void AssertSameBytes(string path, WeightBlob blob)
    {
        byte[] expected = File.ReadAllBytes(path);
        Assert.Equal(expected.LongLength, blob.Length);
        Assert.True(new ReadOnlySpan<byte>(blob.Pointer, expected.Length).SequenceEqual(expected), "the weights differ from the file's bytes");
    }

    [Fact]
    public void A_large_file_is_read_into_huge_page_memory_or_mapped_on_request()
    {
        string path = WriteFile((6L << 20) + 12345);
        try
        {
            using (var blob = WeightBlob.OpenFile(path, new FileInfo(path).Length))
            {
                Assert.Equal(OperatingSystem.IsLinux(), blob.InLargePages);
                if (blob.InLargePages) Assert.Equal(0, (long)blob.Pointer % LargePages.Size);
                AssertSameBytes(path, blob);
            }
            WeightBlob.PreferMapping = true;
            try
            {
                using var mapped = WeightBlob.OpenFile(path, new FileInfo(path).Length);
                Assert.False(mapped.InLargePages);
                AssertSameBytes(path, mapped);
            }
            finally
            {
                WeightBlob.PreferMapping = false;
            }
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_small_file_is_mapped()
    {
        string path = WriteFile(100_000);
        try
        {
            using var blob = WeightBlob.OpenFile(path, 100_000);
            Assert.False(blob.InLargePages);
            AssertSameBytes(path, blob);
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Fact]
    public void A_wrong_length_or_a_missing_file_is_a_coded_error()
    {
        string path = WriteFile(5L << 20);
        try
        {
            var e = Assert.Throws<InvalidDataException>(() => WeightBlob.OpenFile(path, (5L << 20) + 1));
            Assert.Contains("LLMAOT9004", e.Message);
        }
        finally
        {
            File.Delete(path);
        }
        var missing = Assert.Throws<FileNotFoundException>(() => WeightBlob.OpenFile(path, 1));
        Assert.Contains("LLMAOT9003", missing.Message);
    }
}
