using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>
/// Who the SMTP client is: which peers must send a PROXY header and how it is read, which may use
/// XCLIENT and what XCLIENT does (Postfix's XCLIENT_README and smtpd's replies), and the refusal of a
/// PROXY header from anywhere else. The result always lands in <see cref="EdgeSession.Client"/>.
/// </summary>
internal sealed class ClientAddressPolicy
{
    /// <summary>The XCLIENT attributes the edge accepts, as advertised in EHLO.</summary>
    public const string XclientAttributes = "NAME ADDR PORT PROTO HELO LOGIN DESTADDR DESTPORT";

    /// <summary>The XFORWARD attributes the edge accepts, as advertised in EHLO.</summary>
    public const string XforwardAttributes = "NAME ADDR PORT PROTO HELO IDENT SOURCE";

    private const string Unavailable = "[UNAVAILABLE]";
    private const string TempUnavailable = "[TEMPUNAVAIL]";
    private readonly EdgeOptions _options;
    private readonly ConnectionLimiter _limiter;
    private readonly EdgeMetrics _metrics;
    private readonly ILogger _logger;

    public ClientAddressPolicy(EdgeOptions options, ConnectionLimiter limiter, EdgeMetrics metrics, ILogger logger)
    {
        _options = options;
        _limiter = limiter;
        _metrics = metrics;
        _logger = logger;
        TrustedProxies = NetworkList.Parse(options.TrustedProxies, "Edge:TrustedProxies");
        XclientHosts = NetworkList.Parse(options.XclientHosts, "Edge:XclientHosts");
        XforwardHosts = NetworkList.Parse(options.XforwardHosts, "Edge:XforwardHosts");
    }

    public NetworkList TrustedProxies { get; }

    public NetworkList XclientHosts { get; }

    public NetworkList XforwardHosts { get; }

    /// <summary>The greeting, at connect and after a successful XCLIENT (the library's names its version).</summary>
    public static string Greeting(EdgeOptions options) => $"220 {options.HostName} ESMTP MailPipeline";

