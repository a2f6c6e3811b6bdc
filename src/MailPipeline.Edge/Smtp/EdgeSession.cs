using System.Net;
using MailPipeline.Pipeline.Contracts;
using SmtpServer;

namespace MailPipeline.Edge;

/// <summary>Per-connection state shared by the guard stream, the mailbox filter and the message store.</summary>
internal sealed class EdgeSession
{
    public const string PropertyKey = "MailPipeline.Edge:Session";

    public EdgeSession(string id, IPEndPoint remote, DateTimeOffset startedAt)
    {
        Id = id;
        Remote = remote;
        StartedAt = startedAt;
    }

    public string Id { get; }

    public IPEndPoint Remote { get; }

    public DateTimeOffset StartedAt { get; }

    public string? Helo { get; set; }

    public bool Esmtp { get; set; }

    /// <summary>The MAIL FROM parameters of the current transaction (BODY, SMTPUTF8, SIZE).</summary>
    public IReadOnlyDictionary<string, string> MailParameters { get; set; } = new Dictionary<string, string>();

    public int RecipientCount { get; set; }

    /// <summary>The recipients accepted in the current transaction (for the Received header written when DATA starts).</summary>
    public List<string> Recipients { get; } = [];

    /// <summary>The DATA transfer the guard stream opened, handed to the message store at its end.</summary>
    public EdgeDataTransaction? PendingData { get; set; }

    public EnvelopeTls? Tls { get; set; }

    public string? ClientHostName { get; set; }

    public bool ClientHostNameResolved { get; set; }

    /// <summary>A complete reply line that replaces the library's next generic rejection (it has no enhanced codes).</summary>
    public string? ReplyOverride { get; set; }

    /// <summary>The verb of the last complete command line handed to the library: the command the next reply answers.</summary>
    public string? LineVerb { get; set; }

    public int Accepted { get; set; }

    public int Rejected { get; set; }

    public string LastResult { get; set; } = "none";

    public static EdgeSession From(ISessionContext context) => (EdgeSession)context.Properties[PropertyKey];
}
