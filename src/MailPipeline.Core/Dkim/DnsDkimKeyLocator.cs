using MailPipeline.Core.Dns;

namespace MailPipeline.Core.Dkim;

/// <summary>
/// Finds DKIM keys through the shared DNS layer: a TXT query for <c>selector._domainkey.domain</c>.
/// DNS answers are cached by the resolver (give it a <see cref="CachingDnsResolver"/>); parsed keys are
/// cached process-wide by record text, because building an RSA key validates its modulus, which costs far more
/// than the signature check itself. Timeouts and server failures map to <see cref="DkimKeyStatus.TempError"/>,
/// NXDOMAIN/NODATA to <see cref="DkimKeyStatus.NotFound"/>.
/// </summary>
public sealed class DnsDkimKeyLocator : IDkimKeyLocator
{
    private const int MaxParsedKeys = 10_000;
    private static readonly System.Globalization.IdnMapping Idn = new() { UseStd3AsciiRules = false };
    private readonly IDnsResolver _resolver;

    // Process-wide: parsing is a pure function of the record text, and checkers (with their locators) are created per
    // message or stage on top of a per-message DNS budget, so a per-instance cache would make every message pay the
    // RSA key validation (tens of milliseconds) again.
    private static readonly System.Collections.Concurrent.ConcurrentDictionary<string, DkimKeyLookupResult> Parsed = new(StringComparer.Ordinal);

    /// <summary>Creates a locator.</summary>
    /// <param name="resolver">The resolver (normally the shared caching resolver).</param>
    public DnsDkimKeyLocator(IDnsResolver resolver)
    {
        ArgumentNullException.ThrowIfNull(resolver);
        _resolver = resolver;
    }

    /// <inheritdoc />
    public async Task<DkimKeyLookupResult> LocateAsync(string domain, string selector, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(domain);
        ArgumentNullException.ThrowIfNull(selector);
        var name = $"{selector}._domainkey.{domain.TrimEnd('.')}";
        if (!name.All(char.IsAscii))
        {
            // RFC 8616: d= and s= may be U-labels; DNS wants A-labels.
            try
            {
                name = Idn.GetAscii(name);
            }
            catch (ArgumentException)
            {
                return DkimKeyLookupResult.Malformed($"invalid key name {name}");
            }
        }
        if (!IsValidDnsName(name))
        {
            return DkimKeyLookupResult.Malformed($"invalid key name {name}");
        }

        var answer = await _resolver.QueryAsync(name, DnsRecordType.Txt, cancellationToken).ConfigureAwait(false);
        if (answer.Status == DnsStatus.NameError || answer.IsEmpty)
        {
            return new DkimKeyLookupResult(DkimKeyStatus.NotFound, null, $"no key record at {name}");
        }

        if (answer.IsTransientError)
        {
            return new DkimKeyLookupResult(DkimKeyStatus.TempError, null, $"key lookup for {name}: {answer.Error ?? answer.Status.ToString()}");
        }

        var records = answer.RecordsOf<TxtRecord>().ToList();
        if (records.Count == 0)
        {
            return new DkimKeyLookupResult(DkimKeyStatus.NotFound, null, $"no key record at {name}");
        }

        // RFC 6376 §3.6.2.2: with several records the outcome is undefined; take the first usable one.
        DkimKeyLookupResult? first = null;
        foreach (var record in records)
        {
            var parsed = Parse(record.Text);
            if (parsed.Status is DkimKeyStatus.Found or DkimKeyStatus.Revoked)
            {
                return parsed;
            }

            first ??= parsed;
        }

        return first!;
    }

    private DkimKeyLookupResult Parse(string text)
    {
        if (Parsed.TryGetValue(text, out var cached))
        {
            return cached;
        }

        var parsed = DkimPublicKey.Parse(text);
        if (Parsed.Count >= MaxParsedKeys)
        {
            Parsed.Clear(); // crude but bounded: keys are re-parsed after a flood of distinct records
        }

        Parsed[text] = parsed;
        return parsed;
    }

    /// <summary>Whether <paramref name="name"/> can be sent as a DNS query name (labels 1–63 octets, 253 in all).</summary>
    internal static bool IsValidDnsName(string name)
    {
        if (name.Length is 0 or > 253)
        {
            return false;
        }

        foreach (var label in name.Split('.'))
        {
            if (label.Length is 0 or > 63)
            {
                return false;
            }

            foreach (var c in label)
            {
                if (c <= ' ' || c >= 0x7F || c is ';' or '\\' or '"' or '(' or ')' or '@')
                {
                    return false;
                }
            }
        }

        return true;
    }
}
