using System.Text;
using MailPipeline.Delivery.Tests.Infrastructure;

namespace MailPipeline.Delivery.Tests.Smtp;

/// <summary>
/// TLS towards the next hop against a real STARTTLS server (aiosmtpd) with certificates from a test CA: a route that
/// requires TLS delivers only to a server whose certificate chains to a trusted CA and names the host; every other
/// case is deferred (kept, retried), never sent in clear. Opportunistic TLS takes any certificate and falls back to
/// cleartext when the handshake fails.
/// </summary>
[Trait("Category", "Integration")]
public sealed class NextHopClientTlsTests : IDisposable
{
    private static readonly byte[] Set = Encoding.ASCII.GetBytes("ARC-Seal: i=1; stand-in for our set\r\n");
    private static readonly byte[] Body = Encoding.ASCII.GetBytes("From: alice@origin.test\r\nTo: bob@inbound.test\r\nSubject: tls\r\nMessage-ID: <tls@origin.test>\r\n\r\nover TLS\r\n.dot line\r\n");
    private readonly NextHopServers _servers = new();
    private readonly TestCertificates _certificates;

    public NextHopClientTlsTests()
    {
        _certificates = new TestCertificates(_servers.Work);
    }

    public void Dispose()
    {
        _certificates.Dispose();
        _servers.Dispose();
    }

    [Fact(Timeout = 60_000)]
    public async Task RequiredTls_CertificateFromTrustedCa_DeliveredOverTlsByteForByte()
    {
        // arrange
        var (certificate, key) = _certificates.Issue("server", "127.0.0.1");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key);

        // act
        var result = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath);

        // assert
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(result.Outcomes).Status);
        Assert.NotNull(result.Tls);
        Assert.Equal("tls", await File.ReadAllTextAsync(Path.Combine(folder, "1.tls")));
        byte[] arrived = await File.ReadAllBytesAsync(Path.Combine(folder, "1.eml"));
        Assert.Equal([.. Set, .. Body], arrived);
    }

    [Fact(Timeout = 60_000)]
    public async Task RequiredTls_CertificateNotTrusted_DeferredAndNothingSent()
    {
        // arrange: the system trust store does not know the test CA
        var (certificate, key) = _certificates.Issue("server", "127.0.0.1");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key);

        // act
        var result = await SendAsync(port, TlsPolicy.Required, caCertificates: null);

        // assert
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.StartsWith("451 4.7.5 ", outcome.Reply, StringComparison.Ordinal);
        Assert.Contains("not trusted", outcome.Reply, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequiredTls_CertificateForAnotherHost_Deferred()
    {
        // arrange: a trusted CA, but the certificate names another host
        var (certificate, key) = _certificates.Issue("other", "mx.elsewhere.test");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key);

        // act
        var result = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath);

        // assert
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.Contains("does not name the host", outcome.Reply, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequiredTls_ServerWithoutStartTls_DeferredNotSentInClear()
    {
        // arrange
        var (port, folder) = await _servers.StartAiosmtpdAsync();

        // act
        var result = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath);

        // assert
        var outcome = Assert.Single(result.Outcomes);
        Assert.Equal(RecipientStatus.Deferred, outcome.Status);
        Assert.StartsWith("451 4.7.10 ", outcome.Reply, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 60_000)]
    public async Task OpportunisticTls_UntrustedCertificate_DeliveredEncrypted()
    {
        // arrange
        var (certificate, key) = _certificates.Issue("server", "mx.elsewhere.test");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key);

        // act
        var result = await SendAsync(port, TlsPolicy.Opportunistic, caCertificates: null);

        // assert
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(result.Outcomes).Status);
        Assert.Equal("tls", await File.ReadAllTextAsync(Path.Combine(folder, "1.tls")));
    }

    [Fact(Timeout = 60_000)]
    public async Task OpportunisticTls_HandshakeFails_FallsBackToCleartext()
    {
        // arrange: STARTTLS is offered and answered 220, then no TLS follows
        var (certificate, key) = _certificates.Issue("server", "127.0.0.1");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key, "--broken-starttls");

        // act
        var result = await SendAsync(port, TlsPolicy.Opportunistic, caCertificates: null);

        // assert
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(result.Outcomes).Status);
        Assert.Null(result.Tls);
        Assert.Equal("clear", await File.ReadAllTextAsync(Path.Combine(folder, "1.tls")));
    }

    [Fact(Timeout = 60_000)]
    public async Task RequiredTls_SubmissionRelayWithAuth_AuthenticatesAfterStartTls()
    {
        // arrange: a relay that takes mail only from an authenticated client (port 587 style)
        var (certificate, key) = _certificates.Issue("server", "127.0.0.1");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--tls-cert", certificate, "--tls-key", key, "--auth", "relay-user:s3cret");

        // act
        var wrong = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath, ("relay-user", "wrong"));
        var right = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath, ("relay-user", "s3cret"));

        // assert: a refused login defers (the credentials may be fixed); the right one delivers
        Assert.Equal(RecipientStatus.Deferred, Assert.Single(wrong.Outcomes).Status);
        Assert.StartsWith("451 4.7.8 ", wrong.Outcomes[0].Reply, StringComparison.Ordinal);
        Assert.DoesNotContain("s3cret", wrong.Outcomes[0].Reply, StringComparison.Ordinal);
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(right.Outcomes).Status);
        Assert.Single(Directory.GetFiles(folder, "*.eml"));
    }

    [Fact(Timeout = 60_000)]
    public async Task LmtpRequiredTls_TrustedCa_DeliveredOverTls()
    {
        // arrange
        var (certificate, key) = _certificates.Issue("server", "127.0.0.1");
        var (port, folder) = await _servers.StartAiosmtpdAsync("--lmtp", "--tls-cert", certificate, "--tls-key", key);

        // act
        var result = await SendAsync(port, TlsPolicy.Required, _certificates.CaPath, scheme: "lmtp");

        // assert
        Assert.Equal(RecipientStatus.Accepted, Assert.Single(result.Outcomes).Status);
        Assert.Equal("tls", await File.ReadAllTextAsync(Path.Combine(folder, "1.tls")));
    }

    private static async Task<TransactionResult> SendAsync(int port, TlsPolicy tls, string? caCertificates, (string User, string Password)? login = null, string scheme = "smtp")
    {
        var options = new DeliveryOptions { HeloName = "mx.inbound.test", CaCertificatesPath = caCertificates, ConnectTimeout = TimeSpan.FromSeconds(10), CommandTimeout = TimeSpan.FromSeconds(20) };
        var client = new NextHopClient(options, new NextHopResolver(null));
        var route = new DeliveryRoute(NextHop.Parse($"{scheme}://127.0.0.1:{port}"), tls, login?.User, login?.Password);
        var message = MessageBytes.Join(Set, Body);
        return await client.SendAsync(route, "alice@origin.test", ["bob@inbound.test"], message, MessageTraits.Of(message, smtpUtf8: false));
    }
}
