using MailPipeline.Core.Dmarc;
using YamlDotNet.RepresentationModel;

namespace MailPipeline.Core.Tests.Dmarc;

public sealed class DmarcRecordTests
{
    /// <summary>
    /// Where RFC 9989 says something other than the upstream suite (written for RFC 7489 or a lenient
    /// parser), our expectation and the section that decides it.
    /// </summary>
    private static readonly Dictionary<string, (string Expected, string Why)> Rfc9989Overrides = new(StringComparer.Ordinal)
    {
        ["v=DMARC1; p=n;"] = ("discarded", "§4.8 dmarc-request is none/quarantine/reject only; no rua, so §4.10.1 discards it"),
        ["v=DMARC1; p=none; adkim=bob;"] = ("ok", "§4.8 syntax errors after v= are discarded in favour of defaults"),
        ["v=DMARC1; p=none; aspf=bob;"] = ("ok", "§4.8 defaults apply"),
        ["v=DMARC1; p=none; rf=bob;"] = ("ok", "rf was removed (Appendix C.5.2): an unknown tag, ignored"),
        ["v=DMARC1; p=none; ri=bob;"] = ("ok", "ri was removed: ignored"),
        ["v=DMARC1; p=none; pct=500;"] = ("ok", "pct was removed: ignored"),
        ["v=DMARC1; p=none; rf=000000000000000000000000000000000"] = ("ok", "rf was removed: ignored"),
        ["v=DMARC1; pct=100;"] = ("ok", "§4.7: a record without p is treated as p=none"),
        ["v=DMARC1"] = ("ok", "§4.7: a record without p is treated as p=none"),
        ["v=DMARC1; p=none; reject"] = ("ok", "§4.8: the malformed 'reject' fragment is ignored (authheaders says permerror)"),
    };

