using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Dmarc.Reporting;

/// <summary>What may be done with one <c>rua</c> URI of a policy domain.</summary>
public enum DmarcDestinationStatus
{
    /// <summary>Send to <see cref="DmarcDestination.Address"/>.</summary>
    Allowed,

    /// <summary>Never send (not authorized, malformed, an override to another host): RFC 9990 §4 says ignore the URI.</summary>
    Refused,

    /// <summary>A DNS failure left it open: try again later.</summary>
    TemporaryFailure,
}

/// <summary>The outcome of checking a report destination.</summary>
/// <param name="Status">Allowed, refused or undecided.</param>
/// <param name="Address">The mailbox to send to (the authorization record's override when it gave one).</param>
/// <param name="Reason">Why, for the log and the record of what was sent.</param>
public sealed record DmarcDestination(DmarcDestinationStatus Status, string? Address, string Reason);

/// <summary>
/// RFC 9990 §4 "Verifying External Destinations": a <c>rua</c> URI whose host is in another Organizational Domain than
/// the policy domain's is used only when <c>&lt;policy-domain&gt;._report._dmarc.&lt;destination-host&gt;</c> has a TXT
/// record starting with <c>v=DMARC1</c>; a <c>rua</c> in that record replaces the destination if it names the same
/// host, and a record naming another host means no report to either.
/// </summary>
public sealed class DmarcReportDestinationVerifier
{
    private readonly IDnsResolver _dns;
    private readonly DmarcOptions _options;

    /// <summary>Creates the verifier.</summary>
    /// <param name="dns">The resolver.</param>
    /// <param name="options">DMARC options (how Organizational Domains are found).</param>
    public DmarcReportDestinationVerifier(IDnsResolver dns, DmarcOptions options)
    {
        ArgumentNullException.ThrowIfNull(dns);
        ArgumentNullException.ThrowIfNull(options);
        _dns = dns;
        _options = options;
    }

    /// <summary>Checks one recorded <c>rua</c> URI (size suffix allowed) of a policy domain.</summary>
    /// <param name="policyDomain">The DMARC Policy Domain (where the record was found).</param>
    /// <param name="rua">The URI, e.g. <c>mailto:dmarc@example.net!10m</c>.</param>
    /// <param name="cancellationToken">Cancels the lookups.</param>
    /// <returns>The destination.</returns>
    public async Task<DmarcDestination> VerifyAsync(string policyDomain, string rua, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(policyDomain);
        ArgumentNullException.ThrowIfNull(rua);
        if (!TryMailbox(DmarcAggregateReportBuilder.WithoutSizeLimit(rua), out string? address, out string? host))
        {
            return new DmarcDestination(DmarcDestinationStatus.Refused, null, $"\"{rua}\" is not a mailto: URI with one address");
        }

        var lookup = new DmarcPolicyLookup(_dns, _options);
        var (policyOrg, policyError) = await lookup.GetOrganizationalDomainAsync(policyDomain, cancellationToken).ConfigureAwait(false);
        var (hostOrg, hostError) = await lookup.GetOrganizationalDomainAsync(host, cancellationToken).ConfigureAwait(false);
        if (policyOrg is null || hostOrg is null)
        {
            return new DmarcDestination(DmarcDestinationStatus.TemporaryFailure, null, $"Organizational Domain undetermined: {policyError ?? hostError}");
        }

        if (string.Equals(policyOrg, hostOrg, StringComparison.Ordinal))
        {
            return new DmarcDestination(DmarcDestinationStatus.Allowed, address, $"{host} is in {policyDomain}'s Organizational Domain {policyOrg}");
        }

        string name = $"{policyDomain}._report._dmarc.{host}";
        if (name.Length > 253 || name.Split('.').Any(label => label.Length is 0 or > 63))
        {
            return new DmarcDestination(DmarcDestinationStatus.Refused, null, $"{name} exceeds DNS limits: the external destination cannot be verified");
        }

        var answer = await _dns.QueryAsync(name, DnsRecordType.Txt, cancellationToken).ConfigureAwait(false);
        if (answer.IsTransientError)
        {
            return new DmarcDestination(DmarcDestinationStatus.TemporaryFailure, null, $"{name}: {answer.Error ?? answer.Status.ToString()}");
        }

        var records = answer.RecordsOf<TxtRecord>().Select(r => DmarcRecord.Parse(r.Text)).Where(r => r is not null).ToList();
        if (records.Count == 0)
        {
            return new DmarcDestination(DmarcDestinationStatus.Refused, null, $"{host} is outside {policyDomain}'s organization and {name} has no v=DMARC1 record authorizing it");
        }

        var overrides = records.SelectMany(r => r!.AggregateReportUris).ToList();
        if (overrides.Count == 0)
        {
            return new DmarcDestination(DmarcDestinationStatus.Allowed, address, $"authorized by {name}");
        }

        foreach (var uri in overrides)
        {
            if (!TryMailbox(uri.Uri.OriginalString, out string? overrideAddress, out string? overrideHost) || !string.Equals(overrideHost, host, StringComparison.Ordinal))
            {
                return new DmarcDestination(DmarcDestinationStatus.Refused, null, $"{name} overrides the destination with {uri}, not at {host}: no report to either (RFC 9990 §4)");
            }

            address = overrideAddress;
        }

        return new DmarcDestination(DmarcDestinationStatus.Allowed, address, $"authorized by {name}, destination overridden to {address}");
    }

    /// <summary>The mailbox of a <c>mailto:</c> URI (one address, no query), its domain normalised to an A-label.</summary>
    /// <param name="uri">The URI.</param>
    /// <param name="address">The address.</param>
    /// <param name="host">Its domain.</param>
    /// <returns>True when the URI is usable.</returns>
    public static bool TryMailbox(string uri, out string? address, out string host)
    {
        address = null;
        host = string.Empty;
        if (!uri.StartsWith("mailto:", StringComparison.OrdinalIgnoreCase))
        {
            return false;
        }

        string mailbox = Uri.UnescapeDataString(uri["mailto:".Length..]);
        int query = mailbox.IndexOf('?', StringComparison.Ordinal);
        if (query >= 0)
        {
            mailbox = mailbox[..query];
        }

        int at = mailbox.LastIndexOf('@');
        if (at <= 0 || mailbox.Contains(',', StringComparison.Ordinal) || mailbox.Any(c => char.IsWhiteSpace(c) || char.IsControl(c) || c is '<' or '>')
            || !DomainNames.TryNormalize(mailbox[(at + 1)..], out string domain) || !domain.Contains('.', StringComparison.Ordinal))
        {
            return false;
        }

        host = domain;
        address = mailbox[..at] + "@" + domain;
        return true;
    }
}