    /// <summary>
    /// Reads the PROXY header a trusted peer must send before the greeting, within Edge:ProxyHeaderTimeout
    /// and Edge:MaxProxyHeaderLength. Returns the header and the octets that followed it, or null (logged)
    /// when the peer sent something else, too much, too little or too late: the caller closes without a
    /// word, as Postfix does, since the proxy, not the client, is at fault.
    /// </summary>
    public async Task<(ProxyHeader Header, byte[] Following)?> ReadProxyHeaderAsync(Socket socket, IPEndPoint peer, CancellationToken cancellationToken)
    {
        byte[] buffer = new byte[Math.Max(ProxyProtocolParser.MaxV1Length, _options.MaxProxyHeaderLength)];
        int filled = 0;
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_options.ProxyHeaderTimeout);
        string reason;
        try
        {
            while (true)
            {
                int read = await socket.ReceiveAsync(buffer.AsMemory(filled), SocketFlags.None, timeout.Token).ConfigureAwait(false);
                if (read == 0)
                {
                    reason = filled == 0 ? "closed before sending a PROXY header" : "closed inside the PROXY header";
                    break;
                }

                filled += read;
                var status = ProxyProtocolParser.Parse(buffer.AsSpan(0, filled), _options.MaxProxyHeaderLength, out var header, out string? error);
                if (status == ProxyParseStatus.Complete)
                {
                    return (header!, buffer.AsSpan(header!.Length, filled - header.Length).ToArray());
                }

                if (status == ProxyParseStatus.Invalid)
                {
                    reason = error!;
                    break;
                }

                if (filled == buffer.Length)
                {
                    reason = "PROXY header longer than Edge:MaxProxyHeaderLength";
                    break;
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            reason = filled == 0 ? "no PROXY header within Edge:ProxyHeaderTimeout" : "incomplete PROXY header at Edge:ProxyHeaderTimeout";
        }
        catch (SocketException ex)
        {
            reason = "socket error reading the PROXY header: " + ex.SocketErrorCode;
        }

        _metrics.Rejected("proxy-header-invalid");
        Log.ProxyHeaderInvalid(_logger, peer.Address.ToString(), reason);
        return null;
    }

    /// <summary>A PROXY header (v1 line or v2 signature) where none may be: from an untrusted peer, or after the greeting. Logged; the reply ends the session.</summary>
    public string RefuseProxyHeader(EdgeSession session, string version)
    {
        bool trusted = TrustedProxies.Contains(session.Peer.Address);
        _metrics.Rejected("proxy-header-refused");
        Log.ProxyHeaderRefused(_logger, session.Id, session.Peer.Address.ToString(), version, trusted ? "after the PROXY header already read" : "peer not in Edge:TrustedProxies");
        return $"554 5.7.0 {_options.HostName} PROXY protocol header refused\r\n";
    }

    /// <summary>
    /// Executes one XCLIENT command line. Returns the reply; <paramref name="close"/> is true when the
    /// session must end after it (421: the new client is over its connection limits).
    /// </summary>
    public string Xclient(EdgeSession session, string line, out bool close)
    {
        close = false;
        string[] arguments = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (session.InTransaction)
        {
            return "503 5.5.1 Error: MAIL transaction in progress";
        }

        if (arguments.Length < 2)
        {
            return "501 5.5.4 Syntax: XCLIENT attribute=value...";
        }

        if (!session.XclientAllowed)
        {
            _metrics.Rejected("xclient-denied");
            Log.XclientRefused(_logger, session.Id, session.Peer.Address.ToString(), session.ClientIp);
            return "550 5.7.0 Error: insufficient authorization";
        }

        var update = new XclientUpdate();
        for (int i = 1; i < arguments.Length; i++)
        {
            if (ParseAttribute("XCLIENT", arguments[i], update) is { } error)
            {
                return error;
            }
        }

        session.EndTransaction(); // pending XFORWARD attributes lapse with the reset
        if (update.Address is { } address)
        {
            if (_limiter.TryRekey(session.LimiterKey, address) is { } refusal)
            {
                close = true;
                _metrics.Rejected("connection-" + refusal);
                Log.ConnectionRefused(_logger, address.ToString(), refusal);
                return $"421 4.7.0 {_options.HostName} Error: too many connections from {address}";
            }

            session.LimiterKey = address;
            session.Client = new IPEndPoint(address, update.Port ?? 0);
            session.ClientUnavailable = false;
            session.ClientHostName = null;
            session.ClientHostNameResolved = false; // look the new address up, unless NAME says otherwise below
        }
        else if (update.AddressUnavailable)
        {
            session.ClientUnavailable = true;
            session.ClientHostName = null;
            session.ClientHostNameResolved = true;
        }

        if (update.Address is null && update.Port is { } port)
        {
            session.Client = new IPEndPoint(session.Client.Address, port);
        }

        if (update.NameGiven)
        {
            session.ClientHostName = update.Name;
            session.ClientHostNameResolved = true;
        }

        // XCLIENT_README: the session goes back to the greeting stage, keeping only what this command set.
        session.Helo = update.Helo;
        session.Esmtp = update.Esmtp ?? false;
        session.ClientSource = "xclient";
        session.XclientAllowed = !session.ClientUnavailable && XclientHosts.Contains(session.Client.Address);
        _metrics.ClientAddressFrom("xclient");
        Log.Xclient(_logger, session.Id, session.Peer.Address.ToString(), session.ClientIp, session.ClientHostName, session.Helo);
        return Greeting(_options);
    }

    /// <summary>
    /// Executes one XFORWARD command line (Postfix's XFORWARD_README): the attributes describe the client of the next
    /// mail transaction only, and stand in for the session's own client in the checks, the envelope and Received.
    /// </summary>
    public string Xforward(EdgeSession session, string line)
    {
        string[] arguments = line.Split([' ', '\t'], StringSplitOptions.RemoveEmptyEntries);
        if (session.InTransaction)
        {
            return "503 5.5.1 Error: MAIL transaction in progress";
        }

        if (arguments.Length < 2)
        {
            return "501 5.5.4 Syntax: XFORWARD attribute=value...";
        }

        if (!session.XforwardAllowed)
        {
            _metrics.Rejected("xforward-denied");
            Log.XforwardRefused(_logger, session.Id, session.Peer.Address.ToString());
            return "550 5.7.0 Error: insufficient authorization";
        }

        var update = new XclientUpdate();
        for (int i = 1; i < arguments.Length; i++)
        {
            if (ParseAttribute("XFORWARD", arguments[i], update) is { } error)
            {
                return error;
            }
        }

        bool first = !session.Forwarded;
        session.BeginXforward();
        if (update.Address is { } address)
        {
            session.Client = new IPEndPoint(address, update.Port ?? session.Client.Port);
            session.ClientUnavailable = false;
        }
        else if (update.AddressUnavailable)
        {
            session.ClientUnavailable = true;
        }
        else if (update.Port is { } port)
        {
            session.Client = new IPEndPoint(session.Client.Address, port);
        }

        if (update.NameGiven)
        {
            session.ClientHostName = update.Name;
        }

        if (update.HeloGiven)
        {
            session.Helo = update.Helo;
        }

        if (update.Esmtp is { } esmtp)
        {
            session.Esmtp = esmtp;
        }

        if (first)
        {
            _metrics.ClientAddressFrom("xforward");
        }

        Log.Xforward(_logger, session.Id, session.Peer.Address.ToString(), session.ClientIp, session.ClientHostName, session.Helo, update.Ident);
        return "250 2.0.0 Ok";
    }

    private static string? ParseAttribute(string command, string argument, XclientUpdate update)
    {
        int equals = argument.IndexOf('=', StringComparison.Ordinal);
        if (equals <= 0 || equals == argument.Length - 1)
        {
            return "501 5.5.4 Error: attribute=value expected";
        }

        string name = argument[..equals].ToUpperInvariant();
        string raw = argument[(equals + 1)..];
        if (raw.Length > 255)
        {
            return "501 5.5.4 Error: attribute value too long";
        }

        // Postfix before 2.3 sent values unencoded: a value that is not valid xtext is taken as it is.
        string value = Printable(XtextDecode(raw) ?? raw);
        bool unavailable = value.Equals(Unavailable, StringComparison.OrdinalIgnoreCase);
        switch (name)
        {
            case "NAME":
                update.NameGiven = true;
                if (unavailable || value.Equals(TempUnavailable, StringComparison.OrdinalIgnoreCase))
                {
                    update.Name = null;
                }
                else if (command == "XFORWARD")
                {
                    update.Name = Neutered(value); // "may be a non-DNS hostname"
                }
                else if (IsHostName(value))
                {
                    update.Name = value.TrimEnd('.');
                }
                else
                {
                    return $"501 5.5.4 Bad NAME syntax: {value}";
                }

                return null;
            case "ADDR":
                if (unavailable)
                {
                    update.AddressUnavailable = true;
                    update.Address = null;
                }
                else if (ParseAddress(value) is { } address)
                {
                    update.Address = address;
                    update.AddressUnavailable = false;
                }
                else
                {
                    return $"501 5.5.4 Bad ADDR syntax: {value}";
                }

                return null;
            case "PORT":
                if (unavailable)
                {
                    update.Port = 0;
                }
                else if (ParsePort(value) is { } port)
                {
                    update.Port = port;
                }
                else
                {
                    return $"501 5.5.4 Bad PORT syntax: {value}";
                }

                return null;
            case "HELO":
                update.HeloGiven = true;
                if (unavailable)
                {
                    update.Helo = null;
                }
                else if (value.Length > 255)
                {
                    return $"501 5.5.4 Bad HELO syntax: {value}";
                }
                else
                {
                    update.Helo = value;
                }

                return null;
            case "PROTO" when command == "XFORWARD":
                // "an SMTP or non-SMTP protocol name of up to 64 characters"
                if (unavailable)
                {
                    return null;
                }

                if (value.Length > 64 || !value.All(char.IsAsciiLetterOrDigit))
                {
                    return $"501 5.5.4 Bad PROTO syntax: {value}";
                }

                update.Esmtp = value.StartsWith("ESMTP", StringComparison.OrdinalIgnoreCase) || value.StartsWith("UTF8SMTP", StringComparison.OrdinalIgnoreCase);
                return null;
            case "PROTO":
                if (value.Equals("SMTP", StringComparison.OrdinalIgnoreCase) || value.Equals("ESMTP", StringComparison.OrdinalIgnoreCase))
                {
                    update.Esmtp = value.Length == 5;
                    return null;
                }

                return $"501 5.5.4 Bad PROTO syntax: {value}";
            case "LOGIN" when command == "XCLIENT":
                return null; // the edge has no SASL; a login name changes nothing here
            case "DESTADDR" when command == "XCLIENT":
                return unavailable || ParseAddress(value) is not null ? null : $"501 5.5.4 Bad DESTADDR syntax: {value}";
            case "DESTPORT" when command == "XCLIENT":
                return unavailable || ParsePort(value) is not null ? null : $"501 5.5.4 Bad DESTPORT syntax: {value}";
            case "IDENT" when command == "XFORWARD":
                update.Ident = unavailable ? null : Neutered(value); // the up-stream queue id, for the log
                return null;
            case "SOURCE" when command == "XFORWARD":
                return unavailable || value.Equals("LOCAL", StringComparison.OrdinalIgnoreCase) || value.Equals("REMOTE", StringComparison.OrdinalIgnoreCase)
                    ? null
                    : $"501 5.5.4 Bad SOURCE syntax: {value}";
            default:
                return $"501 5.5.4 Bad {command} attribute name: {Printable(argument[..equals])}";
        }
    }

    /// <summary>An IPv4 address, or an IPv6 address with or without the IPV6: prefix; IPv4-mapped as IPv4.</summary>
    private static IPAddress? ParseAddress(string value)
    {
        string text = value.StartsWith("IPV6:", StringComparison.OrdinalIgnoreCase) ? value[5..] : value;
        if (text.Length == 0 || text.Contains('%', StringComparison.Ordinal) || !IPAddress.TryParse(text, out var address))
        {
            return null;
        }

        // IPAddress.TryParse takes "1" or "1.2" as IPv4 shorthand; an SMTP client address is written in full.
        if (address.AddressFamily == AddressFamily.InterNetwork && text.Count(c => c == '.') != 3)
        {
            return null;
        }

        return NetworkList.Normalize(address);
    }

    private static int? ParsePort(string value) =>
        value.Length is > 0 and <= 5 && value.All(char.IsAsciiDigit) && int.Parse(value, NumberStyles.None, CultureInfo.InvariantCulture) is var port && port <= 65535 ? port : null;

    /// <summary>RFC 3461 xtext: "+" and two hex digits stand for an octet. Null when malformed.</summary>
    internal static string? XtextDecode(string value)
    {
        if (!value.Contains('+', StringComparison.Ordinal))
        {
            return value;
        }

        var bytes = new List<byte>(value.Length);
        for (int i = 0; i < value.Length; i++)
        {
            char c = value[i];
            if (c != '+')
            {
                if (c > 0x7E)
                {
                    return null;
                }

                bytes.Add((byte)c);
                continue;
            }

            if (i + 2 >= value.Length || !char.IsAsciiHexDigit(value[i + 1]) || !char.IsAsciiHexDigit(value[i + 2]))
            {
                return null;
            }

            bytes.Add(byte.Parse(value.AsSpan(i + 1, 2), NumberStyles.HexNumber, CultureInfo.InvariantCulture));
            i += 2;
        }

        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>Control characters become '?', as Postfix masks them before anything else sees the value.</summary>
    private static string Printable(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            text.Append(char.IsControl(c) ? '?' : c);
        }

        return text.ToString();
    }

    /// <summary>Characters that are special in header fields become '?' (Postfix "neuters" them the same way).</summary>
    private static string Neutered(string value)
    {
        var text = new StringBuilder(value.Length);
        foreach (char c in value)
        {
            text.Append(c is '<' or '>' or '(' or ')' or '\\' or '"' or ';' or '@' or ',' or ':' || char.IsWhiteSpace(c) ? '?' : c);
        }

        return text.ToString();
    }

    private static bool IsHostName(string value)
    {
        string name = value.TrimEnd('.');
        if (name.Length is 0 or > 255)
        {
            return false;
        }

        foreach (string label in name.Split('.'))
        {
            if (label.Length is 0 or > 63 || label[0] == '-' || label[^1] == '-' || !label.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_'))
            {
                return false;
            }
        }

        return true;
    }

    private sealed class XclientUpdate
    {
        public IPAddress? Address { get; set; }

        public bool AddressUnavailable { get; set; }

        public int? Port { get; set; }

        public bool NameGiven { get; set; }

        public string? Name { get; set; }

        public bool HeloGiven { get; set; }

        public string? Helo { get; set; }

        public bool? Esmtp { get; set; }

        public string? Ident { get; set; }
    }
}
