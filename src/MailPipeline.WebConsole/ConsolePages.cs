using System.Globalization;
using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using MailPipeline.Core;
using MailPipeline.Operations.Quarantine;
using MailPipeline.Pipeline.Contracts;
using Microsoft.AspNetCore.Antiforgery;

namespace MailPipeline.WebConsole;

/// <summary>
/// The console's HTML, written server-side: every value from a message (headers, addresses, reasons, ids) goes
/// through one HTML encoder, attribute values are quoted, and no page carries a script.
/// </summary>
internal static class ConsolePages
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    public static string Quarantine(string? who, AntiforgeryTokenSet token, QuarantineQuery query, QuarantinePage page, string? done, string? doneId)
    {
        var html = Start("Quarantine", who, token);
        html.Append("<h1>Quarantine <span class=\"muted\">").Append(page.Total.ToString("N0", CultureInfo.InvariantCulture)).Append(page.Total == 1 ? " message" : " messages").Append("</span></h1>");
        if (done is "released" or "deleted" && !string.IsNullOrEmpty(doneId))
        {
            html.Append("<p class=\"notice\" id=\"notice\">Message <span class=\"id\">").Append(E(doneId)).Append("</span> ")
                .Append(done == "released" ? "released: it is in deliver and goes to the next hop." : "deleted (the record of the deletion is kept).").Append("</p>");
        }

        html.Append("<form class=\"search\" method=\"get\" action=\"/\" role=\"search\">");
        Field(html, "sender", "Sender", query.Sender, "text");
        Field(html, "domain", "From domain", query.FromDomain, "text");
        Field(html, "recipient", "Recipient", query.Recipient, "text");
        Field(html, "reason", "Reason", query.Reason, "text");
        Field(html, "q", "Id or subject", query.Text, "text");
        Field(html, "since", "Received from", query.Since?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "date");
        Field(html, "until", "to", query.Until?.UtcDateTime.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture), "date");
        html.Append("<button type=\"submit\">Search</button> <a href=\"/\">Clear</a></form>");

        int first = page.Matching == 0 ? 0 : ((page.Page - 1) * page.PageSize) + 1;
        html.Append("<p class=\"muted\" id=\"count\">")
            .Append(query.IsEmpty ? string.Empty : page.Matching.ToString("N0", CultureInfo.InvariantCulture) + " matching; ")
            .Append(CultureInfo.InvariantCulture, $"showing {first:N0}–{first + page.Messages.Count - (page.Messages.Count > 0 ? 1 : 0):N0}, newest first.</p>");
        if (page.Messages.Count == 0)
        {
            html.Append("<p id=\"empty\">").Append(query.IsEmpty ? "No message in quarantine." : "No quarantined message matches.").Append("</p>");
        }
        else
        {
            html.Append("<table id=\"quarantine\"><thead><tr><th>Id</th><th>Received (UTC)</th><th>From</th><th>From domain</th><th>To</th><th>Subject</th><th>Size</th><th>Reasons</th></tr></thead><tbody>");
            foreach (var message in page.Messages)
            {
                html.Append("<tr><td class=\"id\"><a href=\"/messages/").Append(E(message.MessageId)).Append("\">").Append(E(message.MessageId)).Append("</a></td><td>")
                    .Append(E(message.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture))).Append("</td><td>")
                    .Append(E(message.From ?? message.MailFrom)).Append("</td><td class=\"domain\">")
                    .Append(E(message.FromDomain ?? DomainOf(message.From))).Append("</td><td>")
                    .Append(E(string.Join(", ", message.To))).Append("</td><td class=\"subject\">")
                    .Append(E(message.Subject)).Append("</td><td>")
                    .Append(E(Size(message.Size))).Append("</td><td>")
                    .Append(E(string.Join("; ", message.Reasons))).Append("</td></tr>");
            }

            html.Append("</tbody></table>");
        }

        html.Append("<nav class=\"pager\">");
        if (page.Page > 1)
        {
            html.Append("<a rel=\"prev\" href=\"").Append(E(PageLink(query, page.Page - 1))).Append("\">← Newer</a>");
        }

        html.Append(CultureInfo.InvariantCulture, $"<span>Page {page.Page:N0} of {page.Pages:N0}</span>");
        if (page.Page < page.Pages)
        {
            html.Append("<a rel=\"next\" href=\"").Append(E(PageLink(query, page.Page + 1))).Append("\">Older →</a>");
        }

        html.Append("</nav>");
        return End(html);
    }

    public static string Message(string? who, AntiforgeryTokenSet token, QuarantinedMessageDetails details)
    {
        var summary = details.Summary;
        string id = summary.MessageId;
        var html = Start("Message " + id, who, token);
        html.Append("<p><a href=\"/\">← Quarantine</a></p>");
        html.Append("<h1>").Append(E(summary.Subject ?? "(no subject)")).Append("</h1>");
        html.Append("<dl class=\"envelope\" id=\"summary\">");
        Term(html, "Id", id);
        Term(html, "From", summary.From);
        Term(html, "From domain", summary.FromDomain);
        Term(html, "Received (UTC)", summary.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss", CultureInfo.InvariantCulture));
        Term(html, "Size", Size(summary.Size));
        Term(html, "Reasons", string.Join("; ", summary.Reasons));
        html.Append("</dl>");

        html.Append("<div class=\"actions\">");
        ActionForm(html, token, id, "release", "Release…", "plain", confirm: false);
        ActionForm(html, token, id, "delete", "Delete…", "danger", confirm: false);
        html.Append("</div>");

        html.Append("<h2>Envelope</h2>");
        if (details.Envelope is { } envelope)
        {
            html.Append("<dl class=\"envelope\" id=\"envelope\">");
            Term(html, "MAIL FROM", envelope.MailFrom.Length == 0 ? "<> (null sender)" : envelope.MailFrom);
            Term(html, "RCPT TO", string.Join(", ", envelope.Recipients));
            Term(html, "Client", envelope.ClientAddress + (envelope.ClientHostName is { } name ? " (" + name + ")" : string.Empty));
            Term(html, "HELO", envelope.Helo);
            Term(html, "TLS", envelope.Tls is { } tls ? tls.Protocol + " " + tls.CipherSuite : "none");
            Term(html, "Received by", envelope.ReceivedBy);
            Term(html, "Received at", envelope.ReceivedAt.UtcDateTime.ToString("yyyy-MM-dd HH:mm:ss.fff", CultureInfo.InvariantCulture) + "Z");
            html.Append("</dl>");
        }
        else
        {
            html.Append("<p class=\"muted\">The envelope is no longer stored.</p>");
        }

        html.Append("<h2>Checks</h2>");
        Checks(html, details);

        html.Append("<h2>Authentication-Results</h2>");
        html.Append("<pre id=\"authentication-results\">").Append(E(details.AuthenticationResults.Count > 0 ? string.Join("\n", details.AuthenticationResults.Select(v => "Authentication-Results: " + v)) : details.Report?.AuthenticationResults ?? "(none)")).Append("</pre>");

        html.Append("<h2>Body</h2>");
        if (details.BodyProblem is { } problem)
        {
            html.Append("<p class=\"problem\">").Append(E(problem)).Append("</p>");
        }
        else
        {
            string src = "/messages/" + id + "/body";
            if (details.HtmlBody is not null)
            {
                html.Append("<p class=\"muted\">HTML, sanitised: scripts and remote content removed, links not followed. <a href=\"").Append(E(src)).Append("?view=text\" target=\"message-body\">Show as text</a> · <a href=\"").Append(E(src)).Append("\" target=\"message-body\">as HTML</a></p>");
            }

            // sandbox="" (no allow-*): no scripts, forms, popups, top navigation; the body's own CSP repeats it. Not named
            // "body": a named frame clobbers document.body (Document overrides built-ins with named properties).
            html.Append("<iframe class=\"body\" name=\"message-body\" id=\"message-body\" sandbox=\"\" referrerpolicy=\"no-referrer\" title=\"Message body\" src=\"").Append(E(src)).Append("\"></iframe>");
        }

        html.Append("<h2>Attachments</h2>");
        if (details.Attachments.Count == 0)
        {
            html.Append("<p class=\"muted\">None.</p>");
        }
        else
        {
            html.Append("<table id=\"attachments\"><thead><tr><th>File name</th><th>Type</th><th>Size (encoded)</th></tr></thead><tbody>");
            foreach (var attachment in details.Attachments)
            {
                html.Append("<tr><td>").Append(E(attachment.FileName ?? "(unnamed)")).Append("</td><td>").Append(E(attachment.ContentType)).Append("</td><td>").Append(E(Size(attachment.EncodedSize))).Append("</td></tr>");
            }

            html.Append("</tbody></table><p class=\"muted\">Attachments are listed, never opened here.</p>");
        }

        html.Append("<h2>Header</h2><pre id=\"header\">").Append(E(details.HeaderBlock.Replace("\r\n", "\n", StringComparison.Ordinal))).Append("</pre>");
        return End(html);
    }

    public static string Confirm(string? who, AntiforgeryTokenSet token, QuarantinedMessageDetails details, string action)
    {
        var summary = details.Summary;
        bool release = action == "release";
        var html = Start((release ? "Release " : "Delete ") + summary.MessageId, who, token);
        html.Append("<h1>").Append(release ? "Release this message?" : "Delete this message for good?").Append("</h1>");
        html.Append("<dl class=\"envelope\">");
        Term(html, "Id", summary.MessageId);
        Term(html, "From", summary.From);
        Term(html, "To", string.Join(", ", summary.To));
        Term(html, "Subject", summary.Subject);
        Term(html, "Reasons", string.Join("; ", summary.Reasons));
        html.Append("</dl><p>")
            .Append(release
                ? "It moves to deliver and is handed to the next hop, with your name recorded in its document and the audit log."
                : "The message is removed; its document stays, stamped with your name, as the record of the deletion.")
            .Append("</p><div class=\"actions\">");
        ActionForm(html, token, summary.MessageId, action, release ? "Release" : "Delete", release ? string.Empty : "danger", confirm: true);
        html.Append("<a href=\"/messages/").Append(E(summary.MessageId)).Append("\">Cancel</a></div>");
        return End(html);
    }

    public static string NotFound(string? who, AntiforgeryTokenSet token, string id, QuarantineWhereabouts? where)
    {
        var html = Start("Not in quarantine", who, token);
        html.Append("<p><a href=\"/\">← Quarantine</a></p><h1>Not in quarantine</h1><p class=\"problem\" id=\"problem\">");
        string stamp = where?.Stamp is { } s ? $" by {s.By} at {s.At.UtcDateTime:yyyy-MM-dd HH:mm:ss}Z" : string.Empty;
        html.Append(E(where?.State switch
        {
            QuarantineState.InDeliver => $"Message {id} is in deliver: " + (where.Stamp is null ? "delivered by its verdict." : "released" + stamp + "."),
            QuarantineState.Deleted => $"Message {id} was deleted" + stamp + ".",
            QuarantineState.InQuarantine => $"Message {id} is in quarantine but could not be read; try again.",
            _ when !QuarantineOperations.IsValidId(id) => "That is not a message id (letters, digits, '-' and '_').",
            _ => $"No message {id} in quarantine or deliver.",
        }));
        html.Append("</p>");
        return End(html);
    }

    public static string Login(AntiforgeryTokenSet token, string? returnTo, bool failed)
    {
        var html = Start("Sign in", null, token);
        html.Append("<h1>Sign in</h1>");
        if (failed)
        {
            html.Append("<p class=\"problem\" id=\"problem\">Wrong user name or password.</p>");
        }

        html.Append("<form method=\"post\" action=\"/login\" class=\"search\">");
        Hidden(html, token.FormFieldName, token.RequestToken);
        Hidden(html, "return", returnTo ?? "/");
        html.Append("<label>User <input type=\"text\" name=\"user\" id=\"user\" autocomplete=\"username\" required></label>");
        html.Append("<label>Password <input type=\"password\" name=\"password\" id=\"password\" autocomplete=\"current-password\" required></label>");
        html.Append("<button type=\"submit\" id=\"sign-in\">Sign in</button></form>");
        return End(html);
    }

    private static void Checks(StringBuilder html, QuarantinedMessageDetails details)
    {
        if (details.Report is not { } report)
        {
            html.Append("<p class=\"muted\">No verdict document.</p>");
            return;
        }

        html.Append("<table id=\"checks\"><thead><tr><th>Check</th><th>Result</th><th>About</th><th>Reason</th></tr></thead><tbody>");
        if (report.Spf is { } spf)
        {
            Check(html, "SPF", spf.Result, $"{spf.Identity}{(spf.Domain is null ? string.Empty : " (" + spf.Domain + ")")}", Join(spf.Reason, spf.Mechanism is null ? null : "mechanism " + spf.Mechanism));
        }

        foreach (var dkim in report.Dkim)
        {
            Check(html, "DKIM", dkim.Result, Join(dkim.Domain is null ? null : "d=" + dkim.Domain, dkim.Selector is null ? null : "s=" + dkim.Selector, dkim.Algorithm), Join(dkim.Reason, dkim.PartialBody ? "signs part of the body (l=)" : null));
        }

        if (report.Arc is { } arc)
        {
            Check(html, "ARC", arc.Result, Join(arc.Instances.ToString(CultureInfo.InvariantCulture) + " instance(s)", arc.Sealer is null ? null : "sealer " + arc.Sealer + (arc.TrustedSealer ? " (trusted)" : string.Empty)), null);
        }

        if (report.Iprev is { } iprev)
        {
            Check(html, "iprev", iprev.Result, iprev.Name, null);
        }

        foreach (var listing in report.Reputation)
        {
            html.Append("<tr><td>Reputation</td><td>").Append(E(listing.Listed ? "listed" : listing.Status)).Append("</td><td>")
                .Append(E(Join(listing.Zone, listing.Subject, listing.Blocking ? "blocking" : "scoring"))).Append("</td><td>")
                .Append(E(Join(listing.Meaning, listing.Codes.Count > 0 ? string.Join(" ", listing.Codes) : null, listing.Error))).Append("</td></tr>");
        }

        if (report.Dmarc is { } dmarc)
        {
            Check(html, "DMARC", dmarc.Result, Join(dmarc.Domain, dmarc.Policy is null ? null : "p=" + dmarc.Policy, "disposition " + dmarc.Disposition), dmarc.Reason);
        }

        html.Append("<tr><td>Verdict</td><td><strong>").Append(E(report.Action)).Append("</strong></td><td>")
            .Append(E(report.Rules.Count > 0 ? "rules: " + string.Join(", ", report.Rules) : null)).Append("</td><td>")
            .Append(E(string.Join("; ", report.Reasons))).Append("</td></tr>");
        html.Append("</tbody></table>");
        if (report.Error is { } error)
        {
            html.Append("<p class=\"problem\">").Append(E(error)).Append("</p>");
        }
    }

    private static void Check(StringBuilder html, string name, AuthResult result, string? about, string? reason)
    {
        string word = result.ToRfc8601();
        html.Append("<tr><td>").Append(name).Append("</td><td class=\"result-").Append(word).Append("\">").Append(word).Append("</td><td>")
            .Append(E(about)).Append("</td><td>").Append(E(reason)).Append("</td></tr>");
    }

    private static void ActionForm(StringBuilder html, AntiforgeryTokenSet token, string id, string action, string label, string style, bool confirm)
    {
        html.Append("<form method=\"post\" action=\"/messages/").Append(E(id)).Append('/').Append(action).Append("\">");
        Hidden(html, token.FormFieldName, token.RequestToken);
        if (confirm)
        {
            Hidden(html, "confirm", "yes");
        }

        html.Append("<button type=\"submit\" id=\"").Append(action).Append(confirm ? "-confirm" : string.Empty).Append('"');
        if (style.Length > 0)
        {
            html.Append(" class=\"").Append(style).Append('"');
        }

        html.Append('>').Append(E(label)).Append("</button></form>");
    }

    private static StringBuilder Start(string title, string? who, AntiforgeryTokenSet token)
    {
        var html = new StringBuilder(16 * 1024);
        html.Append("<!DOCTYPE html><html lang=\"en\"><head><meta charset=\"utf-8\"><meta name=\"viewport\" content=\"width=device-width, initial-scale=1\"><meta name=\"referrer\" content=\"no-referrer\"><title>")
            .Append(E(title)).Append(" · MailPipeline</title><link rel=\"stylesheet\" href=\"/console.css\"></head><body><header><a class=\"brand\" href=\"/\">MailPipeline</a><a href=\"/\">Quarantine</a>");
        if (who is not null)
        {
            html.Append("<span class=\"who\">").Append(E(who)).Append("</span><form method=\"post\" action=\"/logout\">");
            Hidden(html, token.FormFieldName, token.RequestToken);
            html.Append("<button type=\"submit\" class=\"plain\">Sign out</button></form>");
        }

        html.Append("</header><main>");
        return html;
    }

    private static string End(StringBuilder html) => html.Append("</main></body></html>").ToString();

    private static void Field(StringBuilder html, string name, string label, string? value, string type) =>
        html.Append("<label>").Append(label).Append(" <input type=\"").Append(type).Append("\" name=\"").Append(name).Append("\" id=\"").Append(name).Append("\" value=\"").Append(E(value)).Append("\"></label>");

    private static void Hidden(StringBuilder html, string name, string? value) =>
        html.Append("<input type=\"hidden\" name=\"").Append(E(name)).Append("\" value=\"").Append(E(value)).Append("\">");

    private static void Term(StringBuilder html, string term, string? value) =>
        html.Append("<dt>").Append(E(term)).Append("</dt><dd>").Append(E(value ?? "—")).Append("</dd>");

    private static string PageLink(QuarantineQuery query, int page)
    {
        var parts = new List<string>();
        void Add(string name, string? value)
        {
            if (!string.IsNullOrEmpty(value))
            {
                parts.Add(name + "=" + Uri.EscapeDataString(value));
            }
        }

        Add("sender", query.Sender);
        Add("domain", query.FromDomain);
        Add("recipient", query.Recipient);
        Add("reason", query.Reason);
        Add("q", query.Text);
        Add("since", query.Since?.UtcDateTime.ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("until", query.Until?.UtcDateTime.AddDays(-1).ToString("yyyy-MM-dd", CultureInfo.InvariantCulture));
        Add("page", page.ToString(CultureInfo.InvariantCulture));
        return "/?" + string.Join("&", parts);
    }

    private static string? Join(params string?[] parts) => parts.Where(p => !string.IsNullOrEmpty(p)) is var present && present.Any() ? string.Join(", ", present) : null;

    private static string? DomainOf(string? address) => address is not null && address.LastIndexOf('@') is int at and >= 0 ? address[(at + 1)..] : null;

    private static string Size(long octets) => octets switch
    {
        < 1024 => octets.ToString(CultureInfo.InvariantCulture) + " B",
        < 1024 * 1024 => (octets / 1024.0).ToString("0.0", CultureInfo.InvariantCulture) + " KB",
        _ => (octets / (1024.0 * 1024)).ToString("0.0", CultureInfo.InvariantCulture) + " MB",
    };

    private static string E(string? value) => value is null ? string.Empty : Encoder.Encode(value);
}
