using System.Net;
using System.Text;

namespace MailPipeline.Core.Spf;

/// <summary>
/// The outcome of one SPF evaluation (RFC 7208 §2.6): the result, why, which mechanism decided it, and the
/// explanation for a fail; renders the <c>Received-SPF</c> header (§9.1) and the Authentication-Results entry.
/// </summary>
public sealed class SpfResult
{
    /// <summary>Creates a result.</summary>
    /// <param name="result">The SPF result (none, neutral, pass, fail, softfail, temperror, permerror).</param>
    /// <param name="identity">The identity checked.</param>
    /// <param name="clientIp">The SMTP client address (IPv4-mapped addresses already reduced to IPv4).</param>
    /// <param name="domain">The domain checked (the MAIL FROM or HELO domain), or null when there was none.</param>
    /// <param name="sender">The sender mailbox checked (<c>postmaster@domain</c> when there was no local-part).</param>
    /// <param name="helo">The HELO/EHLO name, if known.</param>
    /// <param name="reason">Why this result, in words (the problem, for errors).</param>
    /// <param name="mechanism">The term of the checked domain's record that matched, if any.</param>
    /// <param name="explanation">For a fail, the explanation (from <c>exp=</c> or the local default).</param>
    /// <param name="dnsLookups">DNS-querying terms evaluated.</param>
    /// <param name="voidLookups">Void lookups seen.</param>
    public SpfResult(
        AuthResult result,
        SpfIdentity identity,
        IPAddress clientIp,
        string? domain,
        string sender,
        string? helo,
        string reason,
        string? mechanism = null,
        string? explanation = null,
        int dnsLookups = 0,
        int voidLookups = 0)
    {
        ArgumentNullException.ThrowIfNull(clientIp);
        ArgumentNullException.ThrowIfNull(sender);
        ArgumentNullException.ThrowIfNull(reason);
        Result = result;
        Identity = identity;
        ClientIp = clientIp;
        Domain = domain;
        Sender = sender;
        Helo = helo;
        Reason = reason;
        Mechanism = mechanism;
        Explanation = explanation;
        DnsLookups = dnsLookups;
        VoidLookups = voidLookups;
    }

    /// <summary>The SPF result.</summary>
    public AuthResult Result { get; }

    /// <summary>The identity checked.</summary>
    public SpfIdentity Identity { get; }

    /// <summary>The SMTP client address as evaluated.</summary>
    public IPAddress ClientIp { get; }

    /// <summary>The domain whose policy was evaluated; null when the identity had no usable domain.</summary>
    public string? Domain { get; }

    /// <summary>The sender mailbox (<c>%{s}</c>).</summary>
    public string Sender { get; }

    /// <summary>The HELO/EHLO name, if known.</summary>
    public string? Helo { get; }

    /// <summary>Why: the matching mechanism, the default, or the error.</summary>
    public string Reason { get; }

    /// <summary>The term of the checked domain's record (after any <c>redirect=</c>) that matched; null for the default result and errors.</summary>
    public string? Mechanism { get; }

    /// <summary>For <see cref="AuthResult.Fail"/>, the explanation to give the client (RFC 7208 §6.2); otherwise null.</summary>
    public string? Explanation { get; }

    /// <summary>DNS-querying terms evaluated (limit: <see cref="SpfOptions.MaxDnsLookups"/>).</summary>
    public int DnsLookups { get; }

    /// <summary>Void lookups seen (limit: <see cref="SpfOptions.MaxVoidLookups"/>).</summary>
    public int VoidLookups { get; }

    /// <summary>The <c>spf</c> entry for Authentication-Results (RFC 8601 §2.7.2): <c>smtp.mailfrom</c> and/or <c>smtp.helo</c>.</summary>
    /// <returns>The method result.</returns>
    public AuthMethodResult ToAuthMethodResult()
    {
        var properties = new List<AuthResultProperty>(2);
        if (Identity == SpfIdentity.MailFrom)
        {
            properties.Add(new AuthResultProperty("smtp", "mailfrom", Sender));
        }

        if (!string.IsNullOrEmpty(Helo))
        {
            properties.Add(new AuthResultProperty("smtp", "helo", Helo));
        }

        var isError = Result is AuthResult.TempError or AuthResult.PermError;
        return new AuthMethodResult("spf", Result, isError ? Reason : null, properties, Describe(null));
    }

