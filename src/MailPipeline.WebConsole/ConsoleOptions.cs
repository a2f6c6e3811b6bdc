namespace MailPipeline.WebConsole;

/// <summary>
/// The operator console (configuration section <c>Console</c>). On a loopback HTTP endpoint with no password the
/// console is open (like rspamd's controller for local addresses); on any other address serve refuses to start
/// unless <see cref="PasswordHash"/> is set or the console is disabled.
/// </summary>
public sealed class ConsoleOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Console";

    /// <summary>Serve the console at <c>/</c> of the HTTP endpoint (default true).</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>
    /// The sign-in password, hashed by <c>mailpipeline console hash-password</c> (PBKDF2-SHA256, see
    /// <see cref="ConsolePassword"/>). Null: no sign-in (loopback only).
    /// </summary>
    public string? PasswordHash { get; set; }

    /// <summary>The user name the sign-in asks for, and the name actions are recorded with (default <c>admin</c>).</summary>
    public string User { get; set; } = "admin";

    /// <summary>
    /// Messages per quarantine page (default 500, the most: <c>/</c> itself lists a whole day's quarantine of most
    /// sites server-side, and the search narrows it; a page of 500 rows is about 200 KB of HTML).
    /// </summary>
    public int PageSize { get; set; } = 500;

    /// <summary>How long a sign-in lasts without activity (default 8 hours, a working day).</summary>
    public TimeSpan SessionLifetime { get; set; } = TimeSpan.FromHours(8);
}
