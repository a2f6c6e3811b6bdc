using System.CommandLine;
using System.Globalization;
using System.Net;
using System.Text.Json;
using System.Text.Json.Serialization;
using MailPipeline.Core;
using MailPipeline.Core.Iprev;
using MailPipeline.Core.Reputation;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline reputation --ip ADDR [--helo NAME] [--mail-from ADDR] [--from ADDR] [--dnsbl ZONE]...
/// [--dnswl ZONE]... [--rhsbl ZONE]... [--resolver HOST:PORT] [--json]</c>: iprev and the DNS lists for one
/// client, as the pipeline would see them. Exit code 0 when every lookup gave an answer, 1 when a list
/// or iprev had a temporary error or a list refused the query (so scripts never take "error" for "clean").
/// </summary>
internal static class ReputationCommand
{
    private static readonly JsonSerializerOptions Json = new()
    {
        WriteIndented = true,
        Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        PropertyNamingPolicy = JsonNamingPolicy.CamelCase,
        Converters = { new JsonStringEnumConverter(JsonNamingPolicy.CamelCase) },
    };

    /// <summary>
    /// <c>--dnsbl ZONE</c>: an RFC 5782 IP block list with the generic codes 127.0.0.2-127.0.0.255; a listing blocks
    /// (quarantine), like Postfix's <c>reject_rbl_client</c>. Shared with <c>check</c> and <c>serve</c>: one rule everywhere.
    /// </summary>
    public static Option<string[]> DnsblOption() => ZoneOption("--dnsbl", "An RFC 5782 IP block list (repeatable; codes 127.0.0.2-127.0.0.255); a listing blocks (quarantine). Scoring-only lists go in the Reputation section of --config.");

    /// <summary><c>--dnswl ZONE</c>: an RFC 8904 IP allow list.</summary>
    public static Option<string[]> DnswlOption() => ZoneOption("--dnswl", "An IP allow list (DNSWL, RFC 8904) to query (repeatable); any 127.0.0.0/8 answer but 127.0.0.1 and 127.255.255.x counts.");

    /// <summary><c>--rhsbl ZONE</c>: a domain block list queried for the HELO, MAIL FROM and From domains; a listing blocks, as for <c>--dnsbl</c>.</summary>
    public static Option<string[]> RhsblOption() => ZoneOption("--rhsbl", "A domain block list (RHSBL) for the HELO, MAIL FROM and From domains (repeatable; codes 127.0.0.2-127.0.0.255); a listing blocks (quarantine).");

    /// <summary>
    /// Adds the zones given on the command line to <paramref name="options"/> (after any configured ones). The one rule
    /// of <c>check</c>, <c>reputation</c> and <c>serve</c>: a block list named on the command line blocks when it lists
    /// the client (or a domain); an allow list cancels blocking listings (<c>Reputation:AllowListOverridesBlock</c>).
    /// </summary>
    public static void AddZones(ReputationOptions options, IEnumerable<string>? dnsbl, IEnumerable<string>? dnswl = null, IEnumerable<string>? rhsbl = null)
    {
        ArgumentNullException.ThrowIfNull(options);
        foreach (var zone in dnsbl ?? [])
        {
            options.Zones.Add(new DnsListOptions { Zone = zone, Blocks = true });
        }

        foreach (var zone in dnswl ?? [])
        {
            options.Zones.Add(new DnsListOptions { Zone = zone, Kind = DnsListKind.Allow });
        }

        foreach (var zone in rhsbl ?? [])
        {
            options.Zones.Add(new DnsListOptions { Zone = zone, Type = DnsListType.Domain, Blocks = true });
        }
    }

