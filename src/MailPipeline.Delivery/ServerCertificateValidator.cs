using System.Net.Security;
using System.Security.Cryptography.X509Certificates;

namespace MailPipeline.Delivery;

/// <summary>
/// Checks a next hop's certificate under a route's TLS policy. <see cref="TlsPolicy.Required"/>: the certificate must
/// name the host we connected to and chain to the system's trust store or to one of the extra CA certificates
/// (<see cref="DeliveryOptions.CaCertificatesPath"/>, like Postfix's <c>smtp_tls_CAfile</c>: a private relay with an
/// internal CA). Revocation is not checked (Postfix does not either; a CRL fetch failing would stall delivery).
/// <see cref="TlsPolicy.Opportunistic"/> accepts any certificate (RFC 7435).
/// </summary>
internal sealed class ServerCertificateValidator
{
    private readonly X509Certificate2Collection _extraRoots;

    /// <summary>Creates the validator.</summary>
    /// <param name="caCertificatesPath">A PEM file of extra trust anchors, or null.</param>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file holds no certificate.</exception>
    public ServerCertificateValidator(string? caCertificatesPath) =>
        _extraRoots = string.IsNullOrWhiteSpace(caCertificatesPath) ? [] : LoadRoots(caCertificatesPath);

    /// <summary>Reads a PEM file of CA certificates.</summary>
    /// <param name="path">The file.</param>
    /// <returns>The certificates (at least one).</returns>
    /// <exception cref="FileNotFoundException">The file does not exist.</exception>
    /// <exception cref="FormatException">The file holds no certificate.</exception>
    public static X509Certificate2Collection LoadRoots(string path)
    {
        if (!File.Exists(path))
        {
            throw new FileNotFoundException($"Delivery:CaCertificatesPath: {path} does not exist.", path);
        }

        var roots = new X509Certificate2Collection();
        try
        {
            roots.ImportFromPemFile(path);
        }
        catch (System.Security.Cryptography.CryptographicException ex)
        {
            throw new FormatException($"Delivery:CaCertificatesPath: {path} is not a PEM file of certificates: {ex.Message}", ex);
        }

        return roots.Count > 0 ? roots : throw new FormatException($"Delivery:CaCertificatesPath: {path} holds no certificate.");
    }

    /// <summary>A validation callback for one connection; <paramref name="problem"/> receives why a certificate was refused.</summary>
    /// <param name="policy">The route's policy.</param>
    /// <param name="problem">Called with the reason when the certificate is refused.</param>
    /// <returns>The callback.</returns>
    public RemoteCertificateValidationCallback For(TlsPolicy policy, Action<string> problem) =>
        policy == TlsPolicy.Required
            ? (_, certificate, chain, errors) => Validate(certificate, chain, errors, problem)
            : (_, _, _, _) => true;

    private bool Validate(X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors, Action<string> problem)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (certificate is null || errors.HasFlag(SslPolicyErrors.RemoteCertificateNotAvailable))
        {
            problem("the server sent no certificate");
            return false;
        }

        if (errors.HasFlag(SslPolicyErrors.RemoteCertificateNameMismatch))
        {
            problem($"the certificate ({certificate.Subject}) does not name the host");
            return false;
        }

        // Only chain errors are left: try again with the extra trust anchors.
        if (_extraRoots.Count > 0)
        {
            using var custom = new X509Chain();
            custom.ChainPolicy.TrustMode = X509ChainTrustMode.CustomRootTrust;
            custom.ChainPolicy.CustomTrustStore.AddRange(_extraRoots);
            custom.ChainPolicy.RevocationMode = X509RevocationMode.NoCheck;
            if (chain is not null)
            {
                foreach (var element in chain.ChainElements.Skip(1))
                {
                    custom.ChainPolicy.ExtraStore.Add(element.Certificate);
                }
            }

            using var leaf = new X509Certificate2(certificate);
            if (custom.Build(leaf))
            {
                return true;
            }

            problem($"the certificate ({certificate.Subject}) is not trusted: {Describe(custom)}");
            return false;
        }

        problem($"the certificate ({certificate.Subject}) is not trusted: {(chain is null ? "no chain" : Describe(chain))}");
        return false;
    }

    private static string Describe(X509Chain chain)
    {
        var reasons = chain.ChainStatus.Select(s => s.StatusInformation.Trim()).Where(s => s.Length > 0).Distinct().ToList();
        return reasons.Count == 0 ? "chain not valid" : string.Join("; ", reasons);
    }
}
