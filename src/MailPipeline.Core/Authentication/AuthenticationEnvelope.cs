using System.Net;

namespace MailPipeline.Core.Authentication;

/// <summary>What the SMTP session told us about a message: the inputs of SPF, reputation and iprev.</summary>
/// <param name="ClientIp">The connecting client's address.</param>
/// <param name="Helo">The HELO/EHLO name, if any.</param>
/// <param name="MailFrom">The MAIL FROM address; null or empty for the null reverse-path.</param>
/// <param name="Recipients">The RCPT TO addresses.</param>
public sealed record AuthenticationEnvelope(IPAddress ClientIp, string? Helo, string? MailFrom, IReadOnlyList<string> Recipients)
{
    /// <summary>The domain of MAIL FROM, or null for the null reverse-path or an address without a domain.</summary>
    public string? MailFromDomain
    {
        get
        {
            var at = MailFrom?.LastIndexOf('@') ?? -1;
            return at < 0 || at == MailFrom!.Length - 1 ? null : MailFrom[(at + 1)..];
        }
    }
}
