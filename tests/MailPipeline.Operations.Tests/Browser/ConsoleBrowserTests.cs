using System.Net;
using MailPipeline.Pipeline.Contracts;
using OpenQA.Selenium;

namespace MailPipeline.Operations.Tests.Browser;

/// <summary>
/// The operator console in a real browser (headless chromium) against a running serve: the quarantine list on
/// <c>/</c>, search, a message's page, release and delete with confirmation, and hostile content shown inert.
/// </summary>
[Trait("Category", "Integration")]
public sealed class ConsoleBrowserTests(ConsoleFixture console) : IClassFixture<ConsoleFixture>
{
    private IWebDriver Driver => console.Browser.Driver;

    [Fact(Timeout = 180_000)]
    public async Task Browser_Root_ListsQuarantinedMessagesServerRendered()
    {
        // arrange
        string first = await console.QuarantineAsync("news@list-one.example", ConsoleFixture.Message("News <news@list-one.example>", "Weekly digest", "Hello."));
        string second = await console.QuarantineAsync("billing@list-two.example", ConsoleFixture.Message("Billing <billing@list-two.example>", "Invoice 42", "Pay."));

        // act
        console.OpenList("/", first, second);

        // assert: the ids and From domains are in the page as served (no script builds it: the console has none)
        var table = console.Browser.Find(By.Id("quarantine"));
        Assert.Contains(first, table.Text, StringComparison.Ordinal);
        Assert.Contains(second, table.Text, StringComparison.Ordinal);
        Assert.Contains("list-one.example", table.Text, StringComparison.Ordinal);
        Assert.Contains("list-two.example", table.Text, StringComparison.Ordinal);
        Assert.Contains("bl.console.test", table.Text, StringComparison.Ordinal);
        Assert.Empty(Driver.FindElements(By.TagName("script")));
        Assert.Contains(first, Driver.PageSource, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Browser_Search_ByFromDomainAndRecipient_ShowsOnlyMatches()
    {
        // arrange
        string wanted = await console.QuarantineAsync("sales@wanted-domain.example", ConsoleFixture.Message("Sales <sales@wanted-domain.example>", "Offer", "Buy."));
        string other = await console.QuarantineAsync("x@other-domain.example", ConsoleFixture.Message("X <x@other-domain.example>", "Other", "No."));
        console.OpenList("/", wanted, other);

        // act: type into the search form and submit it, as an operator does
        console.Browser.Find(By.Id("domain")).SendKeys("wanted-domain");
        console.Browser.Find(By.Id("recipient")).SendKeys("reviewer@");
        console.Browser.Find(By.CssSelector("form.search button[type=submit]")).Click();

        // assert
        string table = console.Browser.Find(By.Id("quarantine")).Text;
        Assert.Contains(wanted, table, StringComparison.Ordinal);
        Assert.DoesNotContain(other, table, StringComparison.Ordinal);
        Assert.Contains("1 matching", console.Browser.Find(By.Id("count")).Text, StringComparison.Ordinal);
        Assert.Contains("domain=wanted-domain", Driver.Url, StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Browser_OpenMessage_ShowsEnvelopeChecksAuthenticationResultsHeaderBodyAndAttachments()
    {
        // arrange: a multipart message with a text body and a PDF attachment
        string body = "--b1\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nPlease review the attached statement.\r\n--b1\r\nContent-Type: application/pdf; name=\"statement.pdf\"\r\nContent-Disposition: attachment; filename=\"statement.pdf\"\r\nContent-Transfer-Encoding: base64\r\n\r\nJVBERi0xLjQKJcfsj6IKJSVFT0YK\r\n--b1--";
        string id = await console.QuarantineAsync("bank@statements.example", ConsoleFixture.Message("Bank <bank@statements.example>", "Your statement", body, "multipart/mixed; boundary=\"b1\""));

        // act: open it from the list
        console.OpenList("/?q=" + id, id);
        console.Browser.Find(By.LinkText(id)).Click();
        string envelope = console.Browser.Find(By.Id("envelope")).Text;

        // assert
        Assert.Equal("Your statement", console.Browser.Find(By.TagName("h1")).Text);
        Assert.Contains("bank@statements.example", envelope, StringComparison.Ordinal);
        Assert.Contains("reviewer@mx.test", envelope, StringComparison.Ordinal);
        Assert.Contains("127.0.0.1", envelope, StringComparison.Ordinal);
        Assert.Contains("client.test", envelope, StringComparison.Ordinal);
        string checks = console.Browser.Find(By.Id("checks")).Text;
        foreach (string expected in new[] { "SPF", "DMARC", "Reputation", "bl.console.test", "Verdict", "quarantine" })
        {
            Assert.Contains(expected, checks, StringComparison.Ordinal);
        }

        Assert.StartsWith("Authentication-Results: mx.test;", console.Browser.Find(By.Id("authentication-results")).Text, StringComparison.Ordinal);
        Assert.Contains("Subject: Your statement", console.Browser.Find(By.Id("header")).Text, StringComparison.Ordinal);
        Assert.Contains("statement.pdf", console.Browser.Find(By.Id("attachments")).Text, StringComparison.Ordinal);
        Assert.Contains("application/pdf", console.Browser.Find(By.Id("attachments")).Text, StringComparison.Ordinal);
        Driver.SwitchTo().Frame("message-body");
        Assert.Contains("Please review the attached statement.", console.Browser.Find(By.TagName("body")).Text, StringComparison.Ordinal);
        Driver.SwitchTo().DefaultContent();
    }

    [Fact(Timeout = 180_000)]
    public async Task Browser_HostileHeadersAndHtmlBody_ShownInert()
    {
        // arrange: scripts in the Subject and the From display name, an encoded-word Subject that decodes to a line
        // break and a header, and an HTML body with every usual trick pointing at a canary listener.
        string canary = console.Canary.Url;
        string pwn = "document.body.appendChild(document.createElement('pwned'));alert(1)";
        string html = $$"""
            <html><head><meta http-equiv="refresh" content="0;url={{canary}}/meta"><link rel="stylesheet" href="{{canary}}/link.css">
            <style>@import url({{canary}}/import.css); body { background: url({{canary}}/style-bg) }</style>
            <script>{{pwn}}; fetch('{{canary}}/fetch')</script></head>
            <body onload="{{pwn}}"><p id="greeting">Hello reviewer</p>
            <img src="{{canary}}/pixel.gif" width="1" height="1"><img src="x" onerror="{{pwn}}">
            <div style="background-image: url('{{canary}}/div-bg')">styled</div>
            <a id="js" href="javascript:{{pwn}}">click me</a> <a id="remote" href="{{canary}}/link">remote link</a>
            <svg xmlns="http://www.w3.org/2000/svg" onload="{{pwn}}"><script>{{pwn}}</script><image href="{{canary}}/svg-image"/></svg>
            <iframe src="{{canary}}/frame"></iframe><object data="{{canary}}/object"></object><embed src="{{canary}}/embed">
            <form action="{{canary}}/form"><input name="q"><button>go</button></form>
            <math><mtext><table><mglyph><style><img src="{{canary}}/mxss" onerror="{{pwn}}"></style></mglyph></table></mtext></math>
            </body></html>
            """;
        string subject = $"<script>{pwn}</script> urgent";
        string encodedSubject = "=?utf-8?B?" + Convert.ToBase64String("Line\r\nX-Injected: <b>yes</b>"u8.ToArray()) + "?=";
        string id = await console.QuarantineAsync("ceo@hostile.example", ConsoleFixture.Message($"\"<img src=x onerror={pwn}>\" <ceo@hostile.example>", subject, html, "text/html; charset=utf-8"));
        string encodedId = await console.QuarantineAsync("ceo@hostile.example", ConsoleFixture.Message("CEO <ceo@hostile.example>", encodedSubject, "plain"));

        // act: the list, the message page (with the body frame), the body as text
        string listed = console.OpenList("/?domain=hostile.example", id, encodedId);
        bool dialogOnList = console.Browser.HasDialog();
        console.Browser.Find(By.LinkText(id)).Click();
        string header = console.Browser.Find(By.Id("header")).Text;
        await Task.Delay(1500); // time for anything the body could load
        bool dialogOnMessage = console.Browser.HasDialog();
        string heading = console.Browser.Find(By.TagName("h1")).Text;
        int pwnedOnPage = Driver.FindElements(By.TagName("pwned")).Count;
        Driver.SwitchTo().Frame("message-body");
        string frameText = console.Browser.Find(By.TagName("body")).Text;
        int pwnedInFrame = Driver.FindElements(By.TagName("pwned")).Count;
        int scriptsInFrame = Driver.FindElements(By.TagName("script")).Count;
        int framesInFrame = Driver.FindElements(By.TagName("iframe")).Count;
        var jsLink = Driver.FindElements(By.LinkText("click me")).FirstOrDefault();
        string? jsHref = jsLink?.GetAttribute("href");
        var remote = Driver.FindElements(By.LinkText("remote link")).FirstOrDefault();
        remote?.Click(); // a link in the body is shown, not followed
        await Task.Delay(500);
        Driver.SwitchTo().DefaultContent();
        Driver.Navigate().GoToUrl(console.BaseUrl + "/messages/" + encodedId);
        console.Browser.Find(By.Id("header"));
        string encodedHeading = console.Browser.Find(By.TagName("h1")).Text;

        // assert: text shown as text, no dialog, no script-made node, nothing fetched from the canary
        Assert.Contains("<script>", listed, StringComparison.Ordinal);
        Assert.Contains("From: \"<img src=x onerror=document.body.appendChild", header, StringComparison.Ordinal);
        Assert.False(dialogOnList);
        Assert.False(dialogOnMessage);
        Assert.False(console.Browser.HasDialog());
        Assert.StartsWith("<script>document.body.appendChild", heading, StringComparison.Ordinal);
        Assert.Equal(0, pwnedOnPage);
        Assert.Equal(0, pwnedInFrame);
        Assert.Equal(0, scriptsInFrame);
        Assert.Equal(0, framesInFrame);
        Assert.Contains("Hello reviewer", frameText, StringComparison.Ordinal);
        Assert.NotNull(jsLink);
        Assert.Null(jsHref);
        Assert.NotNull(remote);
        Assert.Equal(0, console.Canary.Connections);
        Assert.Contains("X-Injected: <b>yes</b>", encodedHeading, StringComparison.Ordinal);
        Assert.Empty(Driver.FindElements(By.TagName("b")));

        using var http = new HttpClient();
        using var page = await http.GetAsync(new Uri($"{console.BaseUrl}/messages/{id}"));
        Assert.Contains("script-src", page.Headers.GetValues("Content-Security-Policy").Single().Replace("default-src 'none'", "script-src", StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.Contains("frame-ancestors 'none'", page.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        Assert.Equal("nosniff", page.Headers.GetValues("X-Content-Type-Options").Single());
        using var frame = await http.GetAsync(new Uri($"{console.BaseUrl}/messages/{id}/body"));
        Assert.StartsWith("sandbox;", frame.Headers.GetValues("Content-Security-Policy").Single(), StringComparison.Ordinal);
        string sanitized = await frame.Content.ReadAsStringAsync();
        Assert.DoesNotContain("<script", sanitized, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain("onerror", sanitized, StringComparison.OrdinalIgnoreCase);
        Assert.DoesNotContain(canary + "/pixel.gif\"", sanitized.Replace("title=\"", "x", StringComparison.Ordinal), StringComparison.Ordinal);
    }

    [Fact(Timeout = 180_000)]
    public async Task Browser_ReleaseAndDelete_ConfirmedThenDoneAndRecordedWithWho()
    {
        // arrange
        string keep = await console.QuarantineAsync("friend@good-sender.example", ConsoleFixture.Message("Friend <friend@good-sender.example>", "Lunch?", "Tomorrow?"));
        string junk = await console.QuarantineAsync("spam@junk-sender.example", ConsoleFixture.Message("Spam <spam@junk-sender.example>", "Win", "Now."));

        // act: release (button, then the confirmation page's button)
        Driver.Navigate().GoToUrl(console.BaseUrl + "/messages/" + keep);
        console.Browser.Find(By.Id("release")).Click();
        var confirm = console.Browser.Find(By.Id("release-confirm"));
        string confirmation = console.Browser.Find(By.TagName("h1")).Text;
        bool stillQuarantinedBeforeConfirming = File.Exists(Path.Combine(console.Data, "quarantine", keep + ".eml"));
        confirm.Click();
        string releasedNotice = console.Browser.Find(By.Id("notice")).Text;
        string listAfterRelease = console.Browser.Find(By.TagName("main")).Text;

        // delete: cancel once, then confirm
        Driver.Navigate().GoToUrl(console.BaseUrl + "/messages/" + junk);
        console.Browser.Find(By.Id("delete")).Click();
        console.Browser.Find(By.LinkText("Cancel")).Click();
        bool stillThereAfterCancel = File.Exists(Path.Combine(console.Data, "quarantine", junk + ".eml"));
        console.Browser.Find(By.Id("delete")).Click();
        console.Browser.Find(By.Id("delete-confirm")).Click();
        string deletedNotice = console.Browser.Find(By.Id("notice")).Text;

        // assert
        Assert.Equal("Release this message?", confirmation);
        Assert.True(stillQuarantinedBeforeConfirming);
        Assert.Contains(keep, releasedNotice, StringComparison.Ordinal);
        Assert.DoesNotContain(keep + "\n", listAfterRelease.Replace(releasedNotice, string.Empty, StringComparison.Ordinal), StringComparison.Ordinal);
        Assert.True(File.Exists(Path.Combine(console.Data, "deliver", keep + ".eml")));
        var released = OperatorStamp.ReadFrom(await File.ReadAllBytesAsync(Path.Combine(console.Data, "deliver", keep + ".json")), OperatorStamp.Released);
        Assert.Equal("console:anonymous from 127.0.0.1", released?.By);
        Assert.True(stillThereAfterCancel);
        Assert.Contains(junk, deletedNotice, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(console.Data, "quarantine", junk + ".eml")));
        var deleted = OperatorStamp.ReadFrom(await File.ReadAllBytesAsync(Path.Combine(console.Data, "quarantine", junk + ".json")), OperatorStamp.Deleted);
        Assert.Equal("console:anonymous from 127.0.0.1", deleted?.By);
        var deadline = DateTime.UtcNow.AddSeconds(10);
        while (!(console.Serve.Output.Contains($"Message {keep} released from quarantine by console:anonymous from 127.0.0.1", StringComparison.Ordinal)
            && console.Serve.Output.Contains($"Message {junk} deleted from quarantine by console:anonymous from 127.0.0.1", StringComparison.Ordinal)))
        {
            Assert.True(DateTime.UtcNow < deadline, "no audit log lines:\n" + console.Serve.Output);
            await Task.Delay(100);
        }
    }

    [Fact(Timeout = 180_000)]
    public async Task Browser_Trace_TimelineFromAcceptedToReleased()
    {
        // arrange: a quarantined message, released from its page
        string id = await console.QuarantineAsync("ops@trace-me.example", ConsoleFixture.Message("Ops <ops@trace-me.example>", "Trace me", "Body."));
        Driver.Navigate().GoToUrl(console.BaseUrl + "/messages/" + id);
        console.Browser.Find(By.Id("release")).Click();
        console.Browser.Find(By.Id("release-confirm")).Click();
        console.Browser.Find(By.Id("notice"));

        // act: the header's trace box, as an operator pastes an id from a bounce or a log
        console.Browser.Find(By.Id("trace-id")).SendKeys(id + Keys.Enter);
        string timeline = console.Browser.Find(By.Id("timeline")).Text;

        // assert: every step, in pipeline order
        string[] steps = ["accepted", "spf", "dkim", "reputation", "dmarc", "verdict", "routed", "released"];
        int at = -1;
        foreach (string step in steps)
        {
            int next = timeline.IndexOf(step, at + 1, StringComparison.Ordinal);
            Assert.True(next > at, $"'{step}' missing or out of order in:\n{timeline}");
            at = next;
        }

        Assert.Contains("from 127.0.0.1", timeline, StringComparison.Ordinal);
        Assert.Contains("MAIL FROM <ops@trace-me.example>", timeline, StringComparison.Ordinal);
        Assert.Contains("verdict quarantine", timeline, StringComparison.Ordinal);
        Assert.Contains("by console:anonymous from 127.0.0.1", timeline, StringComparison.Ordinal);
        Assert.Contains("deliver: ", timeline, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Post_WithoutAntiforgeryToken_RejectedAndNothingDone()
    {
        // arrange
        string id = await console.QuarantineAsync("x@forged-post.example", ConsoleFixture.Message("X <x@forged-post.example>", "Forged", "Body."));
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });

        // act: what a cross-site form could send (no token, no cookie)
        using var response = await http.PostAsync(new Uri($"{console.BaseUrl}/messages/{id}/release"), new FormUrlEncodedContent(new Dictionary<string, string> { ["confirm"] = "yes" }));

        // assert
        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        Assert.True(File.Exists(Path.Combine(console.Data, "quarantine", id + ".eml")));
    }
}
