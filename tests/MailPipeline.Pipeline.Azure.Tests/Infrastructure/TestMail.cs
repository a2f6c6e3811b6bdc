using System.Text;
using Azure.Storage.Blobs;
using MailPipeline.Core.Authentication;
using MailPipeline.Pipeline.Azure.Blobs;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.TestSupport;

namespace MailPipeline.Pipeline.Azure.Tests.Infrastructure;

/// <summary>Messages, envelopes, DNS and a fresh set of containers for one test.</summary>
internal static class TestMail
{
    private static readonly MessageIdGenerator Ids = new();

    public static string NewId() => Ids.NextId();

    /// <summary>A storage accessor on containers with a unique prefix, created on first use.</summary>
    public static PipelineBlobStorage Storage(AzuriteFixture azurite)
    {
        string prefix = "t" + Guid.NewGuid().ToString("N")[..10];
        var names = new PipelineContainerNames(prefix + "-raw", prefix + "-results", prefix + "-verdicts", prefix + "-deliver", prefix + "-quarantine");
        return new PipelineBlobStorage(new BlobServiceClient(azurite.ConnectionString), names, createContainers: true);
    }

    public static byte[] Message(string from = "alice@example.com", string subject = "Hello") => Encoding.ASCII.GetBytes(
        "Received: from mx.example.com (mx.example.com [192.0.2.10]) by mx.test.example; Mon, 30 Nov 2026 00:00:00 +0000\r\n" +
        $"From: Alice <{from}>\r\n" +
        "To: bob@test.example\r\n" +
        $"Subject: {subject}\r\n" +
        "Message-ID: <1@example.com>\r\n" +
        "Date: Mon, 30 Nov 2026 00:00:00 +0000\r\n" +
        "\r\n" +
        "Hi Bob.\r\n");

    public static MailEnvelope Envelope(string id, string rawReference, string client = "192.0.2.10", string mailFrom = "alice@example.com", long size = 0) => new()
    {
        MessageId = id,
        RawMessageReference = rawReference,
        ClientAddress = client,
        Helo = "mx.example.com",
        MailFrom = mailFrom,
        Recipients = ["bob@test.example"],
        Size = size,
        ReceivedAt = DateTimeOffset.UtcNow,
        ReceivedBy = "mx.test.example",
    };

    /// <summary>example.com: SPF allows 192.0.2.10, DMARC p=reject.</summary>
    public static InMemoryDnsResolver Dns() => new InMemoryDnsResolver()
        .AddTxt("example.com", "v=spf1 ip4:192.0.2.10 -all")
        .AddTxt("_dmarc.example.com", "v=DMARC1; p=reject");

    public static MessageAuthenticator Authenticator(InMemoryDnsResolver dns)
    {
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = "mx.test.example";
        return new MessageAuthenticator(dns, options);
    }

    /// <summary>A stream that hands out its bytes in small reads and cannot seek, like an SMTP DATA stream.</summary>
    public sealed class ForwardOnlyStream(Stream inner, int maxRead = 64 * 1024) : Stream
    {
        public long BytesRead { get; private set; }

        public Action<long>? OnRead { get; init; }

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Flush() => throw new NotSupportedException();

        public override int Read(byte[] buffer, int offset, int count) => Count(inner.Read(buffer, offset, Math.Min(count, maxRead)));

        public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) =>
            Count(await inner.ReadAsync(buffer[..Math.Min(buffer.Length, maxRead)], cancellationToken));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        private int Count(int n)
        {
            BytesRead += n;
            OnRead?.Invoke(BytesRead);
            return n;
        }
    }
}
