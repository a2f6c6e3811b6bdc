using System.Globalization;
using System.Text;
using System.Reflection;

namespace MailPipeline.Core.Dmarc;

/// <summary>
/// The Public Suffix List (https://publicsuffix.org/list/) with its standard algorithm: the longest
/// matching rule wins, wildcard rules (<c>*.ck</c>) match one label, exception rules (<c>!www.ck</c>)
/// beat both, and an unlisted TLD is a suffix (the implicit <c>*</c> rule). The list embedded in this
/// assembly is <c>public_suffix_list.dat</c> (MPL-2.0, publicsuffix/list @e8c9a2b2); see
/// <c>Dmarc/PublicSuffixList.README.md</c> for the update procedure. Only used when
/// <see cref="DmarcOptions.OrganizationalDomainSource"/> asks for it: RFC 9989 replaced the list by the DNS tree walk.
/// </summary>
public sealed class PublicSuffixList
{
    private const string ResourceName = "MailPipeline.Core.Dmarc.public_suffix_list.dat";
    private static readonly Lazy<PublicSuffixList> EmbeddedList = new(LoadEmbedded);
    private readonly HashSet<string> _rules = new(StringComparer.Ordinal);
    private readonly HashSet<string> _wildcards = new(StringComparer.Ordinal);
    private readonly HashSet<string> _exceptions = new(StringComparer.Ordinal);

    /// <summary>Loads a list from its text.</summary>
    /// <param name="listText">The <c>.dat</c> text.</param>
    /// <param name="includePrivateDomains">Whether to use the rules after <c>===BEGIN PRIVATE DOMAINS===</c> (e.g. <c>blogspot.com</c>).</param>
    public PublicSuffixList(string listText, bool includePrivateDomains = true)
    {
        ArgumentNullException.ThrowIfNull(listText);
        var idn = new IdnMapping();
        using var reader = new StringReader(listText);
        while (reader.ReadLine() is { } line)
        {
            if (line.Contains("===BEGIN PRIVATE DOMAINS===", StringComparison.Ordinal) && !includePrivateDomains)
            {
                break;
            }

            var rule = line.Trim();
            var space = rule.IndexOfAny([' ', '\t']);
            if (space >= 0)
            {
                rule = rule[..space];
            }

            if (rule.Length == 0 || rule.StartsWith("//", StringComparison.Ordinal))
            {
                continue;
            }

            var set = _rules;
            if (rule.StartsWith('!'))
            {
                set = _exceptions;
                rule = rule[1..];
            }
            else if (rule.StartsWith("*.", StringComparison.Ordinal))
            {
                set = _wildcards;
                rule = rule[2..];
            }

            set.Add(Ascii.IsValid(rule) ? rule.ToLowerInvariant() : idn.GetAscii(rule).ToLowerInvariant());
        }

        RuleCount = _rules.Count + _wildcards.Count + _exceptions.Count;
    }

    /// <summary>The list embedded in this assembly, ICANN and private sections.</summary>
    public static PublicSuffixList Embedded => EmbeddedList.Value;

    /// <summary>The number of rules loaded.</summary>
    public int RuleCount { get; }

    /// <summary>The public suffix of a normalised (A-label, lowercase) domain.</summary>
    /// <param name="domain">The domain.</param>
    /// <returns>The suffix; the TLD when no rule matches.</returns>
    public string GetPublicSuffix(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);

        // Walk from the longest candidate to the shortest; the first hit is the longest match.
        var candidate = domain;
        while (true)
        {
            if (_exceptions.Contains(candidate))
            {
                // An exception rule: the suffix is the rule minus its left-most label.
                return DomainNames.Parent(candidate) ?? candidate;
            }

            if (_rules.Contains(candidate))
            {
                return candidate;
            }

            var parent = DomainNames.Parent(candidate);
            if (parent is not null && _wildcards.Contains(parent))
            {
                return candidate;
            }

            if (parent is null)
            {
                return candidate;
            }

            candidate = parent;
        }
    }

    /// <summary>The registrable domain (public suffix plus one label), or null when the domain is itself a public suffix.</summary>
    /// <param name="domain">A domain in any case, U-labels or A-labels, with or without trailing dot.</param>
    /// <returns>The registrable domain in A-label form, or null.</returns>
    public string? GetRegistrableDomain(string domain)
    {
        if (domain is null || domain.StartsWith('.') || !DomainNames.TryNormalize(domain, out var normalized))
        {
            return null;
        }

        var suffix = GetPublicSuffix(normalized);
        if (normalized.Length == suffix.Length)
        {
            return null;
        }

        return DomainNames.Rightmost(normalized, DomainNames.LabelCount(suffix) + 1);
    }

    private static PublicSuffixList LoadEmbedded()
    {
        using var stream = typeof(PublicSuffixList).Assembly.GetManifestResourceStream(ResourceName)
            ?? throw new InvalidOperationException($"Embedded resource {ResourceName} is missing from {Assembly.GetExecutingAssembly().GetName().Name}.");
        using var reader = new StreamReader(stream);
        return new PublicSuffixList(reader.ReadToEnd());
    }
}
