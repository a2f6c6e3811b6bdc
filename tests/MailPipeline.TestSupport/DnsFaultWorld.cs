using System.Security.Cryptography;
using System.Text;
using MailPipeline.DnsFaultProxy;
using Xunit;

namespace MailPipeline.TestSupport;

/// <summary>
/// The world of the DNS fault matrix: a Knot server of its own (so the TLD <c>test</c> can be served and answer
/// NXDOMAIN, as on the Internet) with a sending domain and its subdomain, a third-party signer, an ARC sealer, a
/// domain without DMARC, reverse zones and two DNS lists; the fault-injecting proxy in front of it; and messages
/// signed and sealed with dkimpy. Each <see cref="FaultCase"/> names one check, the query that serves it, and
/// whether a fault there could change the action.
/// </summary>
public sealed class DnsFaultWorld : IAsyncLifetime
{
    /// <summary>The sending domain: SPF for 192.0.2.10 and 127.0.0.1, DMARC p=reject, DKIM selector s1.</summary>
    public const string Domain = "bank.test";

    /// <summary>The client address of <c>check</c> runs (the edge of <c>serve</c> sees 127.0.0.1).</summary>
    public const string ClientIp = "192.0.2.10";

    private readonly DnsServerFixture _knot = DnsServerFixture.Empty();
    private readonly Dictionary<string, string> _keys = new(StringComparer.Ordinal);
    private DnsFaultProxy.DnsFaultProxy? _proxy;

    /// <summary>The folder of this run's keys and messages.</summary>
    public string Folder { get; } = Directory.CreateTempSubdirectory("mp-faultworld-").FullName;

    /// <summary>The proxy the checks query (rules per case).</summary>
    public DnsFaultProxy.DnsFaultProxy Proxy => _proxy!;

    /// <summary>The real server behind it.</summary>
    public DnsServerFixture Knot => _knot;

    /// <summary>The faults of the matrix, as proxy rule kinds.</summary>
    public static IReadOnlyList<string> Faults { get; } = ["servfail", "refused", "drop", "garbled"];

    /// <summary>Every case of the matrix, for a client address (reverse and DNS-list names depend on it).</summary>
    /// <param name="clientIp">The SMTP client's IPv4 address.</param>
    /// <returns>The cases.</returns>
    public static IReadOnlyList<FaultCase> Cases(string clientIp = ClientIp)
    {
        var reversed = string.Join('.', clientIp.Split('.').Reverse());
        var unaligned = "bounce@nodmarc.test";
        return
        [
            new("spf", false, "TXT bank.test", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.Default, "deliver", "spf=temperror"),
            new("spf", true, "TXT bank.test", FaultMessage.Unsigned, "alice@bank.test", FaultConfig.Default, "retry", "spf=temperror", ["spf"]),
            new("dkim aligned signer", true, "TXT s1._domainkey.bank.test", FaultMessage.SignedAligned, unaligned, FaultConfig.Default, "retry", "dkim=temperror", ["dkim"]),
            new("dkim aligned signer", false, "TXT s1._domainkey.bank.test", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.Default, "deliver", "dkim=temperror"),
            new("dkim non-aligned signer", false, "TXT e1._domainkey.esp.test", FaultMessage.SignedTwice, unaligned, FaultConfig.Default, "deliver", "dkim=temperror"),
            new("arc", true, "TXT a1._domainkey.lists.test", FaultMessage.Sealed, unaligned, FaultConfig.TrustedSealer, "retry", "arc=temperror", ["arc"]),
            new("arc", false, "TXT a1._domainkey.lists.test", FaultMessage.Sealed, unaligned, FaultConfig.Default, "quarantine", "arc=temperror"),
            new("iprev", false, $"PTR {reversed}.in-addr.arpa", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.Default, "deliver", "iprev=temperror"),
            new("iprev", true, $"PTR {reversed}.in-addr.arpa", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.IprevRule, "retry", "iprev=temperror", ["iprev"]),
            new("reputation bl.test (blocking)", true, $"A {reversed}.bl.test", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.Default, "retry", "reputation lookup on bl.test failed", ["reputation"]),
            new("reputation score.test (scoring only)", false, $"A {reversed}.score.test", FaultMessage.SignedAligned, "alice@bank.test", FaultConfig.Default, "deliver", "reputation lookup on score.test failed"),
            new("dmarc walk: author's own record", true, "TXT _dmarc.news.bank.test", FaultMessage.NewsSignedByOrg, unaligned, FaultConfig.Default, "retry", "dmarc=temperror", ["dmarc"]),
            // whatever a record hidden there says, the identical signer passes it: DMARC is a definite pass
            new("dmarc walk: author's own record", false, "TXT _dmarc.news.bank.test", FaultMessage.NewsSignedByItself, unaligned, FaultConfig.Default, "deliver", "dmarc=pass"),
            new("dmarc walk: organizational domain", true, "TXT _dmarc.bank.test", FaultMessage.NewsUnsigned, unaligned, FaultConfig.Default, "retry", "dmarc=temperror", ["dmarc"]),
            new("dmarc walk: organizational domain", false, "TXT _dmarc.bank.test", FaultMessage.NewsSignedByItself, unaligned, FaultConfig.Default, "deliver", "dmarc=temperror"),
            new("dmarc walk: TLD above a record", false, "TXT _dmarc.test", FaultMessage.Unsigned, unaligned, FaultConfig.Default, "quarantine", "dmarc=fail"),
            new("dmarc walk: TLD, no record below", true, "TXT _dmarc.test", FaultMessage.NoDmarcUnsigned, unaligned, FaultConfig.Default, "retry", "dmarc=temperror", ["dmarc"]),
        ];
    }