    public static TheoryData<string, string> ParseCases()
    {
        var data = new TheoryData<string, string>();
        foreach (var section in new[] { "record_parse", "record_parse_mail_dmarc" })
        {
            foreach (var c in DmarcCases.Cases(section))
            {
                data.Add(c.Text("record") ?? string.Empty, c.Text("expect")!);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(ParseCases))]
    public void Parse_SuiteRecord_MatchesRfc9989Expectation(string text, string upstream)
    {
        // arrange
        var expected = Rfc9989Overrides.TryGetValue(text, out var o) ? o.Expected : upstream switch
        {
            "ok" or "ok_with_warning" => "ok",
            "error_empty" or "error_bad_version" => "not-dmarc",
            "invalid" or "error_bad_value" or "permerror" or "error_no_required_p" => "discarded",
            _ => throw new InvalidOperationException($"unknown expectation {upstream}"),
        };

        // act
        var record = DmarcRecord.Parse(text);

        // assert
        var actual = record is null ? "not-dmarc" : record.HasInvalidPolicy && !record.HasValidAggregateReportUri ? "discarded" : "ok";
        Assert.Equal(expected, actual);
    }

    [Fact]
    public void Parse_MailDmarcParsedValues_MatchSuite()
    {
        foreach (var c in DmarcCases.Cases("record_parse_mail_dmarc").Where(c => c.Has("parsed")))
        {
            // arrange
            var parsed = (YamlMappingNode)c.Node("parsed")!;

            // act
            var record = DmarcRecord.Parse(c.Text("record")!)!;

            // assert
            Assert.Equal(parsed.Text("p"), record.Policy?.ToWord());
            Assert.Equal(parsed.Text("rua"), record.AggregateReportUris.FirstOrDefault()?.ToString());
            if (parsed.Text("ruf") is { } ruf)
            {
                Assert.Equal(ruf, record.FailureReportUris.Single().ToString());
            }
        }
    }

    [Fact]
    public void Parse_NoOptionalTags_AppliesRfc9989Defaults()
    {
        // act
        var record = DmarcRecord.Parse("v=DMARC1; p=reject")!;

        // assert
        Assert.Equal(DmarcAlignmentMode.Relaxed, record.DkimAlignment);
        Assert.Equal(DmarcAlignmentMode.Relaxed, record.SpfAlignment);
        Assert.Equal("0", record.FailureOptions);
        Assert.Equal(DmarcPsdFlag.Unspecified, record.Psd);
        Assert.False(record.Testing);
        Assert.Null(record.SubdomainPolicy);
        Assert.Null(record.NonExistentSubdomainPolicy);
    }

    [Fact]
    public void Parse_VersionNotFirst_IsNotADmarcRecord()
    {
        Assert.Null(DmarcRecord.Parse("p=reject; v=DMARC1"));
        Assert.Null(DmarcRecord.Parse("v=spf1 -all"));
        Assert.Null(DmarcRecord.Parse("v=DMARC1x; p=reject"));
    }

    [Fact]
    public void Parse_EveryTagWithWhitespaceAndCase_ReadsAllValues()
    {
        // act
        var record = DmarcRecord.Parse("v = DMARC1 ;P=Reject; sp = quarantine;np=none; psd=N; t=Y; adkim=S; aspf=s; fo=1:d; rua=mailto:a@x.test!10m, mailto:b@x.test; ruf=mailto:f@x.test; pct=50; rf=afrf; ri=3600")!;

        // assert
        Assert.Equal(DmarcPolicy.Reject, record.Policy);
        Assert.Equal(DmarcPolicy.Quarantine, record.SubdomainPolicy);
        Assert.Equal(DmarcPolicy.None, record.NonExistentSubdomainPolicy);
        Assert.Equal(DmarcPsdFlag.No, record.Psd);
        Assert.True(record.Testing);
        Assert.Equal(DmarcAlignmentMode.Strict, record.DkimAlignment);
        Assert.Equal(DmarcAlignmentMode.Strict, record.SpfAlignment);
        Assert.Equal("1:d", record.FailureOptions);
        Assert.Equal(["mailto:a@x.test", "mailto:b@x.test"], record.AggregateReportUris.Select(u => u.ToString()));
        Assert.Equal("10m", record.AggregateReportUris[0].ObsoleteSizeLimit);
        Assert.All(record.AggregateReportUris, u => Assert.True(u.IsSupported));
        Assert.Equal(3, record.Warnings.Count(w => w.Contains("removed by RFC 9989", StringComparison.Ordinal)));
    }

    public static TheoryData<string, string, bool> TagValueCases()
    {
        var data = new TheoryData<string, string, bool>();
        var section = DmarcCases.Section("tag_values");
        foreach (var (key, valid) in new[] { ("valid", true), ("invalid", false) })
        {
            foreach (var (tag, values) in ((YamlMappingNode)section[key]).Children)
            {
                foreach (var value in ((YamlSequenceNode)values).Children.Cast<YamlScalarNode>())
                {
                    data.Add(((YamlScalarNode)tag).Value!, value.Value!, valid);
                }
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(TagValueCases))]
    public void Parse_SuiteTagValue_IsAcceptedOrIgnoredAsRfc9989Says(string tag, string value, bool upstreamValid)
    {
        // arrange: RFC 9989 differs from Mail::DMARC for these.
        var valid = (tag, value) switch
        {
            ("v", "dmarc1") => false, // §4.7: the v value is case sensitive.
            ("fo", "0:1:d:s") => false, // §4.8 dmarc-fo: 0 and 1 are mutually exclusive.
            _ => upstreamValid,
        };
        var text = tag switch
        {
            "v" => $"v={value}; p=none",
            "p" => $"v=DMARC1; p={value}",
            _ => $"v=DMARC1; p=none; {tag}={value}",
        };

        // act
        var record = DmarcRecord.Parse(text);

        // assert
        switch (tag)
        {
            case "v":
                Assert.Equal(valid, record is not null);
                break;
            case "p":
            case "sp":
            case "np":
                Assert.NotNull(record);
                Assert.Equal(!valid, record.HasInvalidPolicy);
                var parsed = tag == "p" ? record.Policy : tag == "sp" ? record.SubdomainPolicy : record.NonExistentSubdomainPolicy;
                Assert.Equal(valid ? value.ToLowerInvariant() : null, parsed?.ToWord());
                break;
            case "psd":
                Assert.Equal(valid ? value.ToLowerInvariant() switch { "y" => DmarcPsdFlag.Yes, "n" => DmarcPsdFlag.No, _ => DmarcPsdFlag.Unspecified } : DmarcPsdFlag.Unspecified, record!.Psd);
                Assert.Equal(!valid, record.Warnings.Any(w => w.StartsWith("invalid psd", StringComparison.Ordinal)));
                break;
            case "t":
                Assert.Equal(valid && value.Equals("y", StringComparison.OrdinalIgnoreCase), record!.Testing);
                Assert.Equal(!valid, record.Warnings.Any(w => w.StartsWith("invalid t", StringComparison.Ordinal)));
                break;
            case "adkim":
            case "aspf":
                var mode = tag == "adkim" ? record!.DkimAlignment : record!.SpfAlignment;
                Assert.Equal(valid && value.Equals("s", StringComparison.OrdinalIgnoreCase) ? DmarcAlignmentMode.Strict : DmarcAlignmentMode.Relaxed, mode);
                Assert.Equal(!valid, record.Warnings.Any(w => w.StartsWith("invalid " + tag, StringComparison.Ordinal)));
                break;
            case "fo":
                Assert.Equal(valid ? value.ToLowerInvariant() : "0", record!.FailureOptions);
                break;
            case "rua":
            case "ruf":
                var uris = tag == "rua" ? record!.AggregateReportUris : record!.FailureReportUris;
                var uri = Assert.Single(uris);
                Assert.DoesNotContain('!', uri.ToString());
                if (!valid)
                {
                    Assert.False(uri.IsSupported, $"{value} must not be a usable report address");
                }

                break;
            case "pct":
            case "rf":
            case "ri":
                // Removed by RFC 9989: accepted and ignored whatever the value.
                Assert.NotNull(record);
                Assert.False(record.HasInvalidPolicy);
                Assert.Contains(record.Warnings, w => w.StartsWith(tag + " was removed", StringComparison.Ordinal));
                break;
            default:
                throw new InvalidOperationException($"untested tag {tag}");
        }
    }
}
