using System.Diagnostics;
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

    /// <summary>The session's entry in the session registry: its waits for command lines (null outside the listener, in tests).</summary>
    public SessionRegistry.Entry? Wait { get; set; }

    /// <summary>The address the connection limiter counts this session under (null: counted only in the total).</summary>
    public IPAddress? LimiterKey { get; set; }

    /// <summary>True when <see cref="Client"/> is in Edge:XclientHosts (re-evaluated after each XCLIENT, as Postfix does).</summary>
    public bool XclientAllowed { get; set; }

    /// <summary>True when <see cref="Client"/> was in Edge:XforwardHosts at connect (Postfix decides this once per session).</summary>
    public bool XforwardAllowed { get; set; }

    /// <summary>True between an accepted MAIL FROM and the end of DATA or RSET (XCLIENT and XFORWARD are refused there).</summary>
    public bool InTransaction { get; set; }

    /// <summary>The session's own client while XFORWARD attributes stand in for it (until the transaction ends).</summary>
    private ClientState? _beforeXforward;

    /// <summary>True while XFORWARD attributes describe the client of the next (or current) transaction.</summary>
    public bool Forwarded => _beforeXforward is not null;

    /// <summary>
    /// Starts a set of XFORWARD attributes: the session's client is put aside and every client attribute is
    /// unavailable until an XFORWARD names it ("the server must not mix client attributes from XFORWARD with client
    /// attributes from the current SMTP session").
    /// </summary>
    public void BeginXforward()
    {
        if (_beforeXforward is not null)
        {
            return;
        }

        _beforeXforward = new ClientState(Client, ClientUnavailable, ClientHostName, ClientHostNameResolved, Helo, Esmtp, ClientSource);
        ClientUnavailable = true;
        ClientHostName = null;
        ClientHostNameResolved = true;
        Helo = null;
        ClientSource = "xforward";
    }

    /// <summary>The end of a mail transaction (end of DATA, RSET, HELO/EHLO): XFORWARD attributes lapse, the session's own client is back.</summary>
    public void EndTransaction()
    {
        InTransaction = false;
        PendingSpf = null;
        if (_beforeXforward is { } saved)
        {
            _beforeXforward = null;
            (Client, ClientUnavailable, ClientHostName, ClientHostNameResolved, Helo, Esmtp, ClientSource) = saved;
        }
    }

    /// <summary>The client address for logs.</summary>
    public string ClientIp => ClientUnavailable ? "unknown" : Client.Address.ToString();

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

    /// <summary>SPF of the current transaction, started at MAIL FROM by the in-session checks.</summary>
    public Task<Core.Authentication.SpfStageResult>? PendingSpf { get; set; }

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

    /// <summary>The session's span (not current: each message is a trace of its own that links to it); null when not traced.</summary>
    public Activity? Activity { get; set; }

    /// <summary>When the current transaction's MAIL FROM was accepted (the start of the message's span).</summary>
    public DateTimeOffset? TransactionStarted { get; set; }

    public static EdgeSession From(ISessionContext context) => (EdgeSession)context.Properties[PropertyKey];

    private sealed record ClientState(IPEndPoint Client, bool ClientUnavailable, string? ClientHostName, bool ClientHostNameResolved, string? Helo, bool Esmtp, string ClientSource);
}
