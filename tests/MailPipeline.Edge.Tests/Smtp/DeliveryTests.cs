using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailKit.Net.Smtp;
using MailKit.Security;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.TestSupport;
using MimeKit;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class DeliveryTests
{
    private static MimeMessage Message(string to = "alice@ours.test", string subject = "hello", string body = "Hello.\r\n")
    {
        var message = new MimeMessage();
        message.From.Add(MailboxAddress.Parse("bob@sender.test"));
        message.To.Add(MailboxAddress.Parse(to));
        message.Subject = subject;
        message.Body = new TextPart("plain") { Text = body };
        return message;
    }

    [Fact(Timeout = 30000)]
    public async Task MailKit_PlainDelivery_RepliesQueuedAfterStoringAndPublishing()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);

        // act
        string reply = await client.SendAsync(Message());
        await client.DisconnectAsync(true);

        // assert
        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        string id = reply["2.0.0 Ok: queued as ".Length..].Trim();
        Assert.Equal([id], edge.StoredIds());
        var envelope = await edge.EnvelopeAsync(id);
        Assert.Equal("bob@sender.test", envelope.MailFrom);
        Assert.Equal(["alice@ours.test"], envelope.Recipients);
        Assert.Equal("127.0.0.1", envelope.ClientAddress);
        Assert.True(envelope.Esmtp);
        Assert.Null(envelope.Tls);
        Assert.Equal(id, Assert.Single(edge.Publisher.Published).MessageId);
        string stored = await edge.MessageTextAsync(id);
        Assert.Matches(@"^Received: from \S+ \(unknown \[127\.0\.0\.1\]\)\r\n\tby mx\.ours\.test \(MailPipeline\) with ESMTP id " + id + @"\r\n\tfor <alice@ours\.test>; \w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d \+0000\r\n", stored);
        Assert.Contains("Subject: hello\r\n", stored, StringComparison.Ordinal);
        Assert.Equal(System.Text.Encoding.UTF8.GetByteCount(stored), envelope.Size);
    }

    [Fact(Timeout = 60000)]
    public async Task Swaks_PlainDelivery_Succeeds()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();

        // act
        var (exitCode, output) = await ExternalProcess.RunAsync("swaks",
            ["--server", "127.0.0.1", "--port", edge.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--from", "bob@sender.test", "--to", "carol@ours.test", "--helo", "swaks.sender.test"],
            TimeSpan.FromSeconds(30));

        // assert
        Assert.True(exitCode == 0, output);
        Assert.Contains("<-  250 2.0.0 Ok: queued as ", output, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        Assert.Equal("swaks.sender.test", (await edge.EnvelopeAsync(id)).Helo);
    }

    [Fact(Timeout = 60000)]
    public async Task StartTls_WithPemCertificate_RecordsTlsInEnvelopeAndReceivedHeader()
    {
        // arrange
        string folder = Directory.CreateTempSubdirectory("edge-tls").FullName;
        string certPath = Path.Combine(folder, "cert.pem");
        string keyPath = Path.Combine(folder, "key.pem");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=mx.ours.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllTextAsync(certPath, cert.ExportCertificatePem());
            await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        }

        await using var edge = await TestEdge.StartAsync(o =>
        {
            o.TlsCertificatePath = certPath;
            o.TlsKeyPath = keyPath;
        });
        using var client = new SmtpClient { ServerCertificateValidationCallback = (_, _, _, _) => true };

        // act
        await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.StartTls);
        string reply = await client.SendAsync(Message());
        await client.DisconnectAsync(true);
        var (swaksExit, swaksOutput) = await ExternalProcess.RunAsync("swaks",
            ["--server", "127.0.0.1", "--port", edge.Port.ToString(System.Globalization.CultureInfo.InvariantCulture), "--tls", "--from", "bob@sender.test", "--to", "dave@ours.test"],
            TimeSpan.FromSeconds(30));

        // assert
        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        Assert.True(swaksExit == 0, swaksOutput);
        Assert.Equal(2, edge.StoredIds().Count);
        foreach (string id in edge.StoredIds())
        {
            var envelope = await edge.EnvelopeAsync(id);
            Assert.NotNull(envelope.Tls);
            Assert.Matches("^TLSv1\\.[23]$", envelope.Tls!.Protocol);
            Assert.StartsWith("TLS_", envelope.Tls.CipherSuite, StringComparison.Ordinal);
            string text = await edge.MessageTextAsync(id);
            Assert.Contains($"(using {envelope.Tls.Protocol} with cipher {envelope.Tls.CipherSuite})", text, StringComparison.Ordinal);
            Assert.Contains("with ESMTPS id " + id, text, StringComparison.Ordinal);
        }
    }

    [Fact(Timeout = 30000)]
    public async Task Ehlo_AdvertisesExtensions_WithoutChunkingOrStartTlsWithoutCertificate()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync(o => o.MaxMessageSize = 1_000_000);
        await using var client = await RawSmtpClient.ConnectAsync(edge.Endpoint);

        // act
        string greeting = await client.ReadReplyAsync();
        string ehlo = await client.CommandAsync("EHLO client.example");

        // assert
        Assert.Equal("220 mx.ours.test ESMTP MailPipeline", greeting);
        Assert.Equal("250-mx.ours.test Hello client.example\n250-PIPELINING\n250-SIZE 1000000\n250-8BITMIME\n250-SMTPUTF8\n250 ENHANCEDSTATUSCODES", ehlo);
    }

    [Fact(Timeout = 30000)]
    public async Task Pipelining_CommandGroupInOneWrite_RepliesInOrder()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        await client.SendAsync("MAIL FROM:<bob@sender.test>\r\nRCPT TO:<a@ours.test>\r\nRCPT TO:<x@elsewhere.test>\r\nRCPT TO:<b@ours.test>\r\nDATA\r\n");
        var replies = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            replies.Add(await client.ReadReplyAsync());
        }

        await client.SendAsync("Subject: pipelined\r\n\r\nbody\r\n.\r\nQUIT\r\n");
        string queued = await client.ReadReplyAsync();
        string bye = await client.ReadReplyAsync();

        // assert
        Assert.Equal(["250 2.1.0 Ok", "250 2.1.5 Ok", "550 5.7.1 Relay access denied", "250 2.1.5 Ok", "354 End data with <CR><LF>.<CR><LF>"], replies);
        Assert.StartsWith("250 2.0.0 Ok: queued as ", queued, StringComparison.Ordinal);
        Assert.StartsWith("221 2.0.0", bye, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal(["a@ours.test", "b@ours.test"], envelope.Recipients);
    }

    [Fact(Timeout = 30000)]
    public async Task SmtpUtf8And8BitMime_InternationalAddressesAndBody_AreAccepted()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        var message = Message("jöran@bücher.test", "grüße", "Grüße aus Köln — ünïcödé.\r\n");
        message.From.Clear();
        message.From.Add(MailboxAddress.Parse("José@sender.test"));
        using var client = new SmtpClient();
        await client.ConnectAsync("127.0.0.1", edge.Port, SecureSocketOptions.None);

        // act
        string reply = await client.SendAsync(FormatOptions.Default, message);
        await client.DisconnectAsync(true);

        // assert
        Assert.StartsWith("2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.True(envelope.SmtpUtf8);
        Assert.Equal("José@sender.test", envelope.MailFrom);
        Assert.Equal(["jöran@xn--bcher-kva.test"], envelope.Recipients); // SmtpServer keeps domains ASCII: the edge hands it A-labels
        Assert.Contains("with UTF8SMTP id", await edge.MessageTextAsync(envelope.MessageId), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task EightBitBody_WithBody8BitMime_IsStoredByteForByte()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        byte[] body = [.. "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"u8, .. "Grüße\r\n..leading dot"u8];

        // act
        Assert.Equal("250 2.1.0 Ok", await client.CommandAsync("MAIL FROM:<bob@sender.test> BODY=8BITMIME"));
        Assert.Equal("250 2.1.5 Ok", await client.CommandAsync("RCPT TO:<a@ours.test>"));
        await client.CommandAsync("DATA");
        await client.SendAsync([.. body, .. "\r\n.\r\n"u8]);
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("250 2.0.0 Ok: queued as ", reply, StringComparison.Ordinal);
        string id = Assert.Single(edge.StoredIds());
        Assert.Equal("8BITMIME", (await edge.EnvelopeAsync(id)).Body);
        byte[] stored;
        await using (var content = await edge.Store.OpenMessageAsync(id))
        {
            var copy = new MemoryStream();
            await content.CopyToAsync(copy);
            stored = copy.ToArray();
        }
        byte[] expected = [.. "Subject: 8bit\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Transfer-Encoding: 8bit\r\n\r\n"u8, .. "Grüße\r\n.leading dot\r\n"u8];
        Assert.EndsWith(Convert.ToHexString(expected), Convert.ToHexString(stored), StringComparison.Ordinal);
    }

    [Fact(Timeout = 30000)]
    public async Task ExistingAuthenticationResults_ClaimingOurAuthServId_AreRecordedInEnvelope()
    {
        // arrange
        await using var edge = await TestEdge.StartAsync();
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act
        await client.CommandAsync("MAIL FROM:<bob@sender.test>");
        await client.CommandAsync("RCPT TO:<a@ours.test>");
        await client.CommandAsync("DATA");
        await client.SendAsync("Authentication-Results: mx.ours.test;\r\n spf=pass smtp.mailfrom=sender.test\r\nAuthentication-Results: other.example; dkim=pass\r\nSubject: x\r\n\r\nbody\r\n.\r\n");
        string reply = await client.ReadReplyAsync();

        // assert
        Assert.StartsWith("250 ", reply, StringComparison.Ordinal);
        var envelope = await edge.EnvelopeAsync(Assert.Single(edge.StoredIds()));
        Assert.Equal(["mx.ours.test; spf=pass smtp.mailfrom=sender.test"], envelope.ExistingAuthenticationResults);
    }

    [Fact(Timeout = 30000)]
    public async Task StartTlsInjection_PlaintextPipelinedAfterStartTls_IsDiscarded()
    {
        // arrange
        string folder = Directory.CreateTempSubdirectory("edge-tls").FullName;
        string pfx = Path.Combine(folder, "cert.pfx");
        using (var key = RSA.Create(2048))
        {
            var request = new CertificateRequest("CN=mx.ours.test", key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
            using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
            await File.WriteAllBytesAsync(pfx, cert.Export(X509ContentType.Pfx, "secret"));
        }

        await using var edge = await TestEdge.StartAsync(o =>
        {
            o.TlsCertificatePath = pfx;
            o.TlsCertificatePassword = "secret";
        });
        await using var raw = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);

        // act: STARTTLS and an injected command in the same packet (CVE-2011-0411)
        await raw.SendAsync("STARTTLS\r\nMAIL FROM:<injected@evil.test>\r\n");
        string ready = await raw.ReadReplyAsync();

        await raw.UpgradeToTlsAsync();
        string ehlo = await raw.CommandAsync("EHLO client.example");
        string mail = await raw.CommandAsync("MAIL FROM:<bob@sender.test>");

        // assert: the injected command was never answered (an answer would have broken the TLS handshake or preceded EHLO's)
        Assert.Equal("220 2.0.0 Ready to start TLS", ready);
        Assert.StartsWith("250-mx.ours.test Hello client.example", ehlo, StringComparison.Ordinal);
        Assert.DoesNotContain("STARTTLS", ehlo, StringComparison.Ordinal);
        Assert.Equal("250 2.1.0 Ok", mail);
    }
}
