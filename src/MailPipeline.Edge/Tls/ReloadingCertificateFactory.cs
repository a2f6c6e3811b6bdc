using System.Security.Cryptography.X509Certificates;
using Microsoft.Extensions.Logging;
using SmtpServer;

namespace MailPipeline.Edge;

/// <summary>
/// STARTTLS certificate from a PEM (certificate + key) or PFX file, reloaded when a file's timestamp or
/// size changes (checked at most every few seconds), so a renewed certificate (certbot, Key Vault sync)
/// is used without a restart. A file that fails to load keeps the previous certificate.
/// </summary>
internal sealed class ReloadingCertificateFactory : ICertificateFactory
{
    private static readonly TimeSpan CheckInterval = TimeSpan.FromSeconds(5);
    private readonly EdgeOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly Lock _gate = new();
    private X509Certificate2? _certificate;
    private string _stamp = string.Empty;
    private DateTimeOffset _checkedAt = DateTimeOffset.MinValue;

    public ReloadingCertificateFactory(EdgeOptions options, TimeProvider time, ILogger logger)
    {
        _options = options;
        _time = time;
        _logger = logger;
        _certificate = Load() ?? throw new InvalidOperationException($"The TLS certificate '{options.TlsCertificatePath}' could not be loaded.");
    }

    public X509Certificate GetServerCertificate(ISessionContext sessionContext)
    {
        lock (_gate)
        {
            DateTimeOffset now = _time.GetUtcNow();
            if (now - _checkedAt >= CheckInterval)
            {
                _checkedAt = now;
                if (Stamp() != _stamp)
                {
                    _certificate = Load() ?? _certificate;
                }
            }

            return _certificate!;
        }
    }

    private string Stamp()
    {
        var cert = new FileInfo(_options.TlsCertificatePath!);
        var key = _options.TlsKeyPath is null ? null : new FileInfo(_options.TlsKeyPath);
        return $"{cert.LastWriteTimeUtc.Ticks}:{cert.Length}:{key?.LastWriteTimeUtc.Ticks}:{key?.Length}";
    }

    private X509Certificate2? Load()
    {
        string path = _options.TlsCertificatePath!;
        try
        {
            string stamp = Stamp();
            X509Certificate2 certificate;
            if (path.EndsWith(".pfx", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".p12", StringComparison.OrdinalIgnoreCase))
            {
                certificate = X509CertificateLoader.LoadPkcs12FromFile(path, _options.TlsCertificatePassword);
            }
            else
            {
                var pem = X509Certificate2.CreateFromPemFile(path, _options.TlsKeyPath);
                if (OperatingSystem.IsWindows())
                {
                    using (pem)
                    {
                        certificate = X509CertificateLoader.LoadPkcs12(pem.Export(X509ContentType.Pkcs12), null); // SChannel needs a persisted key
                    }
                }
                else
                {
                    certificate = pem;
                }
            }

            if (!certificate.HasPrivateKey)
            {
                throw new InvalidOperationException("The certificate has no private key.");
            }

            _stamp = stamp;
            Log.CertificateLoaded(_logger, path, certificate.Subject, certificate.NotAfter);
            return certificate;
        }
        catch (Exception ex) when (ex is IOException or System.Security.Cryptography.CryptographicException or InvalidOperationException or UnauthorizedAccessException)
        {
            Log.CertificateReloadFailed(_logger, ex, path);
            return null;
        }
    }
}
