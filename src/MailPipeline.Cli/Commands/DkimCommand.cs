using System.CommandLine;
using System.Globalization;
using System.Text;
using System.Text.Json;
using MailPipeline.Core;
using MailPipeline.Core.Arc;
using MailPipeline.Core.AuthenticationResults;
using MailPipeline.Core.Dkim;

namespace MailPipeline.Cli.Commands;

/// <summary>
/// <c>mailpipeline dkim [--resolver HOST:PORT] [--json] [--trusted-sealer D]... FILE|-</c>: verifies every
/// DKIM-Signature of a message and its ARC chain, printing one line per signature and one for ARC.
/// </summary>
internal static class DkimCommand
{
    private static readonly JsonSerializerOptions JsonOptions = new() { WriteIndented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var file = new Argument<string>("file") { Description = "The message file as received (RFC 5322, CRLF or LF), or - for standard input." };
        var resolver = CommonOptions.Resolver();
        var json = CommonOptions.Json();
        var trusted = new Option<string[]>("--trusted-sealer")
        {
            Description = "An ARC sealer domain to mark as trusted (repeatable).",
            HelpName = "DOMAIN",
            AllowMultipleArgumentsPerToken = false,
        };
        var hostName = CommonOptions.HostName();
        var command = new Command("dkim", "Verify a message's DKIM signatures (RFC 6376, 8301, 8463) and ARC chain (RFC 8617); prints the Authentication-Results entries this host would add.") { file, resolver, json, trusted, hostName };
        command.SetAction(async (parse, cancellationToken) =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            var path = parse.GetValue(file)!;
            RawMessage message;
            try
            {
                if (path == "-")
                {
                    await using var stdin = Console.OpenStandardInput();
                    message = await RawMessage.ReadAsync(stdin, cancellationToken);
                }
                else
                {
                    message = RawMessage.Parse(await File.ReadAllBytesAsync(path, cancellationToken));
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                await error.WriteLineAsync($"mailpipeline: cannot read {path}: {ex.Message}");
                return MailPipelineCommand.Failure;
            }

            var dns = CommonOptions.CreateResolver(parse.GetValue(resolver));
            var arcOptions = new ArcOptions();
            foreach (var domain in parse.GetValue(trusted) ?? [])
            {
                arcOptions.TrustedSealers.Add(domain);
            }

            var dkim = await new DkimChecker(dns, new DkimOptions()).VerifyAsync(message, cancellationToken);
            var arc = await new ArcChecker(dns, arcOptions).VerifyAsync(message, cancellationToken);
            // The field this host would add: its name (--hostname, default the machine's FQDN) is the authserv-id.
            var composer = new AuthenticationResultsComposer(new AuthenticationResultsOptions { AuthServId = parse.GetValue(hostName) ?? LocalHost.FullyQualifiedName });
            string authenticationResults = composer.Compose(dkim.ToAuthMethodResults().Append(arc.ToAuthMethodResult()));
            if (parse.GetValue(json))
            {
                await output.WriteLineAsync(JsonSerializer.Serialize(ToJson(dkim, arc, authenticationResults), JsonOptions));
            }
            else
            {
                foreach (var entry in dkim.ToAuthMethodResults())
                {
                    await output.WriteLineAsync(Format(entry));
                }

                await output.WriteLineAsync(Format(arc.ToAuthMethodResult()));
                foreach (var set in arc.Sets)
                {
                    await output.WriteLineAsync(string.Create(CultureInfo.InvariantCulture, $"  arc i={set.Instance} d={set.SealerDomain} s={set.Selector} cv={set.ChainValidation} seal={set.SealResult.ToRfc8601()}{(set.IsTrustedSealer ? " trusted" : string.Empty)}"));
                }

                await output.WriteLineAsync(authenticationResults.ReplaceLineEndings());
            }

            return MailPipelineCommand.Success;
        });
        return command;
    }

    /// <summary>One RFC 8601 resinfo, e.g. <c>dkim=fail reason="body hash did not verify" header.d=example.com</c>.</summary>
    internal static string Format(AuthMethodResult result)
    {
        var text = new StringBuilder();
        text.Append(result.Method).Append('=').Append(result.Result.ToRfc8601());
        if (result.Comment is not null)
        {
            text.Append(" (").Append(result.Comment.Replace("(", "[", StringComparison.Ordinal).Replace(")", "]", StringComparison.Ordinal)).Append(')');
        }

        if (result.Reason is not null)
        {
            text.Append(" reason=\"").Append(result.Reason.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)).Append('"');
        }

        foreach (var property in result.Properties ?? [])
        {
            var value = property.Value;
            // RFC 8601 pvalue: a token, an addr-spec-like [local-part] "@" domain, or a quoted-string.
            var needsQuotes = value.Length == 0 || value.Any(c => c <= ' ' || c >= 0x7F || "()<>,;:\\\"/[]?=".Contains(c, StringComparison.Ordinal));
            text.Append(' ').Append(property.Type).Append('.').Append(property.Name).Append('=');
            text.Append(needsQuotes ? $"\"{value.Replace("\\", "\\\\", StringComparison.Ordinal).Replace("\"", "\\\"", StringComparison.Ordinal)}\"" : value);
        }

        return text.ToString();
    }

    private static object ToJson(DkimCheckResult dkim, ArcCheckResult arc, string authenticationResults) => new
    {
        dkim = dkim.Signatures.Select(s => new
        {
            index = s.Index,
            result = s.Result.ToRfc8601(),
            reason = s.Reason.ToString(),
            detail = s.Detail,
            d = s.Domain,
            i = s.Identity,
            s = s.Selector,
            a = s.Algorithm,
            b = s.SignaturePrefix,
            c = s.Canonicalization,
            l = s.BodyLengthLimit,
            coversPartialBody = s.CoversPartialBody,
            keyBits = s.KeyBits,
            keyTesting = s.KeyTesting,
            signedAt = s.SignedAt,
            expiresAt = s.ExpiresAt,
        }),
        arc = new
        {
            result = arc.ChainResult.ToRfc8601(),
            instances = arc.InstanceCount,
            oldestPass = arc.OldestPass,
            reason = arc.Reason,
            passesFromTrustedSealer = arc.PassesFromTrustedSealer,
            sets = arc.Sets.Select(set => new
            {
                i = set.Instance,
                d = set.SealerDomain,
                s = set.Selector,
                a = set.Algorithm,
                cv = set.ChainValidation,
                seal = set.SealResult.ToRfc8601(),
                trusted = set.IsTrustedSealer,
            }),
        },
        authenticationResults,
    };
}
