using System.Text;
using System.Text.Encodings.Web;
using System.Text.Unicode;
using AngleSharp.Dom;
using Ganss.Xss;

namespace MailPipeline.WebConsole;

/// <summary>
/// Renders a quarantined body as a standalone HTML document for the console's sandboxed frame: text bodies
/// escaped in a <c>pre</c>; HTML bodies through HtmlSanitizer (no scripts, event handlers, forms, frames, objects or
/// style sheets), with every remote URL removed (images, backgrounds: a remote load would tell the sender the message
/// was opened) and links disarmed (the target is shown, not followed). The frame's own sandbox and CSP are the second
/// line of defence (see <see cref="OperatorConsole"/>).
/// </summary>
public static class MessageBodyRenderer
{
    private static readonly HtmlEncoder Encoder = HtmlEncoder.Create(UnicodeRanges.All);

    /// <summary>The text body as an HTML document.</summary>
    /// <param name="text">The text.</param>
    /// <returns>The document.</returns>
    public static string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return Document("<pre style=\"white-space:pre-wrap;overflow-wrap:anywhere;font:13px/1.45 ui-monospace,Menlo,Consolas,monospace\">" + Encoder.Encode(text) + "</pre>");
    }

    /// <summary>The HTML body, sanitised, as an HTML document.</summary>
    /// <param name="html">The HTML the sender wrote.</param>
    /// <returns>The document.</returns>
    public static string Html(string html)
    {
        ArgumentNullException.ThrowIfNull(html);
        var sanitizer = new HtmlSanitizer();
        sanitizer.AllowedSchemes.Clear();
        sanitizer.AllowedSchemes.Add("data"); // inline images only; http(s) images are remote content
        sanitizer.AllowedSchemes.Add("http");
        sanitizer.AllowedSchemes.Add("https");
        sanitizer.AllowedSchemes.Add("mailto");
        sanitizer.AllowedTags.Remove("form");
        sanitizer.AllowedTags.Remove("input");
        sanitizer.AllowedTags.Remove("button");
        sanitizer.AllowedTags.Remove("textarea");
        sanitizer.AllowedTags.Remove("select");
        sanitizer.AllowedAttributes.Remove("action");
        sanitizer.AllowedAttributes.Remove("formaction");
        sanitizer.AllowedAtRules.Clear();
        sanitizer.FilterUrl += (_, e) =>
        {
            bool link = string.Equals(e.Tag?.TagName, "A", StringComparison.OrdinalIgnoreCase) || string.Equals(e.Tag?.TagName, "AREA", StringComparison.OrdinalIgnoreCase);
            bool inline = e.OriginalUrl.TrimStart().StartsWith("data:image/", StringComparison.OrdinalIgnoreCase) && !e.OriginalUrl.Contains("svg", StringComparison.OrdinalIgnoreCase);
            if (!link && !inline)
            {
                e.SanitizedUrl = null; // remote (or script-capable SVG) resource: never loaded
            }
        };
        sanitizer.PostProcessNode += (_, e) =>
        {
            if (e.Node is IElement { TagName: "A" or "AREA" } anchor && anchor.GetAttribute("href") is { } href)
            {
                // Shown, not followed: a click in the frame would load the sender's page.
                anchor.RemoveAttribute("href");
                anchor.SetAttribute("title", href);
            }
        };
        return Document(sanitizer.Sanitize(html));
    }

    private static string Document(string body) =>
        new StringBuilder("<!DOCTYPE html><html><head><meta charset=\"utf-8\"><meta name=\"referrer\" content=\"no-referrer\"><title>Message body</title></head><body>")
            .Append(body)
            .Append("</body></html>")
            .ToString();
}
