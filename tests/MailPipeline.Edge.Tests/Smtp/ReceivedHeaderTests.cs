using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class ReceivedHeaderTests
{
    private static async Task<string> SendAsync(TestEdge edge)
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("bob@sender.test"));
        message.To.Add(MailboxAddress.Parse("alice@ours.test"));
        message.To.Add(MailboxAddress.Parse("carol@ours.test"));
        message.Body = new TextPart("plain") { Text = "x" };
        using var client = new SmtpClient { LocalDomain = "client.sender.test" };
        await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);
        await client.SendAsync(message);
        await client.DisconnectAsync(true);
        return await edge.MessageTextAsync(Assert.Single(edge.StoredIds()));
    }

    [Fact(Timeout = 30000)]
    public async Task Received_ForwardConfirmedReverseDns_NamesTheClientAndOmitsForWithTwoRecipients()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddPtr("1.0.0.127.in-addr.arpa", "relay.sender.test.")
            .AddAddress("relay.sender.test", "127.0.0.1");
        await using var edge = await TestEdge.StartAsync(dns: dns);

        // act
        string text = await SendAsync(edge);

        // assert
        Assert.StartsWith("Received: from client.sender.test (relay.sender.test [127.0.0.1])\r\n\tby mx.ours.test (MailPipeline) with ESMTP id ", text, StringComparison.Ordinal);
        Assert.DoesNotContain("\tfor <", text.Split("\r\n\r\n")[0], StringComparison.Ordinal);
        Assert.Equal("relay.sender.test", (await edge.EnvelopeAsync(edge.StoredIds()[0])).ClientHostName);
    }

    [Fact(Timeout = 30000)]
    public async Task Received_PtrNotConfirmedByForwardLookup_SaysUnknown()
    {
        // arrange
        var dns = new InMemoryDnsResolver()
            .AddPtr("1.0.0.127.in-addr.arpa", "forged.bank.test.")
            .AddAddress("forged.bank.test", "192.0.2.77");
        await using var edge = await TestEdge.StartAsync(dns: dns);

        // act
        string text = await SendAsync(edge);

        // assert
        Assert.StartsWith("Received: from client.sender.test (unknown [127.0.0.1])", text, StringComparison.Ordinal);
        Assert.Null((await edge.EnvelopeAsync(edge.StoredIds()[0])).ClientHostName);
    }
}
