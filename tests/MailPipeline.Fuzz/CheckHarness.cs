using System.Net;
using System.Text;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dns;
using MailPipeline.Core.Reputation;
using MailPipeline.TestSupport;

namespace MailPipeline.Fuzz;

/// <summary>
/// Runs the whole check (what <c>check</c>, <c>serve</c> and the Functions run for a message) and applies the oracles
/// every report must pass: the fields we prepend are single, well-folded header fields, our Authentication-Results
/// field carries our authserv-id (so the next hop's forged-field removal recognises it), and the report serialises
/// (the pipeline stores it as JSON).
/// </summary>
internal static class CheckHarness
{
    public const string AuthServId = "mx.ours.test";

    /// <summary>The clock of the mail-dkim corpus tests (its signatures carry t=/x= around it).</summary>
    private static readonly DateTimeOffset Clock = new(2025, 1, 1, 0, 0, 0, TimeSpan.Zero);

    public static readonly AuthenticationEnvelope Envelope = new(IPAddress.Parse("192.0.2.10"), "mail.example.com", "user@example.com", ["postmaster@ours.test"]);

    public static MessageAuthenticator Create(IDnsResolver dns)
    {
        var options = new MailAuthenticationOptions();
        options.AuthenticationResults.AuthServId = AuthServId;
        options.Spf.ReceivingHost = AuthServId;
        options.Reputation.SkipPrivateAddresses = false;
        options.Reputation.Zones.Add(new DnsListOptions { Zone = "bl.test" });
        options.Reputation.Zones.Add(new DnsListOptions { Zone = "wl.test", Kind = DnsListKind.Allow });
        options.Reputation.Zones.Add(new DnsListOptions { Zone = "dbl.test", Type = DnsListType.Domain });
        options.Arc.TrustedSealers.Add("example.org");
        return new MessageAuthenticator(dns, options, time: new ManualTimeProvider(Clock));
    }

    public static void Check(MessageAuthenticator authenticator, AuthenticationEnvelope envelope, byte[] message)
    {
        // A sync harness (SharpFuzz calls us synchronously); the check itself is async all the way.
        var report = authenticator.AuthenticateAsync(envelope, message).GetAwaiter().GetResult();
        if (report.Action is not ("deliver" or "quarantine" or "retry"))
        {
            throw new FuzzFindingException($"action '{report.Action}'");
        }

        HeaderFieldOracle.AssertSingleField(report.AuthenticationResults, "Authentication-Results");
        HeaderFieldOracle.AssertSingleField(report.ReceivedSpf, "Received-SPF");
        if (report.AuthenticationResults is { } field)
        {
            int colon = field.IndexOf(':', StringComparison.Ordinal);
            string? id = ForgedAuthenticationResultsRemover.ReadAuthServId(Encoding.UTF8.GetBytes(field[(colon + 1)..]));
            if (colon < 0 || id != AuthServId)
            {
                throw new FuzzFindingException($"our Authentication-Results field reads as authserv-id '{id}'");
            }
        }

        _ = report.ToJson();
    }
}
