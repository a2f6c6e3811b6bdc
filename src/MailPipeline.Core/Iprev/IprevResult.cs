using System.Net;

namespace MailPipeline.Core.Iprev;

/// <summary>
/// The outcome of the iprev check (RFC 8601 §3): whether the client IP's PTR names map back to it.
/// </summary>
/// <param name="Result">pass, fail, temperror or permerror.</param>
/// <param name="ClientIp">The address checked (IPv4-mapped IPv6 addresses as IPv4).</param>
/// <param name="PtrNames">The PTR names, in answer order (at most the configured limit).</param>
/// <param name="ValidatedNames">The PTR names whose forward lookup returned the client IP, in PTR order.</param>
/// <param name="Reason">Why the result is not pass (for the header comment and logs); null on pass.</param>
public sealed record IprevResult(
    AuthResult Result,
    IPAddress ClientIp,
    IReadOnlyList<string> PtrNames,
    IReadOnlyList<string> ValidatedNames,
    string? Reason)
{
    /// <summary>
    /// The validated host name: the first PTR name that maps back to the client IP, or null. This is
    /// also SPF's <c>%{p}</c> input (RFC 7208 §7.3 prefers a validated name ending in the target domain:
    /// see <see cref="ValidatedNameFor"/>).
    /// </summary>
    public string? ValidatedName => ValidatedNames.Count > 0 ? ValidatedNames[0] : null;

    /// <summary>
    /// SPF <c>%{p}</c> (RFC 7208 §7.3): a validated name equal to <paramref name="domain"/>, else one ending in
    /// <c>.domain</c>, else any validated name, else <c>unknown</c>.
    /// </summary>
    /// <param name="domain">The domain being evaluated.</param>
    /// <returns>The name to expand.</returns>
    public string ValidatedNameFor(string domain)
    {
        ArgumentNullException.ThrowIfNull(domain);
        var target = domain.TrimEnd('.');
        return ValidatedNames.FirstOrDefault(n => n.Equals(target, StringComparison.OrdinalIgnoreCase))
            ?? ValidatedNames.FirstOrDefault(n => n.EndsWith("." + target, StringComparison.OrdinalIgnoreCase))
            ?? ValidatedName
            ?? "unknown";
    }

    /// <summary>The <c>iprev</c> Authentication-Results entry: <c>iprev=pass policy.iprev=192.0.2.1 (mail.example.com)</c>.</summary>
    /// <returns>The entry.</returns>
    public AuthMethodResult ToAuthMethodResult() => new(
        "iprev",
        Result,
        Properties: [new AuthResultProperty("policy", "iprev", ClientIp.ToString())],
        Comment: Result == AuthResult.Pass ? ValidatedName : Reason);
}