    public static Command Create()
    {
        var ip = new Option<string>("--ip")
        {
            Description = "The SMTP client's address (IPv4 or IPv6).",
            HelpName = "ADDR",
            Required = true,
            Validators =
            {
                result =>
                {
                    if (!IPAddress.TryParse(result.GetValueOrDefault<string>() ?? string.Empty, out _))
                    {
                        result.AddError($"'{result.GetValueOrDefault<string>()}' is not an IP address.");
                    }
                },
            },
        };
        var helo = new Option<string?>("--helo") { Description = "The HELO/EHLO name (for domain lists).", HelpName = "NAME" };
        var mailFrom = new Option<string?>("--mail-from") { Description = "The MAIL FROM address or domain (for domain lists).", HelpName = "ADDR" };
        var from = new Option<string?>("--from") { Description = "The From header address or domain (for domain lists).", HelpName = "ADDR" };
        var dnsbl = DnsblOption();
        var dnswl = DnswlOption();
        var rhsbl = RhsblOption();
        var resolver = CommonOptions.Resolver();
        var json = CommonOptions.Json();
        var command = new Command("reputation", "Check a client IP's iprev and its DNS block/allow list listings (no list is queried unless given).")
        {
            ip, helo, mailFrom, from, dnsbl, dnswl, rhsbl, resolver, json,
        };
        command.SetAction(async (parse, cancellationToken) =>
        {
            // An explicit lookup: private and loopback addresses (e.g. the RFC 5782 test entry 127.0.0.2) are queried too.
            var options = new ReputationOptions { SkipPrivateAddresses = false };
            AddZones(options, parse.GetValue(dnsbl), parse.GetValue(dnswl), parse.GetValue(rhsbl));
            var error = parse.InvocationConfiguration.Error;
            var dns = CommonOptions.CreateResolver(parse.GetValue(resolver));
            ReputationChecker checker;
            try
            {
                checker = new ReputationChecker(dns, options);
            }
            catch (ArgumentException ex)
            {
                await error.WriteLineAsync($"mailpipeline: {ex.Message}");
                return MailPipelineCommand.BadArguments;
            }

            var address = IPAddress.Parse(parse.GetValue(ip)!);
            var iprevTask = new IprevChecker(dns).CheckAsync(address, cancellationToken);
            var reputationTask = checker.CheckAsync(address, parse.GetValue(helo), parse.GetValue(mailFrom), parse.GetValue(from), cancellationToken);
            var iprev = await iprevTask;
            var reputation = await reputationTask;

            var entries = new List<AuthMethodResult> { iprev.ToAuthMethodResult() };
            entries.AddRange(reputation.ToAuthMethodResults());
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(
                    new
                    {
                        ip = iprev.ClientIp.ToString(),
                        iprev = new { result = iprev.Result.ToRfc8601(), iprev.PtrNames, iprev.ValidatedNames, iprev.Reason },
                        reputation = new { reputation.Score, blocked = reputation.IsBlocked, reputation.Lists },
                        authenticationResults = entries.Select(Format),
                    },
                    Json));
            }
            else
            {
                await WriteTextAsync(output, iprev, reputation, entries, checker.IsEnabled);
            }

            var failed = iprev.Result == AuthResult.TempError || reputation.HasTempErrors || reputation.HasErrors;
            return failed ? MailPipelineCommand.Failure : MailPipelineCommand.Success;
        });
        return command;
    }

    private static async Task WriteTextAsync(TextWriter output, IprevResult iprev, ReputationResult reputation, List<AuthMethodResult> entries, bool listsConfigured)
    {
        var ptr = iprev.PtrNames.Count == 0 ? "none" : string.Join(", ", iprev.PtrNames);
        await output.WriteLineAsync($"iprev: {iprev.Result.ToRfc8601()} (PTR: {ptr}; validated: {iprev.ValidatedName ?? "none"}){(iprev.Reason is null ? string.Empty : " - " + iprev.Reason)}");
        if (!listsConfigured)
        {
            await output.WriteLineAsync("lists: none queried (no list is enabled by default: add --dnsbl ZONE, --dnswl ZONE or --rhsbl ZONE)");
        }

        foreach (var list in reputation.Lists)
        {
            var kind = list.Kind == DnsListKind.Allow ? "allow" : "block";
            var identity = list.Identities == DomainIdentities.None ? string.Empty : $" [{list.Identities}]";
            string status = list.Status switch
            {
                DnsListStatus.Listed => "listed",
                DnsListStatus.NotListed => "not-listed",
                DnsListStatus.TempError => "temperror",
                _ => "error",
            };
            string line = Output.ListingText.Describe(status, list.Codes, list.Meanings.Count == 0 ? null : string.Join(", ", list.Meanings), list.Kind == DnsListKind.Allow, list.Blocks, list.Weight, list.Error)
                + (list.Reason is null ? string.Empty : $" \"{Output.TerminalText.Printable(list.Reason)}\"");
            await output.WriteLineAsync($"{list.Zone} ({kind} list) {list.Subject}{identity}: {line}");
        }

        await output.WriteLineAsync($"reputation: {Output.ListingText.Outcome(reputation.IsBlocked, reputation.Score, reputation.Lists.Any(l => l.IsListed && l.Blocks))}");
        foreach (var entry in entries)
        {
            await output.WriteLineAsync("Authentication-Results entry: " + Format(entry));
        }
    }

    /// <summary>A display form of an entry (<c>iprev=pass (comment) policy.iprev=...</c>); the pipeline's composer writes the header itself.</summary>
    private static string Format(AuthMethodResult entry)
    {
        var text = $"{entry.Method}={entry.Result.ToRfc8601()}";
        if (entry.Comment is not null)
        {
            text += $" ({entry.Comment.Replace("(", "[", StringComparison.Ordinal).Replace(")", "]", StringComparison.Ordinal)})";
        }

        foreach (var property in entry.Properties ?? [])
        {
            var value = property.Value.Any(c => c is ' ' or ';' or '"' or '(' or ')' or '\\' or '=') || property.Value.Length == 0
                ? "\"" + property.Value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal) + "\""
                : property.Value;
            text += $" {property.Type}.{property.Name}={value}";
        }

        return text;
    }

    private static Option<string[]> ZoneOption(string name, string description) => new(name)
    {
        Description = description,
        HelpName = "ZONE",
        AllowMultipleArgumentsPerToken = false,
        Arity = ArgumentArity.ZeroOrMore,
    };
}
