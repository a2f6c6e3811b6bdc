using System.Net;
using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Spf;
using MailPipeline.TestSupport;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// The SPF record and macro parser (RFC 7208 §4.6, §7), then the evaluation of that record as the TXT record of the
/// sender's domain, so every macro is expanded and every mechanism's target looked up (in an in-memory zone).
/// </summary>
internal sealed class SpfTarget : FuzzTarget
{
    private static readonly IPAddress[] Clients = [IPAddress.Parse("192.0.2.10"), IPAddress.Parse("2001:db8::10")];

    private static readonly AuthenticationResultsComposer Composer = new(new AuthenticationResultsOptions { AuthServId = "mx.test" });

    public override string Name => "spf";

    public override string Covers => "SpfRecord.Parse, SpfMacroString (parse + expand), SpfEvaluator over the record";

    public override void Run(ReadOnlySpan<byte> input)
    {
        string record = Encoding.UTF8.GetString(input);
        var parsed = SpfRecord.Parse(record);
        _ = parsed.Error;
        foreach (var kind in Enum.GetValues<SpfMacroKind>())
        {
            _ = SpfMacroString.TryParse(record, kind, out _, out _);
        }

        // The record is also what the evaluator fetches for the sender's domain (a TXT split into strings as DNS
        // would deliver a long one), with its include/redirect/a/mx targets answered by a small zone.
        var zone = new InMemoryDnsResolver()
            .AddTxt("example.com", Chunks(record))
            .AddTxt("inc.example.com", "v=spf1 ip4:198.51.100.0/24 ?all")
            .AddAddress("mail.example.com", "192.0.2.10")
            .AddMx("example.com", 10, "mail.example.com")
            .AddPtr("10.2.0.192.in-addr.arpa", "mail.example.com")
            .AddTxt("exp.example.com", "%{i} is not one of %{d}'s designated mail servers");
        var evaluator = new SpfEvaluator(zone, new SpfOptions { ReceivingHost = "mx.test" });
        foreach (var client in Clients)
        {
            // A sync harness (SharpFuzz calls us synchronously); the evaluation itself is async all the way.
            SpfResult result = evaluator.EvaluateMailFromAsync(client, "mail.example.com", "user@example.com").GetAwaiter().GetResult();
            if (result.Result == AuthResult.Pass && parsed.Error is not null)
            {
                throw new FuzzFindingException($"pass from a record with a syntax error ({parsed.Error})");
            }

            HeaderFieldOracle.AssertSingleField("Received-SPF: " + result.ToReceivedSpfHeaderValue("mx.test"), "Received-SPF");
            HeaderFieldOracle.AssertSingleField(Composer.Compose([result.ToAuthMethodResult()]), "Authentication-Results (spf)");
        }
    }

    private static string[] Chunks(string text)
    {
        if (text.Length <= 255)
        {
            return [text];
        }

        var chunks = new List<string>();
        for (int i = 0; i < text.Length; i += 255)
        {
            chunks.Add(text.Substring(i, Math.Min(255, text.Length - i)));
        }

        return [.. chunks];
    }
}
