using System.Text;
using MailPipeline.Core;
using MailPipeline.Core.Authentication;

namespace MailPipeline.Cli.Check;

/// <summary>The human-readable form of an <see cref="AuthenticationReport"/>: one line per method, the action and its reasons, then the header fields.</summary>
internal static class CheckTextOutput
{
    public static async Task WriteAsync(TextWriter output, AuthenticationReport report)
    {
        var text = new StringBuilder();
        if (report.Spf is { } spf)
        {
            text.Append($"spf={spf.Result.ToRfc8601()} {spf.Identity}={spf.Domain ?? "(none)"}");
            AppendReason(text, spf.Reason);
        }

        if (report.Dkim.Count == 0)
        {
            text.AppendLine("dkim=none (no signature)");
        }

        foreach (var dkim in report.Dkim)
        {
            text.Append($"dkim={dkim.Result.ToRfc8601()} d={dkim.Domain ?? "?"} s={dkim.Selector ?? "?"} a={dkim.Algorithm ?? "?"}");
            AppendReason(text, dkim.PartialBody ? Join(dkim.Reason, "l= leaves part of the body unsigned") : dkim.Reason);
        }

        if (report.Arc is { } arc)
        {
            text.Append($"arc={arc.Result.ToRfc8601()}");
            if (arc.Instances > 0)
            {
                text.Append($" instances={arc.Instances} sealer={arc.Sealer ?? "?"}{(arc.TrustedSealer ? " (trusted)" : string.Empty)}");
            }

            text.AppendLine();
        }

        if (report.Dmarc is { } dmarc)
        {
            text.Append($"dmarc={dmarc.Result.ToRfc8601()} header.from={dmarc.Domain ?? "(none)"} policy={dmarc.Policy ?? "(none)"} disposition={dmarc.Disposition}");
            AppendReason(text, dmarc.Reason);
        }

        if (report.Iprev is { } iprev)
        {
            text.AppendLine($"iprev={iprev.Result.ToRfc8601()}{(iprev.Name is null ? string.Empty : " " + iprev.Name)}");
        }

        foreach (var list in report.Reputation)
        {
            text.AppendLine($"reputation {list.Zone} {list.Subject}: {Output.ListingText.Describe(list.Status, list.Codes, list.Meaning, allowList: false, list.Blocking, weight: null, list.Error)}");
        }

        text.AppendLine($"action: {report.Action}");
        foreach (var reason in report.Reasons)
        {
            text.AppendLine($"reason: {reason}");
        }

        if (report.ReceivedSpf is not null)
        {
            text.AppendLine(report.ReceivedSpf);
        }

        if (report.AuthenticationResults is not null)
        {
            text.AppendLine(report.AuthenticationResults);
        }

        // The header fields are folded with CRLF (as they go into a message); a terminal wants its own line ends.
        await output.WriteAsync(text.ToString().ReplaceLineEndings());
    }

    private static void AppendReason(StringBuilder text, string? reason) => text.AppendLine(string.IsNullOrWhiteSpace(reason) ? string.Empty : $" ({reason})");

    private static string Join(string? first, string second) => string.IsNullOrWhiteSpace(first) ? second : $"{first}; {second}";
}
