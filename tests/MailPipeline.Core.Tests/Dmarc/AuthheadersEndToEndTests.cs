using System.Text;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dmarc;
using MailPipeline.TestSupport;
using MimeKit;
using MimeKit.Cryptography;
using Org.BouncyCastle.Crypto;
using YamlDotNet.RepresentationModel;
using MimeAuthenticationResults = MimeKit.Cryptography.AuthenticationResults;

namespace MailPipeline.Core.Tests.Dmarc;

/// <summary>
/// The suite's authheaders end-to-end cases: each message's DKIM verified with MimeKit (or the DKIM
/// results of the case's earlier Authentication-Results header), DMARC evaluated against the case's
/// DNS, and our composed header compared, parsed, with the expected one.
/// </summary>
public sealed class AuthheadersEndToEndTests
{
    /// <summary>Where RFC 9989 (or this project's brief) decides otherwise than authheaders, our expected header and why.</summary>
    private static readonly Dictionary<string, (string Expected, string Why)> Overrides = new(StringComparer.Ordinal)
    {
        ["test.bad.message"] = ("Authentication-Results: example.com; dmarc=fail header.from=bad.example.com policy.dmarc=none",
            "RFC 9989 §4.8: the malformed 'reject' fragment is ignored, the record is p=none; authheaders says permerror"),
        ["test.message_multi"] = ("Authentication-Results: example.com; dkim=fail header.d=example.com header.i=@example.com; dkim=pass header.d=example.org header.i=@example.org; dmarc=permerror",
            "RFC 9989 §5.3.1: two From domains, no silent pick of one"),
        ["test.message_multi2"] = ("Authentication-Results: example.com; dkim=fail header.d=example.com header.i=@example.com; dkim=pass header.d=example.org header.i=@example.org; dmarc=permerror",
            "RFC 9989 §5.3.1: two From domains, no silent pick of one"),
        ["test.nofrom.message"] = ("Authentication-Results: example.com; dmarc=permerror",
            "no From domain to report: we omit header.from rather than write the non-domain 'none' (the reason is in the comment)"),
        ["test.gov.message"] = ("Authentication-Results: example.com; dmarc=fail header.from=example.gov policy.dmarc=none",
            "RFC 9989 §4.10.1: the PSD's record applies to example.gov, a subdomain of gov that exists, so its sp=none applies, not p=reject (authheaders follows RFC 9091, where the PSD's p covers the domain one label below it)"),
        ["test_nop.message"] = ("Authentication-Results: example.com; dkim=fail header.d=nop.example.org header.i=@nop.example.org; dmarc=fail header.from=nop.example.org policy.dmarc=none",
            "RFC 9989 §4.7: a record without p is treated as p=none, so DMARC applies and fails"),
    };

    public static TheoryData<string, bool> Cases()
    {
        var data = new TheoryData<string, bool>();
        foreach (var c in DmarcCases.Cases("authheaders_end_to_end"))
        {
            var checks = ((YamlSequenceNode)c.Node("checks")!).Children.Select(n => ((YamlScalarNode)n).Value).ToList();
            data.Add(c.Text("message")!, checks.Contains("dmarc"));
        }

        return data;
    }

    [Theory(Timeout = 20_000)]
    [MemberData(nameof(Cases))]
    public async Task Compose_AuthheadersCase_ParsesToTheExpectedResults(string messageName, bool withDmarc)
    {
        // arrange
        var c = DmarcCases.Cases("authheaders_end_to_end").Single(x => x.Text("message") == messageName
            && ((YamlSequenceNode)x.Node("checks")!).Children.Any(n => ((YamlScalarNode)n).Value == "dmarc") == withDmarc);
        var expected = Overrides.TryGetValue(messageName, out var o) && withDmarc ? o.Expected : c.Text("expect")!;
        var dns = Dns();
        var bytes = await File.ReadAllBytesAsync(Path.Combine(DmarcCases.DataDirectory, "authheaders-messages", messageName));
        var message = MimeMessage.Load(new MemoryStream(bytes));
        var checks = ((YamlSequenceNode)c.Node("checks")!).Children.Select(n => ((YamlScalarNode)n).Value).ToList();
        var results = new List<AuthMethodResult>();

        if (c.Text("prev") is { } prev)
        {
            results.AddRange(Parse(prev).Results.Where(r => r.Method == "dkim").Select(ToOurs));
        }

        if (checks.Contains("dkim"))
        {
            results.AddRange(await VerifyDkimAsync(message));
        }

        // act
        if (checks.Contains("dmarc"))
        {
            var from = new FromHeaderExtractor(new DmarcOptions()).Extract(bytes);
            var passing = results.Where(r => r.Method == "dkim" && r.Result == AuthResult.Pass)
                .Select(r => r.Properties!.Single(p => p.Name == "d").Value).ToList();
            var dmarc = await new DmarcEvaluator(dns, new DmarcOptions()).EvaluateAsync(from, null, passing);
            results.Add(dmarc.ToAuthMethodResult());
        }

        var composed = new AuthenticationResultsComposer(new AuthenticationResultsOptions { AuthServId = "example.com" }).Compose(results);

        // assert
        Assert.Equal(Describe(Parse(expected)), Describe(Parse(composed)));
        Assert.Equal(Describe(Parse(expected)), AuthresPython.Describe(composed));
    }

