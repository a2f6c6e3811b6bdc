namespace MailPipeline.Pipeline.Contracts;

/// <summary>TLS parameters negotiated for an SMTP session (STARTTLS).</summary>
/// <param name="Protocol">The protocol version, e.g. <c>TLSv1.3</c>.</param>
/// <param name="CipherSuite">The IANA cipher suite name, e.g. <c>TLS_AES_256_GCM_SHA384</c>.</param>
public sealed record EnvelopeTls(string Protocol, string CipherSuite);
