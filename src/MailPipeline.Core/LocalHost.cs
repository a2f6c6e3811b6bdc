using System.Net.Sockets;

namespace MailPipeline.Core;

/// <summary>
/// This machine's name as a mail server names itself: the fully qualified host name, as <c>hostname -f</c> and
/// Postfix's default <c>myhostname</c> find it (the canonical name the resolver gives for the short host name,
/// from <c>/etc/hosts</c> or DNS), falling back to the short name when there is no qualified one.
/// </summary>
public static class LocalHost
{
    private static readonly Lazy<string> Fqdn = new(Resolve);

    /// <summary>The fully qualified host name (computed once per process).</summary>
    public static string FullyQualifiedName => Fqdn.Value;

    /// <summary>Whether <paramref name="name"/> is usable as an SMTP host name, authserv-id and <c>Received-SPF</c> receiver.</summary>
    /// <param name="name">The name to test.</param>
    /// <returns>True for an LDH host name (labels of letters, digits and hyphens, dot-separated, at most 253 characters).</returns>
    public static bool IsValidHostName(string? name) =>
        !string.IsNullOrEmpty(name) && name.Length <= 253 && Uri.CheckHostName(name) == UriHostNameType.Dns
        && name.Split('.').All(label => label.Length is > 0 and <= 63 && label[0] != '-' && label[^1] != '-' && label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'));

    private static string Resolve()
    {
        string shortName = System.Net.Dns.GetHostName();
        if (shortName.Contains('.', StringComparison.Ordinal))
        {
            return shortName;
        }

        try
        {
            string canonical = System.Net.Dns.GetHostEntry(shortName).HostName;
            return canonical.Contains('.', StringComparison.Ordinal) && IsValidHostName(canonical) ? canonical.TrimEnd('.') : shortName;
        }
        catch (SocketException)
        {
            return shortName; // the name does not resolve: the short name is all we have
        }
    }
}
