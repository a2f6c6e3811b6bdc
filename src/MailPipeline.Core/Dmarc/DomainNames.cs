using System.Globalization;
using System.Text;

namespace MailPipeline.Core.Dmarc;

/// <summary>Domain name normalisation for DMARC comparisons: A-labels (RFC 5890 §2.3), lowercase, no trailing dot.</summary>
public static class DomainNames
{
    private static readonly IdnMapping Idn = new() { AllowUnassigned = false, UseStd3AsciiRules = true };

    /// <summary>
    /// Converts a domain (U-labels or A-labels, any case, optional trailing dot) to its lowercase A-label
    /// form and checks it is a syntactically valid host name: 1–63 octet LDH labels, 253 octets in all,
    /// at least one label.
    /// </summary>
    /// <param name="domain">The domain as found.</param>
    /// <param name="normalized">The A-label form.</param>
    /// <returns>False when the text is not a valid domain name.</returns>
    public static bool TryNormalize(string? domain, out string normalized)
    {
        normalized = string.Empty;
        if (string.IsNullOrWhiteSpace(domain))
        {
            return false;
        }

        var text = domain.Trim();
        if (text.EndsWith('.'))
        {
            text = text[..^1];
        }

        if (text.Length == 0 || text.Length > 1000)
        {
            return false;
        }

        string ascii;
        try
        {
            ascii = Ascii.IsValid(text) ? text.ToLowerInvariant() : Idn.GetAscii(text).ToLowerInvariant();
        }
        catch (ArgumentException)
        {
            // IdnMapping rejects invalid code points, empty labels and over-long labels.
            return false;
        }

        if (ascii.Length > 253)
        {
            return false;
        }

        foreach (var label in ascii.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-')
            {
                return false;
            }

            foreach (var c in label)
            {
                if (!(char.IsAsciiLetterOrDigit(c) || c == '-' || c == '_'))
                {
                    return false;
                }
            }
        }

        normalized = ascii;
        return true;
    }

    /// <summary>The number of labels of a normalised domain.</summary>
    /// <param name="domain">The domain.</param>
    /// <returns>The label count.</returns>
    public static int LabelCount(string domain) => domain.Length == 0 ? 0 : domain.Count(c => c == '.') + 1;

    /// <summary>The domain with its left-most label removed, or null for a single label.</summary>
    /// <param name="domain">The domain.</param>
    /// <returns>The parent.</returns>
    public static string? Parent(string domain)
    {
        var dot = domain.IndexOf('.', StringComparison.Ordinal);
        return dot < 0 ? null : domain[(dot + 1)..];
    }

    /// <summary>The right-most <paramref name="labels"/> labels of a domain.</summary>
    /// <param name="domain">The domain.</param>
    /// <param name="labels">How many labels to keep.</param>
    /// <returns>The shortened domain.</returns>
    public static string Rightmost(string domain, int labels)
    {
        var count = LabelCount(domain);
        var result = domain;
        for (var i = count; i > labels; i--)
        {
            result = Parent(result)!;
        }

        return result;
    }

    /// <summary>True when <paramref name="domain"/> equals <paramref name="ancestor"/> or lies below it.</summary>
    /// <param name="domain">The candidate subdomain.</param>
    /// <param name="ancestor">The ancestor.</param>
    /// <returns>Whether it is at or below.</returns>
    public static bool IsAtOrBelow(string domain, string ancestor) =>
        domain.Equals(ancestor, StringComparison.OrdinalIgnoreCase)
        || (domain.Length > ancestor.Length
            && domain.EndsWith(ancestor, StringComparison.OrdinalIgnoreCase)
            && domain[domain.Length - ancestor.Length - 1] == '.');
}
