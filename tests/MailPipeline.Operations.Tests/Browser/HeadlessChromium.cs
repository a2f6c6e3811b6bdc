using MailPipeline.TestSupport;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace MailPipeline.Operations.Tests.Browser;

/// <summary>
/// Debian's chromium driven through chromium-driver (both installed by test.sh), headless, with a fresh profile and
/// no background traffic: nothing is downloaded, and the only requests are the ones the page makes.
/// </summary>
public sealed class HeadlessChromium : IDisposable
{
    private readonly string _profile = Directory.CreateTempSubdirectory("mp-chromium-").FullName;

    public HeadlessChromium()
    {
        string browser = ExternalProcess.Which("chromium") ?? throw new InvalidOperationException("chromium is not installed (test.sh installs Debian's chromium and chromium-driver).");
        string driver = ExternalProcess.Which("chromedriver") ?? throw new InvalidOperationException("chromedriver is not installed (Debian package chromium-driver; test.sh installs it).");
        var options = new ChromeOptions { BinaryLocation = browser };
        options.AddArguments(
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--disable-default-apps",
            "--disable-extensions",
            "--no-first-run",
            "--no-default-browser-check",
            "--window-size=1280,1024",
            "--user-data-dir=" + _profile);
        var service = ChromeDriverService.CreateDefaultService(Path.GetDirectoryName(driver)!, Path.GetFileName(driver));
        service.HideCommandPromptWindow = true;
        service.SuppressInitialDiagnosticInformation = true;
        Driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        Driver.Manage().Timeouts().PageLoad = TimeSpan.FromSeconds(30);
    }

    public ChromeDriver Driver { get; }

    /// <summary>Finds an element, waiting up to 15 s for it (a click's navigation may still be loading).</summary>
    public IWebElement Find(By by)
    {
        var deadline = DateTime.UtcNow.AddSeconds(15);
        while (true)
        {
            try
            {
                return Driver.FindElement(by);
            }
            catch (Exception ex) when (ex is NoSuchElementException or StaleElementReferenceException && DateTime.UtcNow < deadline)
            {
                Thread.Sleep(100);
            }
        }
    }

    /// <summary>True when the page opened an alert/confirm/prompt dialog (a script ran).</summary>
    public bool HasDialog()
    {
        try
        {
            _ = Driver.SwitchTo().Alert().Text;
            return true;
        }
        catch (NoAlertPresentException)
        {
            return false;
        }
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            Directory.Delete(_profile, recursive: true);
        }
        catch (IOException)
        {
            // chromium may still be writing its profile while it exits; the temp folder is cleaned by the OS
        }
    }
}
