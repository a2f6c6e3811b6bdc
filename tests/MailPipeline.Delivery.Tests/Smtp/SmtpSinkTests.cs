using System.Text;
using MailPipeline.Delivery.Tests.Infrastructure;

namespace MailPipeline.Delivery.Tests.Smtp;

/// <summary>
/// <see cref="NextHopClient"/> against Postfix's smtp-sink (SMTP and LMTP): per-recipient and per-transaction replies
/// become the right outcome (accepted, deferred on 4xx, rejected on 5xx, deferred when the connection drops), and
/// what arrives is the message as we hold it.
/// </summary>
[Trait("Category", "Integration")]
public sealed class SmtpSinkTests : IDisposable
{
    private static readonly byte[] Message = Encoding.ASCII.GetBytes("From: alice@origin.test\r\nTo: bob@inbound.test, carol@inbound.test\r\nSubject: sink\r\nMessage-ID: <sink@origin.test>\r\n\r\nHello sink.\r\n..two dots\r\n");
    private readonly NextHopServers _servers = new();

    public void Dispose() => _servers.Dispose();

    [Fact(Timeout = 60_000)]
    public async Task Smtp_BothRecipientsAccepted_OneTransactionWithTheMessage()
    {
        // arrange
        var sink = await _servers.StartSmtpSinkAsync();

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Accepted, o.Status));
        Assert.NotNull(result.AcceptedAt);
        string dump = Assert.Single(await sink.WaitForDumpsAsync(1));
        Assert.Contains("X-Rcpt-Args: <bob@inbound.test>", dump, StringComparison.Ordinal);
        Assert.Contains("X-Rcpt-Args: <carol@inbound.test>", dump, StringComparison.Ordinal);
        Assert.Contains("X-Helo-Args: mx.inbound.test", dump, StringComparison.Ordinal);
        Assert.Contains(Encoding.ASCII.GetString(Message).Replace("\r\n", "\n", StringComparison.Ordinal), dump, StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Smtp_RcptSoftRefused_EveryRecipientDeferredWithTheReply()
    {
        // arrange
        var sink = await _servers.StartSmtpSinkAsync("-r", "RCPT");

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Deferred, o.Status));
        Assert.All(result.Outcomes, o => Assert.StartsWith("4", o.Reply, StringComparison.Ordinal));
        Assert.True(result.Reached);
        Assert.Null(result.AcceptedAt);
        Assert.Empty(sink.Dumps);
    }

    [Fact(Timeout = 60_000)]
    public async Task Smtp_DataHardRefused_EveryRecipientRejected()
    {
        // arrange
        var sink = await _servers.StartSmtpSinkAsync("-f", "DATA");

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Rejected, o.Status));
        Assert.All(result.Outcomes, o => Assert.StartsWith("5", o.Reply, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Smtp_DisconnectAfterFinalDot_DeferredNeverAccepted()
    {
        // arrange: the connection drops where the final reply should be (RFC 1047): at-least-once, so deferred
        var sink = await _servers.StartSmtpSinkAsync("-q", ".");

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Deferred, o.Status));
        Assert.Null(result.AcceptedAt);
    }

    [Fact(Timeout = 60_000)]
    public async Task Smtp_ServiceNotAvailableAtMail_Deferred()
    {
        // arrange
        var sink = await _servers.StartSmtpSinkAsync("-Q", "MAIL");

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Deferred, o.Status));
    }

    [Fact(Timeout = 60_000)]
    public async Task Smtp_NothingListening_UnreachedAndDeferred()
    {
        // arrange
        int port = TestSupport.FreePort.Next();

        // act
        var result = await SendAsync($"smtp://127.0.0.1:{port}");

        // assert
        Assert.False(result.Reached);
        Assert.All(result.Outcomes, o => Assert.StartsWith("451 4.4.1 connect to", o.Reply, StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Lmtp_SmtpSinkInLmtpMode_OneReplyPerRecipient()
    {
        // arrange
        var sink = await _servers.StartSmtpSinkAsync("-L");

        // act
        var result = await SendAsync($"lmtp://127.0.0.1:{sink.Port}");

        // assert
        Assert.Equal(2, result.Outcomes.Count);
        Assert.All(result.Outcomes, o => Assert.Equal(RecipientStatus.Accepted, o.Status));
        Assert.Contains("X-Client-Proto: LMTP", Assert.Single(await sink.WaitForDumpsAsync(1)), StringComparison.Ordinal);
    }

    private static async Task<TransactionResult> SendAsync(string nextHop)
    {
        var options = new DeliveryOptions { HeloName = "mx.inbound.test", ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(20) };
        var client = new NextHopClient(options, new NextHopResolver(null));
        return await client.SendAsync(new DeliveryRoute(NextHop.Parse(nextHop), TlsPolicy.Opportunistic), "alice@origin.test", ["bob@inbound.test", "carol@inbound.test"], Message, MessageTraits.Of(Message, smtpUtf8: false));
    }
}