    /// <inheritdoc />
    public async Task InitializeAsync()
    {
        await _knot.InitializeAsync();
        foreach (var (name, selector) in new[] { ("bank", "s1"), ("news", "s1"), ("esp", "e1"), ("lists", "a1") })
        {
            using var rsa = RSA.Create(2048);
            var file = Path.Combine(Folder, name + ".pem");
            await File.WriteAllTextAsync(file, rsa.ExportRSAPrivateKeyPem());
            _keys[name] = file;
            _keys[name + ".dns"] = Chunked($"v=DKIM1; k=rsa; p={Convert.ToBase64String(rsa.ExportSubjectPublicKeyInfo())}");
            _ = selector;
        }

        await _knot.AddZoneAsync("test", string.Empty);
        await _knot.AddZoneAsync(Domain, $"""
            @                  IN TXT "v=spf1 ip4:192.0.2.10 ip4:127.0.0.1 -all"
            _dmarc             IN TXT "v=DMARC1; p=reject"
            s1._domainkey      IN TXT {_keys["bank.dns"]}
            s1._domainkey.news IN TXT {_keys["news.dns"]}
            news               IN A   192.0.2.10
            mail               IN A   192.0.2.10
            mail               IN A   127.0.0.1
            """);
        await _knot.AddZoneAsync("esp.test", $"e1._domainkey IN TXT {_keys["esp.dns"]}");
        await _knot.AddZoneAsync("lists.test", $"a1._domainkey IN TXT {_keys["lists.dns"]}");
        await _knot.AddZoneAsync("nodmarc.test", "www IN A 192.0.2.99");
        await _knot.AddZoneAsync("2.0.192.in-addr.arpa", "10 IN PTR mail.bank.test.");
        await _knot.AddZoneAsync("127.in-addr.arpa", "1.0.0 IN PTR mail.bank.test.");
        await _knot.AddZoneAsync("bl.test", "2.0.0.127 IN A 127.0.0.2");
        await _knot.AddZoneAsync("score.test", "2.0.0.127 IN A 127.0.0.2");
        _proxy = new DnsFaultProxy.DnsFaultProxy(_knot.Endpoint).Start();
    }

    /// <summary>The message bytes of a kind.</summary>
    /// <param name="kind">Which message.</param>
    /// <returns>The bytes, signed or sealed as the kind says.</returns>
    public async Task<byte[]> MessageAsync(FaultMessage kind)
    {
        var path = Path.Combine(Folder, kind + ".eml");
        if (File.Exists(path))
        {
            return await File.ReadAllBytesAsync(path);
        }

        var from = kind switch
        {
            FaultMessage.NewsSignedByOrg or FaultMessage.NewsSignedByItself or FaultMessage.NewsUnsigned => "alice@news.bank.test",
            FaultMessage.NoDmarcUnsigned => "alice@nodmarc.test",
            _ => "alice@bank.test",
        };
        var message = $"From: Alice <{from}>\r\nTo: Bob <bob@localhost>\r\nSubject: fault matrix {kind}\r\nDate: Mon, 30 Nov 2026 00:00:00 +0000\r\nMessage-ID: <{kind}@bank.test>\r\n\r\nHello Bob,\r\n\r\nthis message crosses a DNS fault.\r\n";
        var signers = kind switch
        {
            FaultMessage.SignedAligned or FaultMessage.NewsSignedByOrg => new[] { ("bank.test", "s1", "bank") },
            FaultMessage.SignedTwice => [("bank.test", "s1", "bank"), ("esp.test", "e1", "esp")],
            FaultMessage.NewsSignedByItself => [("news.bank.test", "s1", "news")],
            _ => [],
        };
        var bytes = Encoding.ASCII.GetBytes(message);
        foreach (var (domain, selector, key) in signers)
        {
            bytes = await PythonAsync(bytes, $"import dkim,sys; m=sys.stdin.buffer.read(); sys.stdout.buffer.write(dkim.sign(m, b'{selector}', b'{domain}', open('{_keys[key]}','rb').read(), canonicalize=(b'relaxed', b'relaxed'), include_headers=[b'from', b'to', b'subject', b'date', b'message-id']) + m)");
        }

        if (kind == FaultMessage.Sealed)
        {
            // A mailing list forwarded it: its Authentication-Results and ARC set (cv=none), sealed by lists.test.
            bytes = [.. "Authentication-Results: mx.lists.test; arc=none; spf=pass smtp.mailfrom=alice@bank.test\r\n"u8, .. bytes];
            bytes = await PythonAsync(bytes, $"import dkim,sys; m=sys.stdin.buffer.read(); h=dkim.arc_sign(m, b'a1', b'lists.test', open('{_keys["lists"]}','rb').read(), b'mx.lists.test'); sys.exit('no ARC set') if len(h) != 3 else sys.stdout.buffer.write(b''.join(h) + m)");
        }

        await File.WriteAllBytesAsync(path, bytes);
        return bytes;
    }