    private static InMemoryDnsResolver Dns()
    {
        var dns = new InMemoryDnsResolver();
        foreach (var (keyNode, valueNode) in (YamlMappingNode)DmarcCases.Section("authheaders_end_to_end")["dns"])
        {
            var name = ((YamlScalarNode)keyNode).Value!;
            var value = (YamlScalarNode)valueNode;
            if (DmarcCases.IsNull(value))
            {
                continue; // NXDOMAIN
            }

            var text = value.Value!;
            if (text.StartsWith("@file ", StringComparison.Ordinal))
            {
                text = File.ReadAllText(Path.Combine(DmarcCases.DataDirectory, text["@file ".Length..])).Trim();
            }

            if (text.Length == 0 || !text.StartsWith("v=", StringComparison.Ordinal))
            {
                dns.AddEmptyName(name); // the name exists (or has no usable TXT)
            }
            else
            {
                dns.AddTxt(name, text);
            }
        }

        return dns;
    }

    private static async Task<List<AuthMethodResult>> VerifyDkimAsync(MimeMessage message)
    {
        var keyText = await File.ReadAllTextAsync(Path.Combine(DmarcCases.DataDirectory, "authheaders-messages", "test.txt"));
        var verifier = new DkimVerifier(new OneKeyLocator(keyText));
        var results = new List<AuthMethodResult>();
        foreach (var header in message.Headers.Where(h => h.Id == HeaderId.DkimSignature))
        {
            var tags = header.Value.Split(';').Select(t => t.Split('=', 2)).Where(t => t.Length == 2)
                .ToDictionary(t => t[0].Trim(), t => t[1].Trim());
            var pass = await verifier.VerifyAsync(message, header);
            results.Add(new AuthMethodResult("dkim", pass ? AuthResult.Pass : AuthResult.Fail, Properties:
            [
                new AuthResultProperty("header", "d", tags["d"]),
                new AuthResultProperty("header", "i", tags["i"]),
            ]));
        }

        return results;
    }

    private static AuthMethodResult ToOurs(AuthenticationMethodResult r)
    {
        AuthResultExtensions.TryParseRfc8601(r.Result, out var result);
        return new AuthMethodResult(r.Method, result, Properties: r.Properties.Select(p => new AuthResultProperty(p.PropertyType, p.Property, p.Value)).ToList());
    }

    internal static MimeAuthenticationResults Parse(string field)
    {
        var colon = field.IndexOf(':', StringComparison.Ordinal);
        return MimeAuthenticationResults.Parse(Encoding.UTF8.GetBytes(field[(colon + 1)..]));
    }

    /// <summary>A canonical text of the parsed values: id, then method=result and properties per result (comments left out).</summary>
    internal static string Describe(MimeAuthenticationResults parsed) =>
        parsed.AuthenticationServiceIdentifier + "; " + string.Join("; ", parsed.Results.Select(r =>
            $"{r.Method}={r.Result}" + (r.Reason is null ? string.Empty : $" reason={r.Reason}")
            + string.Concat(r.Properties.Select(p => $" {p.PropertyType}.{p.Property}={p.Value}"))));

    private sealed class OneKeyLocator(string txt) : DkimPublicKeyLocatorBase
    {
        public override AsymmetricKeyParameter LocatePublicKey(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            GetPublicKey(txt);

        public override Task<AsymmetricKeyParameter> LocatePublicKeyAsync(string methods, string domain, string selector, CancellationToken cancellationToken = default) =>
            Task.FromResult(GetPublicKey(txt));
    }
}
