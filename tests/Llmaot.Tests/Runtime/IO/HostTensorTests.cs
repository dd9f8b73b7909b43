using Llmaot.Runtime;
using Llmaot.Runtime.IO;
using Llmaot.Tests.TestSupport;

namespace Llmaot.Tests.Runtime.IO;

public class HostTensorTests
{
    [Theory]
    [InlineData(ElementType.Float, new long[] { 2, 3 })]
    [InlineData(ElementType.Int64, new long[] { 5 })]
    [InlineData(ElementType.UInt8, new long[] { 1, 1, 4 })]
    [InlineData(ElementType.Float, new long[0])]
    public void Npy_round_trips(ElementType t, long[] shape)
    {
        long n = shape.Aggregate(1L, (a, b) => a * b);
        var data = new byte[ElementTypes.ByteCount(t, n)];
        new Random(1).NextBytes(data);
        string p = Path.Combine(SharedData.TempDir("npy"), "t.npy");
        new HostTensor(t, shape, data).WriteNpy(p);
        var back = HostTensor.ReadFile(p);
        Assert.Equal(t, back.Type);
        Assert.Equal(shape, back.Shape);
        Assert.Equal(data, back.Data);
        Assert.Equal(0, (10 + BitConverter.ToUInt16(File.ReadAllBytes(p), 8)) % 64);
    }

    [Fact]
    public void Reads_onnx_test_data_pb()
    {
        var t = HostTensor.ReadFile(SharedData.File("onnx-node-tests/node/test_add/test_data_set_0/input_0.pb"));
        Assert.Equal(ElementType.Float, t.Type);
        Assert.Equal(new long[] { 3, 4, 5 }, t.Shape);
        Assert.Equal(60 * 4, t.Data.Length);
    }

    [Fact]
    public void Safe_file_names()
    {
        Assert.Equal("a_b.c-d_", HostTensor.SafeFileName("a/b.c-d:"));
        Assert.Equal("Plus214_Output_0", HostTensor.SafeFileName("Plus214_Output_0"));
    }

    [Fact]
    public void Truncated_pb_is_a_format_error()
    {
        var bytes = File.ReadAllBytes(SharedData.File("onnx-node-tests/node/test_add/test_data_set_0/input_0.pb"));
        Assert.ThrowsAny<Exception>(() => HostTensor.ReadPb(bytes[..(bytes.Length / 2)]));
        Assert.Throws<ProtoFormatException>(() => TensorProto.Parse(bytes.AsSpan(0, bytes.Length / 2)).ToBytes(bytes));
    }
}

public class ProtoReaderTests
{
    [Fact]
    public void Reads_varints_and_length_delimited_fields_with_offsets()
    {
        // field 1 varint 300; field 2 bytes "hi"
        byte[] b = [0x08, 0xAC, 0x02, 0x12, 0x02, (byte)'h', (byte)'i'];
        var r = new ProtoReader(b);
        Assert.True(r.Next(out int f1));
        Assert.Equal(1, f1);
        Assert.Equal(300UL, r.Varint());
        Assert.True(r.Next(out int f2));
        Assert.Equal(2, f2);
        var (off, len) = r.Bytes();
        Assert.Equal(5, off);
        Assert.Equal(2, len);
        Assert.False(r.Next(out _));
    }

    [Fact]
    public void Truncation_and_bad_lengths_throw()
    {
        Assert.Throws<ProtoFormatException>(() => { var r = new ProtoReader(new byte[] { 0x08, 0xAC }); r.Next(out _); r.Varint(); });
        Assert.Throws<ProtoFormatException>(() => { var r = new ProtoReader(new byte[] { 0x12, 0x05, 1 }); r.Next(out _); r.Bytes(); });
        Assert.Throws<ProtoFormatException>(() => { var r = new ProtoReader(new byte[] { 0x0F }); r.Next(out _); r.Skip(); });
        Assert.Throws<ProtoFormatException>(() => { var r = new ProtoReader(new byte[] { 0x08, 0x01 }); r.Next(out _); r.Bytes(); });
    }
}
