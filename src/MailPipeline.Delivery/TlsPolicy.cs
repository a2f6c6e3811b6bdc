namespace MailPipeline.Delivery;

/// <summary>How a route uses TLS towards its next hop.</summary>
public enum TlsPolicy
{
    /// <summary>STARTTLS when the next hop offers it, without certificate checks (RFC 7435 opportunistic security, Postfix <c>may</c>); cleartext otherwise.</summary>
    Opportunistic,

    /// <summary>TLS required and the certificate validated against the system's trust store and the host name (Postfix <c>secure</c>); otherwise the attempt is deferred.</summary>
    Required,

    /// <summary>Never TLS (a local LMTP socket, a loopback relay).</summary>
    None,
}
