using System.Net;
using MailPipeline.Pipeline.Contracts;
using SmtpServer;

namespace MailPipeline.Edge;

/// <summary>Per-connection state shared by the guard stream, the mailbox filter and the message store.</summary>
internal sealed class EdgeSession
{
    public const string PropertyKey = "MailPipeline.Edge:Session";

    public EdgeSession(string id, IPEndPoint peer, IPEndPoint client, string clientSource, DateTimeOffset startedAt)
    {
        Id = id;
        Peer = peer;
        Client = client;
        ClientSource = clientSource;
        StartedAt = startedAt;
    }

    public string Id { get; }

    /// <summary>The TCP peer: the client itself, or the PROXY balancer or XCLIENT host in front of it. Not for policy.</summary>
    public IPEndPoint Peer { get; }

    /// <summary>
    /// The effective SMTP client: the TCP peer, or what a trusted PROXY header or an authorised XCLIENT
    /// named. Relay policy, limits, the Received header, the stored envelope (and so SPF, iprev and block
    /// lists) and logs all use this.
    /// </summary>
    public IPEndPoint Client { get; set; }

    /// <summary>Where <see cref="Client"/> came from: connection, proxy-v1, proxy-v2, proxy-local or xclient.</summary>
    public string ClientSource { get; set; }

    /// <summary>True after <c>XCLIENT ADDR=[UNAVAILABLE]</c>: there is no client address to judge, so no mail is taken.</summary>
    public bool ClientUnavailable { get; set; }

    /// <summary>The address the connection limiter counts this session under (null: counted only in the total).</summary>
    public IPAddress? LimiterKey { get; set; }

    /// <summary>True when <see cref="Client"/> is in Edge:XclientHosts (re-evaluated after each XCLIENT, as Postfix does).</summary>
    public bool XclientAllowed { get; set; }

    /// <summary>True between an accepted MAIL FROM and the end of DATA or RSET (XCLIENT is refused there).</summary>
    public bool InTransaction { get; set; }

    /// <summary>The client address for logs.</summary>
    public string ClientIp => ClientUnavailable ? "unknown" : Client.Address.ToString();

    public DateTimeOffset StartedAt { get; }

    public string? Helo { get; set; }

    public bool Esmtp { get; set; }

    /// <summary>The MAIL FROM parameters of the current transaction (BODY, SMTPUTF8, SIZE).</summary>
    public IReadOnlyDictionary<string, string> MailParameters { get; set; } = new Dictionary<string, string>();

    public int RecipientCount { get; set; }

    /// <summary>Set by the guard stream when DATA ran past the size limit (the rest was discarded).</summary>
    public bool SizeExceeded { get; set; }

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
