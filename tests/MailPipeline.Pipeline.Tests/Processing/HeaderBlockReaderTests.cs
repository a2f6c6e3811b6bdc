using System.Text;
using MailPipeline.Pipeline.Processing;

namespace MailPipeline.Pipeline.Tests.Processing;

public sealed class HeaderBlockReaderTests
{
    /// <summary>A stream that fails if read past a limit, to prove the body is not read.</summary>
    private sealed class LimitedStream(byte[] data, int limit) : MemoryStream(data)
    {
        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
        {
            Assert.True(Position < limit, "read past the header block");
            return base.ReadAsync(buffer[..Math.Min(buffer.Length, 7)], cancellationToken);
        }
    }

    [Theory]
    [InlineData("From: a@b\r\nTo: c@d\r\n\r\nbody\r\n", "From: a@b\r\nTo: c@d\r\n\r\n")]
    [InlineData("From: a@b\nTo: c@d\n\nbody\n", "From: a@b\nTo: c@d\n\n")]
    [InlineData("From: a@b\r\n", "From: a@b\r\n")]
    [InlineData("\r\nbody", "\r\n")]
    public async Task Read_Message_ReturnsTheHeaderBlockOnly(string message, string expected)
    {
        // arrange
        byte[] bytes = Encoding.ASCII.GetBytes(message);

        // act
        byte[] header = await HeaderBlockReader.ReadAsync(new LimitedStream(bytes, expected.Length + 7));

        // assert
        Assert.Equal(expected, Encoding.ASCII.GetString(header));
    }

    [Fact(Timeout = 30_000)]
    public async Task Read_HugeBody_StopsSoonAfterTheBlankLine()
    {
        // arrange
        byte[] bytes = Encoding.ASCII.GetBytes("Subject: x\r\n\r\n" + new string('b', 1_000_000));

        // act
        byte[] header = await HeaderBlockReader.ReadAsync(new LimitedStream(bytes, 64));

        // assert
        Assert.Equal("Subject: x\r\n\r\n", Encoding.ASCII.GetString(header));
    }
}