    /// <summary>Sets the proxy's rules for one case and fault (and forgets earlier query counts).</summary>
    /// <param name="c">The case.</param>
    /// <param name="fault">The fault kind.</param>
    public void Inject(FaultCase c, string fault)
    {
        Proxy.ResetCounts();
        Proxy.SetRules([FaultRule.Parse($"{fault} {c.Query}")]);
    }

    /// <inheritdoc />
    public async Task DisposeAsync()
    {
        if (_proxy is not null)
        {
            await _proxy.DisposeAsync();
        }

        await _knot.DisposeAsync();
        try
        {
            Directory.Delete(Folder, recursive: true);
        }
        catch (IOException)
        {
            // a temp folder left behind is harmless
        }
    }

    private static async Task<byte[]> PythonAsync(byte[] input, string script)
    {
        var (code, output) = await ExternalProcess.RunAsync("/usr/bin/python3", ["-c", script], stdin: Encoding.Latin1.GetString(input));
        if (code != 0)
        {
            throw new InvalidOperationException($"dkimpy failed ({code}): {output} (install Debian's python3-dkim; ./test.sh does)");
        }

        return Encoding.Latin1.GetBytes(output);
    }

    private static string Chunked(string value) =>
        string.Join(" ", Enumerable.Range(0, (value.Length + 199) / 200).Select(i => $"\"{value.Substring(i * 200, Math.Min(200, value.Length - (i * 200)))}\""));
}

/// <summary>The messages of the fault matrix.</summary>
public enum FaultMessage
{
    /// <summary>From bank.test, no signature.</summary>
    Unsigned,

    /// <summary>From bank.test, signed d=bank.test.</summary>
    SignedAligned,

    /// <summary>From bank.test, signed d=bank.test and by the third party d=esp.test.</summary>
    SignedTwice,

    /// <summary>From bank.test, unsigned, ARC-sealed by lists.test.</summary>
    Sealed,

    /// <summary>From news.bank.test, signed d=bank.test (relaxed alignment through the Organizational Domain).</summary>
    NewsSignedByOrg,

    /// <summary>From news.bank.test, signed d=news.bank.test (identical: aligned whatever the records say).</summary>
    NewsSignedByItself,

    /// <summary>From news.bank.test, no signature.</summary>
    NewsUnsigned,

    /// <summary>From nodmarc.test (no DMARC record anywhere below the TLD), no signature.</summary>
    NoDmarcUnsigned,
}

/// <summary>The verdict configurations of the fault matrix.</summary>
public enum FaultConfig
{
    /// <summary>Defaults, with bl.test (blocking) and score.test (scoring only, no threshold) as IP lists.</summary>
    Default,

    /// <summary>As <see cref="Default"/>, with lists.test a trusted ARC sealer.</summary>
    TrustedSealer,

    /// <summary>As <see cref="Default"/>, with <c>QuarantineOnIprevFail</c>.</summary>
    IprevRule,
}

/// <summary>One row of the fault matrix.</summary>
/// <param name="Check">The check whose query is faulted.</param>
/// <param name="CouldChange">Whether the fault could change the action (so the verdict must wait).</param>
/// <param name="Query">The faulted query, <c>TYPE NAME</c>.</param>
/// <param name="Message">The message.</param>
/// <param name="MailFrom">The envelope sender.</param>
/// <param name="Config">The configuration.</param>
/// <param name="Action">The expected action on the first attempt.</param>
/// <param name="Recorded">Text the report must hold (the temperror recorded).</param>
/// <param name="Retry">For a retry, the checks the verdict waits for.</param>
public sealed record FaultCase(string Check, bool CouldChange, string Query, FaultMessage Message, string MailFrom, FaultConfig Config, string Action, string Recorded, string[]? Retry = null)
{
    /// <summary>A short name for test output.</summary>
    public string Name => $"{Check} ({(CouldChange ? "could change" : "cannot change")})";

    /// <summary>The configuration JSON sections for this case (Dns timeouts short, as tests need).</summary>
    /// <returns>The JSON text.</returns>
    public string ConfigJson() => $$"""
        {
          "Dns": { "QueryTimeout": "00:00:01", "Retries": 0, "QueryBudget": "00:00:02", "CacheSize": 0 },
          "Reputation": {
            "SkipPrivateAddresses": false,
            "Zones": [ { "Zone": "bl.test", "Blocks": true }, { "Zone": "score.test", "Weight": 1 } ]
          },
          "Arc": { "TrustedSealers": [ {{(Config == FaultConfig.TrustedSealer ? "\"lists.test\"" : string.Empty)}} ] },
          "Verdict": { "QuarantineOnIprevFail": {{(Config == FaultConfig.IprevRule ? "true" : "false")}} }
        }
        """;
}
