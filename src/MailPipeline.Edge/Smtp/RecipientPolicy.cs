using System.Globalization;

namespace MailPipeline.Edge;

/// <summary>The outcome of <see cref="RecipientPolicy.Evaluate"/>.</summary>
internal enum RecipientDecision
{
    Accept,

    /// <summary>Not one of our domains, or a routing trick in the local part: 550 5.7.1.</summary>
    RelayDenied,

    /// <summary>Our domain, but the address is not on its list: 550 5.1.1.</summary>
    UnknownUser,
}

/// <summary>
/// Decides whether a recipient is ours. No open relay under any trick: the domain must equal an accepted
/// domain after IDN and case normalisation (no trailing dot, no address literal), and the local part must
/// not carry routing that a downstream MTA might honour: the %-hack (<c>user%evil@ours</c>), bang paths
/// (<c>evil!user@ours</c>) or an embedded <c>@</c> (quoted <c>"user@evil"@ours</c>). Source routes are
/// stripped by the parser (RFC 5321 Appendix C), so only their final mailbox is judged.
/// </summary>
internal sealed class RecipientPolicy
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };
    private readonly HashSet<string> _domains = new(StringComparer.Ordinal);
    private readonly Dictionary<string, HashSet<string>> _addresses = new(StringComparer.Ordinal);

    public RecipientPolicy(EdgeOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (string domain in options.AcceptedDomains)
        {
            _domains.Add(NormalizeDomain(domain) ?? throw new ArgumentException($"'{domain}' is not a domain name.", nameof(options)));
        }

        foreach ((string domain, IList<string> addresses) in options.AcceptedRecipients)
        {
            string key = NormalizeDomain(domain) ?? throw new ArgumentException($"'{domain}' is not a domain name.", nameof(options));
            var set = new HashSet<string>(StringComparer.OrdinalIgnoreCase);
            foreach (string address in addresses)
            {
                int at = address.LastIndexOf('@');
                set.Add(at >= 0 ? address[..at] : address);
            }

            _addresses[key] = set;
        }
    }

    public RecipientDecision Evaluate(string? localPart, string? domain)
    {
        string? normalized = NormalizeDomain(domain);
        if (normalized is null || !_domains.Contains(normalized) || !IsPlainLocalPart(localPart))
        {
            return RecipientDecision.RelayDenied;
        }

        if (_addresses.TryGetValue(normalized, out var allowed) && !allowed.Contains(localPart!))
        {
            return RecipientDecision.UnknownUser;
        }

        return RecipientDecision.Accept;
    }

    /// <summary>Lower-case A-label form of a domain name, or null for a trailing dot, address literal or invalid name.</summary>
    public static string? NormalizeDomain(string? domain)
    {
        if (string.IsNullOrEmpty(domain) || domain.EndsWith('.') || domain.StartsWith('[') || domain.Contains("..", StringComparison.Ordinal))
        {
            return null;
        }

        try
        {
            return Idn.GetAscii(domain).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    private static bool IsPlainLocalPart(string? localPart)
    {
        if (string.IsNullOrEmpty(localPart) || localPart.Length > 64 * 4)
        {
            return false;
        }

        foreach (char c in localPart)
        {
            if (c is '%' or '!' or '@' or '"' or '\\' || char.IsControl(c))
            {
                return false;
            }
        }

        return true;
    }
}
