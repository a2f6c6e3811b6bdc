using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace MailPipeline.Delivery.Tests.Infrastructure;

/// <summary>A throw-away CA and server certificates it issues, written as PEM files for the next hops and for Delivery:CaCertificatesPath.</summary>
public sealed class TestCertificates : IDisposable
{
    private readonly RSA _caKey = RSA.Create(2048);
    private readonly X509Certificate2 _ca;
    private readonly string _folder;

    /// <summary>Creates the CA in <paramref name="folder"/> (ca.pem).</summary>
    public TestCertificates(string folder)
    {
        _folder = folder;
        var request = new CertificateRequest("CN=MailPipeline test CA", _caKey, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(true, false, 0, true));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.KeyCertSign | X509KeyUsageFlags.CrlSign, true));
        request.CertificateExtensions.Add(new X509SubjectKeyIdentifierExtension(request.PublicKey, false));
        _ca = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddDays(-1), DateTimeOffset.UtcNow.AddDays(2));
        CaPath = Path.Combine(folder, "ca.pem");
        File.WriteAllText(CaPath, _ca.ExportCertificatePem());
    }

    /// <summary>The CA certificate (PEM).</summary>
    public string CaPath { get; }

    /// <summary>Issues a server certificate for the given names (DNS names, or IP addresses) and writes NAME.pem and NAME.key.</summary>
    /// <returns>The certificate and key files.</returns>
    public (string Certificate, string Key) Issue(string fileName, params string[] names)
    {
        using var key = RSA.Create(2048);
        var request = new CertificateRequest("CN=" + names[0], key, HashAlgorithmName.SHA256, RSASignaturePadding.Pkcs1);
        var san = new SubjectAlternativeNameBuilder();
        foreach (string name in names)
        {
            if (IPAddress.TryParse(name, out var address))
            {
                san.AddIpAddress(address);
            }
            else
            {
                san.AddDnsName(name);
            }
        }

        request.CertificateExtensions.Add(san.Build());
        request.CertificateExtensions.Add(new X509BasicConstraintsExtension(false, false, 0, false));
        request.CertificateExtensions.Add(new X509KeyUsageExtension(X509KeyUsageFlags.DigitalSignature | X509KeyUsageFlags.KeyEncipherment, true));
        request.CertificateExtensions.Add(new X509EnhancedKeyUsageExtension([new Oid("1.3.6.1.5.5.7.3.1")], false));
        request.CertificateExtensions.Add(X509AuthorityKeyIdentifierExtension.CreateFromCertificate(_ca, true, false));
        byte[] serial = RandomNumberGenerator.GetBytes(12);
        serial[0] &= 0x7F;
        using var certificate = request.Create(_ca, DateTimeOffset.UtcNow.AddHours(-1), DateTimeOffset.UtcNow.AddDays(1), serial);
        string certificatePath = Path.Combine(_folder, fileName + ".pem");
        string keyPath = Path.Combine(_folder, fileName + ".key");
        File.WriteAllText(certificatePath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificatePath, keyPath);
    }

    /// <inheritdoc />
    public void Dispose()
    {
        _ca.Dispose();
        _caKey.Dispose();
    }
}
