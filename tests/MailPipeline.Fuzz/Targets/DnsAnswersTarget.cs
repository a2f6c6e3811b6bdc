namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// DNS answers as the checks consume them: the input is the zone (SPF, DKIM key, DMARC, PTR/A for iprev, MX, DNS
/// list answers, failures) that a fixed signed message and envelope are checked against. Covers what an attacker
/// who owns the sending domain's DNS controls.
/// </summary>
internal sealed class DnsAnswersTarget : FuzzTarget
{
    private static readonly Core.Authentication.AuthenticationEnvelope Envelope = new(System.Net.IPAddress.Parse("192.0.2.10"), "mail.football.example.com", "joe@football.example.com", ["postmaster@ours.test"]);

    private static readonly Lazy<byte[]> Message = new(() => File.ReadAllBytes(Path.Combine(AppContext.BaseDirectory, "data", "dns-answers.eml")));

    public override string Name => "dns-answers";

    public override string Covers => "SPF/DKIM-key/DMARC/iprev/DNS-list evaluation over attacker-controlled records (zone text)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        var zone = FuzzZone.Parse(FuzzZone.Text(input));
        CheckHarness.Check(CheckHarness.Create(zone), Envelope, Message.Value);
    }
}
