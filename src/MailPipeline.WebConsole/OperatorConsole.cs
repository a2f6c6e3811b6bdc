using System.Globalization;
using System.Net;
using System.Security.Claims;
using MailPipeline.Operations.Quarantine;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.DataProtection;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;

namespace MailPipeline.WebConsole;

/// <summary>
/// The operator console on an ASP.NET Core host (serve's HTTP endpoint): server-rendered pages with no script at
/// all, so the page CSP can say <c>script-src 'none'</c>; write actions are POSTs with an anti-forgery token and an
/// explicit confirmation step; message bodies are served to a sandboxed frame under their own CSP.
/// </summary>
public static class OperatorConsole
{
    /// <summary>The CSP of every console page: nothing but this origin's stylesheet, frames and forms.</summary>
    public const string PageCsp = "default-src 'none'; style-src 'self'; img-src 'self'; frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

    /// <summary>
    /// The CSP of a message body: a sandbox without scripts, forms, popups or navigation of the console; inline
    /// styles and inline (data:) images only, so nothing remote is ever fetched; framed by the console alone.
    /// </summary>
    public const string BodyCsp = "sandbox; default-src 'none'; style-src 'unsafe-inline'; img-src data:; font-src 'none'; form-action 'none'; frame-ancestors 'self'; base-uri 'none'";

    private const string CookieName = "mailpipeline.console";
    private const string AntiforgeryCookieName = "mailpipeline.antiforgery";

    /// <summary>
    /// Why the console may not be served on <paramref name="endpoint"/> with these options, or null: off loopback
    /// it needs a password.
    /// </summary>
    /// <param name="endpoint">The HTTP listener.</param>
    /// <param name="options">The console options.</param>
    /// <returns>The problem, or null.</returns>
    public static string? AccessProblem(IPEndPoint endpoint, ConsoleOptions options)
    {
        ArgumentNullException.ThrowIfNull(endpoint);
        ArgumentNullException.ThrowIfNull(options);
        if (!options.Enabled)
        {
            return null;
        }

        if (options.PasswordHash is not null && !ConsolePassword.IsWellFormed(options.PasswordHash))
        {
            return "Console:PasswordHash is not a hash from 'mailpipeline console hash-password' (pbkdf2-sha256$ITERATIONS$SALT$HASH).";
        }

        if (options.PageSize is < 1 or > QuarantineQuery.MaxPageSize)
        {
            return $"Console:PageSize must be 1 to {QuarantineQuery.MaxPageSize}.";
        }

        return IPAddress.IsLoopback(endpoint.Address) || options.PasswordHash is not null
            ? null
            : $"the HTTP endpoint {endpoint} is not a loopback address and the operator console has no password: set Console:PasswordHash (make one with 'mailpipeline console hash-password'), or Console:Enabled=false, or listen on 127.0.0.1.";
    }

    /// <summary>Registers the console's services: the quarantine operations, anti-forgery, and the sign-in cookie when a password is set.</summary>
    /// <param name="services">The services.</param>
    /// <param name="options">The console options.</param>
    /// <param name="operations">Creates the quarantine operations (once).</param>
    /// <returns>The services.</returns>
    public static IServiceCollection AddOperatorConsole(this IServiceCollection services, ConsoleOptions options, Func<IServiceProvider, QuarantineOperations> operations)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(operations);
        services.AddSingleton(options);
        services.AddSingleton(operations);
        // Keys in memory: a restart signs everyone out and voids open forms, and no key material lands on disk.
        services.AddDataProtection().UseEphemeralDataProtectionProvider();
        services.AddAntiforgery(o =>
        {
            o.Cookie.Name = AntiforgeryCookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
            o.FormFieldName = "token";
            o.SuppressXFrameOptionsHeader = true; // the console sets its own (DENY)
        });
        if (options.PasswordHash is not null)
        {
            services.AddAuthentication(CookieAuthenticationDefaults.AuthenticationScheme).AddCookie(o =>
            {
                o.Cookie.Name = CookieName;
                o.Cookie.HttpOnly = true;
                o.Cookie.SameSite = SameSiteMode.Strict;
                o.Cookie.SecurePolicy = Microsoft.AspNetCore.Http.CookieSecurePolicy.SameAsRequest;
                o.ExpireTimeSpan = options.SessionLifetime;
                o.SlidingExpiration = true;
                o.LoginPath = "/login";
                o.LogoutPath = "/logout";
            });
        }

