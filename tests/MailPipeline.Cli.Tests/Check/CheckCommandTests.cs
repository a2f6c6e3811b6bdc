using System.Text;
using System.Text.Json;
using MailPipeline.Cli.Commands;
using MailPipeline.TestSupport;
using MimeKitResults = MimeKit.Cryptography.AuthenticationResults;

namespace MailPipeline.Cli.Tests.Check;

/// <summary>
/// <c>mailpipeline check</c> end to end: messages signed by dkimpy, SPF, DKIM, DMARC and a DNS block list served by a
/// real Knot server, the JSON and text outputs, and the Authentication-Results field parsed back by MimeKit and by
/// Debian's python3-authres.
/// </summary>
[Collection(DnsCollection.Name)]
[Trait("Category", "Integration")]
public sealed class CheckCommandTests(DnsServerFixture dns)
{
    internal static async Task<(int Code, string Output, string Error)> RunAsync(params string[] args)
    {
        using var output = new StringWriter();
        using var error = new StringWriter();
        var code = await MailPipelineCommand.RunAsync(args, output, error);
        return (code, output.ToString(), error.ToString());
    }

    private async Task<JsonElement> CheckJsonAsync(byte[] message, string ip, string helo, string mailFrom, params string[] extra)
    {
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(message);
        var (code, output, error) = await RunAsync(["check", "--ip", ip, "--helo", helo, "--mail-from", mailFrom, "--resolver", dns.EndpointText, "--json", .. extra, file]);
        Assert.True(code == MailPipelineCommand.Success, $"exit {code}: {error}");
        Assert.Single(output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n'));
        return JsonDocument.Parse(output).RootElement.Clone();
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_SignedAlignedMessageFromAuthorisedClient_DeliversWithEveryPass()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var message = await world.SignAsync(CheckWorld.Message());

        // act
        var json = await CheckJsonAsync(message, CheckWorld.GoodIp, "mail.check.test", "alice@check.test", "--rcpt", "bob@example.net");

        // assert
        Assert.Equal("deliver", json.GetProperty("action").GetString());
        Assert.Equal("pass", json.GetProperty("spf").GetProperty("result").GetString());
        Assert.Equal("check.test", json.GetProperty("spf").GetProperty("domain").GetString());
        var dkim = Assert.Single(json.GetProperty("dkim").EnumerateArray().ToArray());
        Assert.Equal(("pass", "check.test", "sel", "rsa-sha256"), (dkim.GetProperty("result").GetString(), dkim.GetProperty("domain").GetString(), dkim.GetProperty("selector").GetString(), dkim.GetProperty("algorithm").GetString()));
        Assert.Equal("none", json.GetProperty("arc").GetProperty("result").GetString());
        var dmarc = json.GetProperty("dmarc");
        Assert.Equal(("pass", "check.test", "reject", "none"), (dmarc.GetProperty("result").GetString(), dmarc.GetProperty("domain").GetString(), dmarc.GetProperty("policy").GetString(), dmarc.GetProperty("disposition").GetString()));
        Assert.Equal("pass", json.GetProperty("iprev").GetProperty("result").GetString());
        Assert.Empty(json.GetProperty("reputation").EnumerateArray());
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_AuthenticationResults_ParsesBackWithMimeKitAndPythonAuthres()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var message = await world.SignAsync(CheckWorld.Message());

        // act
        var json = await CheckJsonAsync(message, CheckWorld.GoodIp, "mail.check.test", "alice@check.test", "--dnsbl", CheckWorld.BlockList);
        var field = json.GetProperty("authenticationResults").GetString()!;

        // assert
        Assert.StartsWith("Authentication-Results: ", field, StringComparison.Ordinal);
        var value = field["Authentication-Results:".Length..];
        var mimeKit = MimeKitResults.Parse(Encoding.UTF8.GetBytes(value));
        var mimeKitMethods = mimeKit.Results.Select(r => $"{r.Method}={r.Result}").ToArray();
        Assert.Equal(["iprev=pass", "spf=pass", "dkim=pass", "arc=none", "dmarc=pass"], mimeKitMethods);
        Assert.Contains(mimeKit.Results.Single(r => r.Method == "dkim").Properties, p => p.PropertyType == "header" && p.Property == "d" && p.Value == "check.test");
        Assert.Contains(mimeKit.Results.Single(r => r.Method == "dmarc").Properties, p => p.PropertyType == "header" && p.Property == "from" && p.Value == "check.test");

        var python = await ExternalProcess.RunAsync(
            "/usr/bin/python3",
            ["-c", "import sys, authres; h = authres.AuthenticationResultsHeader.parse(sys.stdin.read()); print(h.authserv_id); [print('%s=%s' % (r.method, r.result)) for r in h.results]"],
            stdin: field.Replace("\r\n", "\n", StringComparison.Ordinal));
        Assert.True(python.ExitCode == 0, python.Output);
        var lines = python.Output.ReplaceLineEndings("\n").TrimEnd('\n').Split('\n');
        Assert.Equal(mimeKit.AuthenticationServiceIdentifier, lines[0]);
        Assert.Equal(mimeKitMethods, lines[1..]);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_UnsignedFromStrangerUnderReject_QuarantinesWithDmarcFail()
    {
        // act
        var json = await CheckJsonAsync(Encoding.ASCII.GetBytes(CheckWorld.Message()), CheckWorld.StrangerIp, "host.stranger.check.test", "alice@check.test");

        // assert
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
        Assert.Equal("fail", json.GetProperty("spf").GetProperty("result").GetString());
        Assert.Empty(json.GetProperty("dkim").EnumerateArray());
        var dmarc = json.GetProperty("dmarc");
        Assert.Equal(("fail", "reject", "reject"), (dmarc.GetProperty("result").GetString(), dmarc.GetProperty("policy").GetString(), dmarc.GetProperty("disposition").GetString()));
        Assert.StartsWith("dmarc=fail header.from=check.test p=reject", json.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_UnalignedUnderQuarantinePolicy_QuarantinesWithQuarantineDisposition()
    {
        // act
        var json = await CheckJsonAsync(Encoding.ASCII.GetBytes(CheckWorld.Message("bob@q.check.test")), CheckWorld.StrangerIp, "host.stranger.check.test", "bounce@stranger.check.test");

        // assert
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
        var dmarc = json.GetProperty("dmarc");
        Assert.Equal(("fail", "q.check.test", "quarantine", "quarantine"), (dmarc.GetProperty("result").GetString(), dmarc.GetProperty("domain").GetString(), dmarc.GetProperty("policy").GetString(), dmarc.GetProperty("disposition").GetString()));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_ClientListedOnDnsbl_QuarantinesDespiteDmarcPass()
    {
        // arrange: DKIM passes and aligns, so DMARC passes; only the block list speaks against it.
        var world = await CheckWorld.GetAsync(dns);
        var message = await world.SignAsync(CheckWorld.Message());

        // act
        var json = await CheckJsonAsync(message, CheckWorld.ListedIp, "host.listed.check.test", "alice@check.test", "--dnsbl", CheckWorld.BlockList);

        // assert
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
        Assert.Equal("pass", json.GetProperty("dmarc").GetProperty("result").GetString());
        var listing = Assert.Single(json.GetProperty("reputation").EnumerateArray().ToArray());
        Assert.Equal(CheckWorld.BlockList, listing.GetProperty("zone").GetString());
        Assert.True(listing.GetProperty("listed").GetBoolean());
        Assert.Equal("127.0.0.2", listing.GetProperty("codes")[0].GetString());
        Assert.StartsWith($"listed on {CheckWorld.BlockList} (127.0.0.2)", json.GetProperty("reasons")[0].GetString(), StringComparison.Ordinal);
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_NullSender_ChecksSpfForPostmasterAtHelo()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var message = await world.SignAsync(CheckWorld.Message("MAILER-DAEMON@check.test"));

        // act
        var json = await CheckJsonAsync(message, CheckWorld.GoodIp, "mail.check.test", string.Empty);

        // assert
        var spf = json.GetProperty("spf");
        Assert.Equal(("pass", "mail.check.test"), (spf.GetProperty("result").GetString(), spf.GetProperty("domain").GetString()));
        Assert.Contains("envelope-from=\"postmaster@mail.check.test\"", json.GetProperty("receivedSpf").GetString(), StringComparison.Ordinal);
        Assert.Equal("deliver", json.GetProperty("action").GetString());
    }

    public static TheoryData<string, byte[], string> HostileMessages()
    {
        var huge = new StringBuilder("From: alice@check.test\r\n");
        while (huge.Length < 2 * 1024 * 1024)
        {
            huge.Append("X-Pad: ").Append('p', 998 - 8).Append("\r\n");
        }

        return new TheoryData<string, byte[], string>
        {
            { "two From fields", Encoding.ASCII.GetBytes("From: alice@check.test\r\n" + CheckWorld.Message("mallory@evil.test")), "dmarc=permerror: 2 From header fields" },
            { "NUL bytes", Encoding.ASCII.GetBytes("From: alice@check.test\0\r\nSubject: x\r\n\r\nbo\0dy\r\n"), "dmarc=permerror" },
            { "2 MB header block", Encoding.ASCII.GetBytes(huge.Append("\r\nbody\r\n").ToString()), "dmarc=permerror: header block of" },
            { "not a message", [0xFF, 0xFE, 0x00, 0x01, 0x0D, 0x0A], "dmarc=permerror" },
        };
    }

    [Theory(Timeout = 60_000)]
    [MemberData(nameof(HostileMessages))]
    public async Task Check_HostileMessage_QuarantinesWithReasonAndExitsZero(string name, byte[] message, string reason)
    {
        // act
        var json = await CheckJsonAsync(message, CheckWorld.GoodIp, "mail.check.test", "alice@check.test");

        // assert
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
        var first = json.GetProperty("reasons")[0].GetString()!;
        Assert.True(first.StartsWith(reason, StringComparison.Ordinal), $"{name}: {first}");
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_QuotedLocalPartLooksLikeAnotherAddress_UsesTheRealDomain()
    {
        // arrange: "a <x@evil.test>"@check.test is one mailbox at check.test, whatever it looks like.
        var message = Encoding.ASCII.GetBytes(CheckWorld.Message("\"a <x@evil.test>\"@check.test"));

        // act
        var json = await CheckJsonAsync(message, CheckWorld.StrangerIp, "host.stranger.check.test", "alice@check.test");

        // assert
        Assert.Equal("check.test", json.GetProperty("dmarc").GetProperty("domain").GetString());
        Assert.Equal("fail", json.GetProperty("dmarc").GetProperty("result").GetString());
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_Utf8IdnFromDomain_LooksUpThePolicyOfTheALabel()
    {
        // arrange: a UTF-8 header (RFC 6532) with a U-label domain whose A-label publishes p=reject.
        var message = Encoding.UTF8.GetBytes(CheckWorld.Message("Jürgen <jürgen@bücher.check.test>"));

        // act
        var json = await CheckJsonAsync(message, CheckWorld.StrangerIp, "host.stranger.check.test", "bounce@stranger.check.test");

        // assert
        var dmarc = json.GetProperty("dmarc");
        Assert.Equal("fail", dmarc.GetProperty("result").GetString());
        Assert.Equal("reject", dmarc.GetProperty("policy").GetString());
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_TextOutput_PrintsOneLinePerMethodActionAndHeader()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var file = await world.WriteAsync(await world.SignAsync(CheckWorld.Message()));

        // act
        var (code, output, _) = await RunAsync("check", "--ip", CheckWorld.GoodIp, "--helo", "mail.check.test", "--mail-from", "<alice@check.test>", "--resolver", dns.EndpointText, file);

        // assert
        Assert.Equal(MailPipelineCommand.Success, code);
        var lines = output.ReplaceLineEndings("\n").Split('\n');
        Assert.StartsWith("spf=pass mailfrom=check.test", lines[0], StringComparison.Ordinal);
        Assert.StartsWith("dkim=pass d=check.test s=sel a=rsa-sha256", lines[1], StringComparison.Ordinal);
        Assert.Equal("arc=none", lines[2]);
        Assert.StartsWith("dmarc=pass header.from=check.test policy=reject disposition=none", lines[3], StringComparison.Ordinal);
        Assert.Equal("iprev=pass mail.check.test", lines[4]);
        Assert.Equal("action: deliver", lines[5]);
        Assert.Contains(lines, l => l.StartsWith("Received-SPF: pass", StringComparison.Ordinal));
        Assert.Contains(lines, l => l.StartsWith("Authentication-Results: ", StringComparison.Ordinal));
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_StandardInput_ReadsTheMessageFromDash()
    {
        // arrange
        var world = await CheckWorld.GetAsync(dns);
        var message = await world.SignAsync(CheckWorld.Message());
        var original = CheckCommand.StandardInput;
        CheckCommand.StandardInput = () => new MemoryStream(message);
        try
        {
            // act
            var (code, output, _) = await RunAsync("check", "--ip", CheckWorld.GoodIp, "--helo", "mail.check.test", "--mail-from", "alice@check.test", "--resolver", dns.EndpointText, "--json", "-");

            // assert
            Assert.Equal(MailPipelineCommand.Success, code);
            Assert.Equal("pass", JsonDocument.Parse(output).RootElement.GetProperty("dkim")[0].GetProperty("result").GetString());
        }
        finally
        {
            CheckCommand.StandardInput = original;
        }
    }

    [Fact(Timeout = 60_000)]
    public async Task Check_ConfigFile_AppliesItsSections()
    {
        // arrange: SPF fail quarantines by configuration, and the authserv-id is ours.
        var world = await CheckWorld.GetAsync(dns);
        var config = Path.Combine(world.Folder, "strict.json");
        await File.WriteAllTextAsync(config, """
            {
              "Logging": { "LogLevel": { "Default": "Warning" } },
              "AuthenticationResults": { "AuthServId": "mx.check.test" },
              "Verdict": { "QuarantineOnSpfFail": true },
              "Reputation": { "Zones": [ { "Zone": "bl.check-lists.test", "Blocks": false } ] }
            }
            """);
        var message = await world.SignAsync(CheckWorld.Message());

        // act
        var json = await CheckJsonAsync(message, CheckWorld.ListedIp, "host.listed.check.test", "alice@check.test", "--config", config);

        // assert
        Assert.Equal("quarantine", json.GetProperty("action").GetString());
        var reasons = json.GetProperty("reasons").EnumerateArray().Select(r => r.GetString()).ToArray();
        Assert.Equal("spf=fail", reasons[0]);
        Assert.Contains(reasons, r => r!.EndsWith("(not blocking)", StringComparison.Ordinal));
        Assert.StartsWith("Authentication-Results: mx.check.test;", json.GetProperty("authenticationResults").GetString(), StringComparison.Ordinal);
    }
}