    /// <summary>The <c>Received-SPF</c> header field value (RFC 7208 §9.1), unfolded, without the field name.</summary>
    /// <param name="receiver">The name of the host that did the check (the <c>receiver=</c> key).</param>
    /// <returns>The field value.</returns>
    public string ToReceivedSpfHeaderValue(string receiver)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(receiver);
        var builder = new StringBuilder();
        builder.Append(Result.ToRfc8601()).Append(" (").Append(EscapeComment(Describe(receiver))).Append(')');
        AppendPair(builder, "client-ip", ClientIp.ToString());
        AppendPair(builder, "envelope-from", Sender);
        if (!string.IsNullOrEmpty(Helo))
        {
            AppendPair(builder, "helo", Helo);
        }

        AppendPair(builder, "receiver", receiver);
        AppendPair(builder, "identity", Identity == SpfIdentity.Helo ? "helo" : "mailfrom");
        if (Mechanism is not null)
        {
            AppendPair(builder, "mechanism", Mechanism);
        }

        if (Result is AuthResult.TempError or AuthResult.PermError)
        {
            AppendPair(builder, "problem", Reason);
        }

        return builder.ToString();
    }

    /// <summary>The whole <c>Received-SPF:</c> header field (RFC 7208 §9.1), unfolded and without the final CRLF.</summary>
    /// <param name="receiver">The name of the host that did the check.</param>
    /// <returns>The header field.</returns>
    public string ToReceivedSpfHeader(string receiver) => "Received-SPF: " + ToReceivedSpfHeaderValue(receiver);

    /// <inheritdoc />
    public override string ToString() => $"{Result.ToRfc8601()} ({Reason})";

    private string Describe(string? receiver)
    {
        var prefix = receiver is null ? string.Empty : receiver + ": ";
        var ip = ClientIp.ToString();
        var text = Result switch
        {
            AuthResult.Pass => $"domain of {Sender} designates {ip} as permitted sender",
            AuthResult.Fail => $"domain of {Sender} does not designate {ip} as permitted sender",
            AuthResult.SoftFail => $"domain of transitioning {Sender} does not designate {ip} as permitted sender",
            AuthResult.Neutral => $"{ip} is neither permitted nor denied by domain of {Sender}",
            AuthResult.None => Domain is null ? $"no domain to check for {Sender}" : $"domain of {Sender} does not designate permitted sender hosts",
            AuthResult.TempError => $"temporary error checking {Sender}: {Reason}",
            _ => $"permanent error in the SPF policy for {Sender}: {Reason}",
        };
        return prefix + text;
    }

    private static void AppendPair(StringBuilder builder, string key, string value)
    {
        builder.Append(' ').Append(key).Append('=');
        if (IsDotAtom(value))
        {
            builder.Append(value);
        }
        else
        {
            builder.Append('"');
            foreach (var c in Clean(value))
            {
                if (c is '"' or '\\')
                {
                    builder.Append('\\');
                }

                builder.Append(c);
            }

            builder.Append('"');
        }

        builder.Append(';');
    }

    /// <summary>RFC 5322 dot-atom: atext runs separated by single dots.</summary>
    private static bool IsDotAtom(string value)
    {
        if (value.Length == 0 || value[0] == '.' || value[^1] == '.' || value.Contains("..", StringComparison.Ordinal))
        {
            return false;
        }

        foreach (var c in value)
        {
            if (!(char.IsAsciiLetterOrDigit(c) || c == '.' || "!#$%&'*+-/=?^_`{|}~".Contains(c, StringComparison.Ordinal)))
            {
                return false;
            }
        }

        return true;
    }

    private static string EscapeComment(string text)
    {
        var builder = new StringBuilder(text.Length);
        foreach (var c in Clean(text))
        {
            if (c is '(' or ')' or '\\')
            {
                builder.Append('\\');
            }

            builder.Append(c);
        }

        return builder.ToString();
    }

    /// <summary>Header text must stay one printable line: control characters become '?'.</summary>
    private static string Clean(string text)
    {
        if (!text.Any(char.IsControl))
        {
            return text;
        }

        return string.Create(text.Length, text, static (span, source) =>
        {
            for (var k = 0; k < source.Length; k++)
            {
                span[k] = char.IsControl(source[k]) ? '?' : source[k];
            }
        });
    }
}