        return services;
    }

    /// <summary>Adds the console's middleware and pages (<c>/</c>, <c>/messages/ID</c>, <c>/login</c>, <c>/console.css</c>).</summary>
    /// <param name="app">The application.</param>
    /// <returns>The application.</returns>
    public static WebApplication UseOperatorConsole(this WebApplication app)
    {
        ArgumentNullException.ThrowIfNull(app);
        var options = app.Services.GetRequiredService<ConsoleOptions>();
        bool signIn = options.PasswordHash is not null;
        if (signIn)
        {
            app.UseAuthentication();
        }

        app.MapGet("/console.css", () => Results.Text(Stylesheet.Value, "text/css; charset=utf-8"));
        app.MapGet("/login", (HttpContext http) => signIn ? Page(http, ConsolePages.Login(Token(http), http.Request.Query["return"], failed: false)) : Results.Redirect("/"));
        app.MapPost("/login", async (HttpContext http) =>
        {
            if (!signIn)
            {
                return Results.Redirect("/");
            }

            if (await RejectForgeryAsync(http) is { } rejected)
            {
                return rejected;
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            bool userMatches = string.Equals(form["user"], options.User, StringComparison.Ordinal);
            bool passwordMatches = ConsolePassword.Verify(form["password"], options.PasswordHash); // always run: no user-name oracle by timing
            if (!userMatches || !passwordMatches)
            {
                return Page(http, ConsolePages.Login(Token(http), form["return"], failed: true), StatusCodes.Status401Unauthorized);
            }

            var identity = new ClaimsIdentity([new Claim(ClaimTypes.Name, options.User)], CookieAuthenticationDefaults.AuthenticationScheme);
            await http.SignInAsync(CookieAuthenticationDefaults.AuthenticationScheme, new ClaimsPrincipal(identity));
            return Results.Redirect(LocalReturn(form["return"]));
        });
        app.MapPost("/logout", async (HttpContext http) =>
        {
            if (await RejectForgeryAsync(http) is { } rejected)
            {
                return rejected;
            }

            if (signIn)
            {
                await http.SignOutAsync(CookieAuthenticationDefaults.AuthenticationScheme);
            }

            return Results.Redirect(signIn ? "/login" : "/");
        });

        var pages = app.MapGroup(string.Empty);
        pages.AddEndpointFilter(async (context, next) =>
        {
            var http = context.HttpContext;
            if (signIn && http.User.Identity?.IsAuthenticated != true)
            {
                return Results.Redirect("/login?return=" + Uri.EscapeDataString(http.Request.Path + http.Request.QueryString));
            }

            return await next(context);
        });
        pages.MapGet("/", async (HttpContext http, QuarantineOperations quarantine) =>
        {
            var query = ReadQuery(http.Request.Query, options.PageSize);
            var page = await quarantine.SearchAsync(query, http.RequestAborted);
            return Page(http, ConsolePages.Quarantine(Who(http, signIn), Token(http), query, page, http.Request.Query["done"], http.Request.Query["id"]));
        });
        pages.MapGet("/messages/{id}", async (HttpContext http, string id, QuarantineOperations quarantine) =>
        {
            if (!QuarantineOperations.IsValidId(id))
            {
                return Page(http, ConsolePages.NotFound(Who(http, signIn), Token(http), id, null), StatusCodes.Status404NotFound);
            }

            var details = await quarantine.ShowAsync(id, http.RequestAborted);
            return details is null
                ? Page(http, ConsolePages.NotFound(Who(http, signIn), Token(http), id, await quarantine.LocateAsync(id, http.RequestAborted)), StatusCodes.Status404NotFound)
                : Page(http, ConsolePages.Message(Who(http, signIn), Token(http), details));
        });
        pages.MapGet("/messages/{id}/body", async (HttpContext http, string id, QuarantineOperations quarantine) =>
        {
            var details = QuarantineOperations.IsValidId(id) ? await quarantine.ShowAsync(id, http.RequestAborted) : null;
            string document = details switch
            {
                null => MessageBodyRenderer.Text("(not in quarantine)"),
                { HtmlBody: { } html } when http.Request.Query["view"] != "text" => MessageBodyRenderer.Html(html),
                { TextBody: { } text } => MessageBodyRenderer.Text(text),
                { HtmlBody: { } html } => MessageBodyRenderer.Text(html), // "text" view of an HTML-only body: its source, escaped
                { BodyProblem: { } problem } => MessageBodyRenderer.Text(problem),
                _ => MessageBodyRenderer.Text("(no text or HTML body)"),
            };
            SecurityHeaders(http.Response, BodyCsp, frameable: true);
            return Results.Content(document, "text/html; charset=utf-8", statusCode: details is null ? StatusCodes.Status404NotFound : StatusCodes.Status200OK);
        });
        pages.MapPost("/messages/{id}/release", (HttpContext http, string id, QuarantineOperations quarantine) => ActAsync(http, id, "release", quarantine));
        pages.MapPost("/messages/{id}/delete", (HttpContext http, string id, QuarantineOperations quarantine) => ActAsync(http, id, "delete", quarantine));
        return app;

        async Task<IResult> ActAsync(HttpContext http, string id, string action, QuarantineOperations quarantine)
        {
            if (await RejectForgeryAsync(http) is { } rejected)
            {
                return rejected;
            }

            if (!QuarantineOperations.IsValidId(id))
            {
                return Page(http, ConsolePages.NotFound(Who(http, signIn), Token(http), id, null), StatusCodes.Status404NotFound);
            }

            var form = await http.Request.ReadFormAsync(http.RequestAborted);
            if (form["confirm"] != "yes")
            {
                var details = await quarantine.ShowAsync(id, http.RequestAborted);
                return details is null
                    ? Page(http, ConsolePages.NotFound(Who(http, signIn), Token(http), id, await quarantine.LocateAsync(id, http.RequestAborted)), StatusCodes.Status404NotFound)
                    : Page(http, ConsolePages.Confirm(Who(http, signIn), Token(http), details, action));
            }

            string by = Operator(http, options, signIn);
            var stamp = action == "release"
                ? await quarantine.ReleaseAsync(id, by, http.RequestAborted)
                : await quarantine.DeleteAsync(id, by, http.RequestAborted);
            if (stamp is null)
            {
                return Page(http, ConsolePages.NotFound(Who(http, signIn), Token(http), id, await quarantine.LocateAsync(id, http.RequestAborted)), StatusCodes.Status409Conflict);
            }

            // Post/redirect/get: reloading the list does not repeat the action.
            return Results.Redirect($"/?done={(action == "release" ? "released" : "deleted")}&id={Uri.EscapeDataString(id)}");
        }
    }

    /// <summary>Who an action is recorded as: the signed-in user (or "anonymous" on an open loopback console) and the client address.</summary>
    private static string Operator(HttpContext http, ConsoleOptions options, bool signIn)
    {
        string user = signIn ? http.User.Identity?.Name ?? options.User : "anonymous";
        string from = http.Connection.RemoteIpAddress?.ToString() ?? "unknown";
        return string.Create(CultureInfo.InvariantCulture, $"console:{user} from {from}");
    }

    private static string? Who(HttpContext http, bool signIn) => signIn ? http.User.Identity?.Name : null;

    private static AntiforgeryTokenSet Token(HttpContext http) => http.RequestServices.GetRequiredService<IAntiforgery>().GetAndStoreTokens(http);

    private static async Task<IResult?> RejectForgeryAsync(HttpContext http)
    {
        var antiforgery = http.RequestServices.GetRequiredService<IAntiforgery>();
        if (await antiforgery.IsRequestValidAsync(http))
        {
            return null;
        }

        SecurityHeaders(http.Response, PageCsp, frameable: false);
        return Results.Text("The form is stale or did not come from this console (anti-forgery check failed). Go back, reload the page and try again.\n", statusCode: StatusCodes.Status400BadRequest);
    }

    private static IResult Page(HttpContext http, string html, int status = StatusCodes.Status200OK)
    {
        SecurityHeaders(http.Response, PageCsp, frameable: false);
        return Results.Content(html, "text/html; charset=utf-8", statusCode: status);
    }

    private static void SecurityHeaders(HttpResponse response, string csp, bool frameable)
    {
        var headers = response.Headers;
        headers.ContentSecurityPolicy = csp;
        headers.XContentTypeOptions = "nosniff";
        headers.XFrameOptions = frameable ? "SAMEORIGIN" : "DENY";
        headers["Referrer-Policy"] = "no-referrer";
        headers["Cross-Origin-Opener-Policy"] = "same-origin";
        headers["Cross-Origin-Resource-Policy"] = "same-origin";
        headers.CacheControl = "no-store";
    }

    /// <summary>Only a local path may be a sign-in's return address (no open redirect).</summary>
    private static string LocalReturn(StringValues value)
    {
        string target = value.ToString();
        return target.StartsWith('/') && !target.StartsWith("//", StringComparison.Ordinal) && !target.StartsWith("/\\", StringComparison.Ordinal) ? target : "/";
    }

    internal static QuarantineQuery ReadQuery(IQueryCollection query, int pageSize)
    {
        static string? Text(IQueryCollection query, string name) => query[name].ToString() is { Length: > 0 and <= 256 } value ? value.Trim() : null;
        static DateTimeOffset? Day(IQueryCollection query, string name) =>
            DateTimeOffset.TryParseExact(query[name].ToString(), "yyyy-MM-dd", CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal, out var day) ? day : null;
        var until = Day(query, "until");
        return new QuarantineQuery
        {
            Sender = Text(query, "sender"),
            FromDomain = Text(query, "domain"),
            Recipient = Text(query, "recipient"),
            Reason = Text(query, "reason"),
            Text = Text(query, "q"),
            Since = Day(query, "since"),
            Until = until?.AddDays(1), // the "until" day is included
            Page = int.TryParse(query["page"], NumberStyles.None, CultureInfo.InvariantCulture, out int page) ? page : 1,
            PageSize = pageSize,
        };
    }

    private static readonly Lazy<string> Stylesheet = new(() =>
    {
        using var stream = typeof(OperatorConsole).Assembly.GetManifestResourceStream("MailPipeline.WebConsole.console.css")
            ?? throw new InvalidOperationException("The console stylesheet is not embedded.");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    });
}
