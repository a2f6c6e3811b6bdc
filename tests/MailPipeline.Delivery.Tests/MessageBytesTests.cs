using System.Text;

namespace MailPipeline.Delivery.Tests;

public sealed class MessageBytesTests
{
    [Fact]
    public void Join_PiecesInOrderWithoutEmptyOnes()
    {
        // act
        var joined = MessageBytes.Join("ab"u8.ToArray(), ReadOnlyMemory<byte>.Empty, "cd\r\n"u8.ToArray());

        // assert
        Assert.Equal("abcd\r\n", Encoding.ASCII.GetString(System.Buffers.BuffersExtensions.ToArray(joined)));
        Assert.True(MessageBytes.EndsWithCrlf(joined));
        Assert.False(MessageBytes.EndsWithCrlf(MessageBytes.Join("abc\r"u8.ToArray(), "x"u8.ToArray())));
        Assert.True(MessageBytes.EndsWithCrlf(MessageBytes.Join("abc\r"u8.ToArray(), "\n"u8.ToArray())));
        Assert.True(MessageBytes.Join().IsEmpty);
    }

    [Fact]
    public void AsStream_ReadsAndSeeksAcrossPieces()
    {
        // arrange
        using var stream = MessageBytes.AsStream(MessageBytes.Join("Header: 1\r\n"u8.ToArray(), "\r\nbody\r\n"u8.ToArray()));

        // act
        using var reader = new StreamReader(stream, Encoding.ASCII);
        string all = reader.ReadToEnd();
        stream.Position = 9;
        int b = stream.ReadByte();

        // assert
        Assert.Equal("Header: 1\r\n\r\nbody\r\n", all);
        Assert.True(stream.CanSeek);
        Assert.Equal((byte)'\r', b);
    }
}
