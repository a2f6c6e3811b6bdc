using System.Text.Json;
using System.Text.Json.Nodes;
using MailPipeline.Pipeline.Tests.Infrastructure;
using MailPipeline.TestSupport;
using OpenQA.Selenium;

namespace MailPipeline.Operations.Tests.Browser;

/// <summary>The console's access rule: a hashed password from the CLI, sign-in in the browser, refusal off loopback.</summary>
[Trait("Category", "Integration")]
public sealed class ConsoleSignInBrowserTests : IDisposable
{
    private const string Password = "a long console password";
    private readonly string _work = Directory.CreateTempSubdirectory("mp-console-signin-").FullName;

    public void Dispose() => Directory.Delete(_work, recursive: true);

    [Fact(Timeout = 180_000)]
    public async Task Browser_PasswordConfigured_SignInRequiredWrongPasswordRefusedCookieHttpOnlyStrict()
    {
        // arrange: the hash made by the CLI helper, in serve's configuration
        var (hashExit, hashOutput) = await ExternalProcess.RunAsync("dotnet", [ServeProcess.CliPath, "console", "hash-password"], TimeSpan.FromSeconds(60), stdin: Password + "\n");
        Assert.True(hashExit == 0, hashOutput);
        string hash = hashOutput.Split('\n').Single(l => l.StartsWith("pbkdf2-sha256$", StringComparison.Ordinal)).Trim();
        string config = ServeProcess.WriteConfig(_work);
        var json = JsonNode.Parse(await File.ReadAllTextAsync(config))!.AsObject();
        json["Console"] = new JsonObject { ["PasswordHash"] = hash, ["User"] = "ops" };
        await File.WriteAllTextAsync(config, json.ToJsonString());
        using var serve = await ServeProcess.StartAsync(Path.Combine(_work, "data"), "127.0.0.1:9", config);
        using var chromium = new HeadlessChromium();
        var driver = chromium.Driver;
        string baseUrl = $"http://127.0.0.1:{serve.HttpPort}";

        // act
        driver.Navigate().GoToUrl(baseUrl + "/?domain=example");
        chromium.Find(By.Id("sign-in"));
        string redirectedTo = driver.Url;
        chromium.Find(By.Id("user")).SendKeys("ops");
        chromium.Find(By.Id("password")).SendKeys("wrong password");
        chromium.Find(By.Id("sign-in")).Click();
        string refused = chromium.Find(By.Id("problem")).Text;
        chromium.Find(By.Id("user")).SendKeys("ops");
        chromium.Find(By.Id("password")).SendKeys(Password);
        chromium.Find(By.Id("sign-in")).Click();
        string who = chromium.Find(By.CssSelector("header .who")).Text;
        string landedOn = driver.Url;
        string page = chromium.Find(By.TagName("main")).Text;
        var cookie = driver.Manage().Cookies.GetCookieNamed("mailpipeline.console");
        chromium.Find(By.CssSelector("header form button")).Click();
        chromium.Find(By.Id("sign-in"));
        driver.Navigate().GoToUrl(baseUrl + "/");
        chromium.Find(By.Id("sign-in"));
        string afterSignOut = driver.Url;
        using var http = new HttpClient(new HttpClientHandler { AllowAutoRedirect = false });
        using var anonymous = await http.GetAsync(new Uri(baseUrl + "/"));

        // assert
        Assert.StartsWith(baseUrl + "/login?return=", redirectedTo, StringComparison.Ordinal);
        Assert.Contains("Wrong user name or password", refused, StringComparison.Ordinal);
        Assert.Equal(baseUrl + "/?domain=example", landedOn);
        Assert.Contains("No quarantined message matches.", page, StringComparison.Ordinal);
        Assert.Equal("ops", who);
        Assert.NotNull(cookie);
        Assert.True(cookie.IsHttpOnly);
        Assert.Equal("Strict", cookie.SameSite);
        Assert.StartsWith(baseUrl + "/login", afterSignOut, StringComparison.Ordinal);
        Assert.Equal(System.Net.HttpStatusCode.Redirect, anonymous.StatusCode);
        Assert.DoesNotContain(Password, serve.Output, StringComparison.Ordinal);
    }

    [Fact(Timeout = 120_000)]
    public async Task Serve_ConsoleOffLoopbackWithoutPassword_RefusesToStart()
    {
        // act
        var (exitCode, output) = await ExternalProcess.RunAsync(
            "dotnet",
            [ServeProcess.CliPath, "serve", "--data", Path.Combine(_work, "data"), "--smtp", $"127.0.0.1:{FreePort.Next()}", "--http", $"0.0.0.0:{FreePort.Next()}", "--resolver", "127.0.0.1:9"],
            TimeSpan.FromSeconds(60));

        // assert
        Assert.Equal(2, exitCode);
        Assert.Contains("refusing to start", output, StringComparison.Ordinal);
        Assert.Contains("Console:PasswordHash", output, StringComparison.Ordinal);
        Assert.Contains("mailpipeline console hash-password", output, StringComparison.Ordinal);
    }
}
