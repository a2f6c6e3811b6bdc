using System.Buffers;
using System.Text;

namespace MailPipeline.Edge.Tests.Smtp;

public sealed class MessageInspectionTests
{
    private static ReadOnlySequence<byte> Bytes(string text) => new(Encoding.UTF8.GetBytes(text));

    [Theory]
    [InlineData("a\r\nb\r\n", false)]
    [InlineData("a\nb", true)]
    [InlineData("a\rb", true)]
    [InlineData("a\r", true)]
    [InlineData("a\r\r\nb", true)]
    [InlineData("", false)]
    public void Inspect_LineEndings_FlagsBareCrOrLf(string data, bool bare)
    {
        // act
        var inspection = MessageInspection.Inspect(Bytes(data), "mx.ours.test");

        // assert
        Assert.Equal(bare, inspection.HasBareLineEnding);
    }

    [Fact]
    public void Inspect_MultiSegmentData_FindsBareCrAcrossTheBoundary()
    {
        // arrange: CR at the end of one segment, 'x' at the start of the next
        var first = new Segment(Encoding.ASCII.GetBytes("abc\r"));
        var last = first.Append(Encoding.ASCII.GetBytes("x\r\n"));
        var data = new ReadOnlySequence<byte>(first, 0, last, 3);

        // act
        var inspection = MessageInspection.Inspect(data, "mx.ours.test");

        // assert
        Assert.True(inspection.HasBareLineEnding);
    }

    [Fact]
    public void Inspect_Headers_CountsReceivedAndRecordsOnlyOurAuthenticationResults()
    {
        // arrange
        string message = "Received: from a\r\n\tby b; date\r\nReceived: from c by d; date\r\n" +
            "Authentication-Results: (forged) MX.ours.test;\r\n dmarc=pass\r\nauthentication-results: mx.ours.test.evil; spf=pass\r\n" +
            "Subject: x\r\n\r\nAuthentication-Results: mx.ours.test; in the body\r\n";

        // act
        var inspection = MessageInspection.Inspect(Bytes(message), "mx.ours.test");

        // assert
        Assert.Equal(2, inspection.ReceivedHeaders);
        Assert.Equal(["(forged) MX.ours.test; dmarc=pass"], inspection.ForgedAuthenticationResults);
    }

    [Fact]
    public void Inspect_LongestLine_ExcludesLineEnding()
    {
        // act
        var inspection = MessageInspection.Inspect(Bytes("abc\r\n" + new string('x', 998) + "\r\nz"), "mx.ours.test");

        // assert
        Assert.Equal(998, inspection.LongestLine);
    }

    [Fact]
    public void NormalizeLineEndings_BareCrAndLf_BecomeCrLf()
    {
        // act
        byte[] normalized = MessageInspection.NormalizeLineEndings(Bytes("a\nb\rc\r\nd\r"));

        // assert
        Assert.Equal("a\r\nb\r\nc\r\nd\r\n", Encoding.ASCII.GetString(normalized));
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(byte[] bytes) => Memory = bytes;

        public Segment Append(byte[] bytes)
        {
            var next = new Segment(bytes) { RunningIndex = RunningIndex + Memory.Length };
            Next = next;
            return next;
        }
    }
}
