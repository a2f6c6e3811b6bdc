using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using MailPipeline.Edge.Tests.Infrastructure;
using MailPipeline.TestSupport;

namespace MailPipeline.Edge.Tests.Smtp;

[Trait("Category", "Integration")]
public sealed class CertificateReloadTests
{
    private static async Task WritePemAsync(string certPath, string keyPath, string subject)
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest(subject, key, HashAlgorithmName.SHA256);
        using var cert = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(30));
        await File.WriteAllTextAsync(keyPath, key.ExportPkcs8PrivateKeyPem());
        await File.WriteAllTextAsync(certPath, cert.ExportCertificatePem() + "\n" + new string('#', subject.Length)); // size differs per subject
    }

    private static async Task<string?> StartTlsSubjectAsync(TestEdge edge)
    {
        await using var client = await RawSmtpClient.ConnectAndEhloAsync(edge.Endpoint);
        Assert.Equal("220 2.0.0 Ready to start TLS", await client.CommandAsync("STARTTLS"));
        await client.UpgradeToTlsAsync();
        return client.ServerCertificateSubject;
    }

    [Fact(Timeout = 30000)]
    public async Task StartTls_CertificateFileReplaced_NewSessionsGetTheNewCertificate()
    {
        // arrange
        string folder = Directory.CreateTempSubdirectory("edge-tls").FullName;
        string certPath = Path.Combine(folder, "cert.pem");
        string keyPath = Path.Combine(folder, "key.pem");
        await WritePemAsync(certPath, keyPath, "CN=old.ours.test");
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var edge = await TestEdge.StartAsync(o =>
        {
            o.TlsCertificatePath = certPath;
            o.TlsKeyPath = keyPath;
        }, time: time);
        string? before = await StartTlsSubjectAsync(edge);

        // act: renew the certificate on disk (as certbot would) and let the check interval pass
        await WritePemAsync(certPath, keyPath, "CN=renewed.ours.test");
        time.Advance(TimeSpan.FromSeconds(10));
        string? after = await StartTlsSubjectAsync(edge);

        // assert
        Assert.Equal("CN=old.ours.test", before);
        Assert.Equal("CN=renewed.ours.test", after);
    }

    [Fact(Timeout = 30000)]
    public async Task StartTls_ReplacementFileIsBroken_KeepsThePreviousCertificate()
    {
        // arrange
        string folder = Directory.CreateTempSubdirectory("edge-tls").FullName;
        string certPath = Path.Combine(folder, "cert.pem");
        string keyPath = Path.Combine(folder, "key.pem");
        await WritePemAsync(certPath, keyPath, "CN=old.ours.test");
        var time = new ManualTimeProvider(DateTimeOffset.UtcNow);
        await using var edge = await TestEdge.StartAsync(o =>
        {
            o.TlsCertificatePath = certPath;
            o.TlsKeyPath = keyPath;
        }, time: time);

        // act: a half-written certificate file
        await File.WriteAllTextAsync(certPath, "-----BEGIN CERTIFICATE-----\nMIIB\n");
        time.Advance(TimeSpan.FromSeconds(10));
        string? subject = await StartTlsSubjectAsync(edge);

        // assert
        Assert.Equal("CN=old.ours.test", subject);
    }
}
