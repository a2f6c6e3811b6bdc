using MailPipeline.Edge.Tests.Infrastructure;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class RelayTests
{
    [Theory(Timeout = 30000)]
    [InlineData("<victim@elsewhere.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim@ELSEWHERE.TEST>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim%elsewhere.test@ours.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<elsewhere.test!victim@ours.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<\"victim@elsewhere.test\"@ours.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<\"victim%elsewhere.test\"@ours.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<@ours.test:victim@elsewhere.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<@ours.test,@mx.ours.test:victim@elsewhere.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim@ours.test.elsewhere.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim@sub.ours.test>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim@[127.0.0.1]>", "550 5.7.1 Relay access denied")]
    [InlineData("<victim@elsewhere.test.>", "501 5.1.3 Bad recipient address syntax")]
    [InlineData("<victim@ours.test.>", "501 5.1.3 Bad recipient address syntax")]
    public async Task Rcpt_RelayTrick_IsRefusedAndNothingIsAccepted(string path, string expectedReply)
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<spammer@evil.test>");

        // act
        string reply = await client.CommandAsync("RCPT TO:" + path);
        string data = await client.CommandAsync("DATA");

        // assert
        Assert.StartsWith(expectedReply, reply, StringComparison.Ordinal);
        Assert.StartsWith("503 5.5.1 ", data, StringComparison.Ordinal); // no valid recipient: DATA out of sequence
        Assert.Empty(edge.StoredIds());
        Assert.Empty(edge.Publisher.Published);
    }

    [Theory(Timeout = 30000)]
    [InlineData("<alice@OURS.TEST>", "alice@OURS.TEST")]
    [InlineData("<@elsewhere.test:alice@ours.test>", "alice@ours.test")]
    [InlineData("<\"alice smith\"@ours.test>", "alice smith@ours.test")]
    public async Task Rcpt_OurDomainInAnyLegalForm_IsAccepted(string path, string recorded)
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // act
        string reply = await client.CommandAsync("RCPT TO:" + path);
        await client.CommandAsync("DATA");
        await client.SendAsync("Subject: x\r\n\r\nx\r\n.\r\n");
        string queued = await client.ReadReplyAsync();

        // assert
        Assert.Equal("250 2.1.5 Ok", reply);
        Assert.StartsWith("250 2.0.0 Ok: queued as", queued, StringComparison.Ordinal);
        Assert.Equal([recorded], (await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()))).Recipients);
    }

    [Fact(Timeout = 30000)]
    public async Task Rcpt_DomainWithAddressList_RefusesUnlistedUser()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.AcceptedRecipients["ours.test"] = ["alice@ours.test"]);
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");

        // act
        string alice = await client.CommandAsync("RCPT TO:<Alice@ours.test>");
        string mallory = await client.CommandAsync("RCPT TO:<mallory@ours.test>");

        // assert
        Assert.Equal("250 2.1.5 Ok", alice);
        Assert.Equal("550 5.1.1 Recipient address rejected: user unknown", mallory);
    }

    [Fact(Timeout = 30000)]
    public async Task Commands_OutOfSequence_AreRefusedWithEnhancedCodes()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAsync(edge.Endpoint);
        await client.ReadReplyAsync();

        // act
        string mailBeforeHelo = await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("EHLO client.example");
        string rcptBeforeMail = await client.CommandAsync("RCPT TO:<alice@ours.test>");
        string garbage = await client.CommandAsync("FOO bar");
        string badSyntax = await client.CommandAsync("MAIL FROM:bob");
        string unknownParameter = await client.CommandAsync("MAIL FROM:<bob@sender.test> XFORWARD=1");

        // assert
        Assert.StartsWith("503 5.5.1 ", mailBeforeHelo, StringComparison.Ordinal);
        Assert.StartsWith("503 5.5.1 ", rcptBeforeMail, StringComparison.Ordinal);
        Assert.StartsWith("502 5.5.1 ", garbage, StringComparison.Ordinal);
        Assert.StartsWith("501 5.1.7 ", badSyntax, StringComparison.Ordinal);
        Assert.Equal("555 5.5.4 Unsupported MAIL FROM parameter XFORWARD", unknownParameter);
    }
}
