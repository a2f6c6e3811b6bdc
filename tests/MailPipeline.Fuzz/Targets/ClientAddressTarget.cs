using System.Net;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;

namespace MailPipeline.Fuzz.Targets;

/// <summary>
/// How the edge learns the real client: a PROXY protocol v1/v2 header from a trusted balancer, or XCLIENT / XFORWARD
/// command lines from a trusted front end. Input starting with XCLIENT or XFORWARD is a sequence of such lines on one
/// session; anything else is the first octets of a connection. Oracles: the PROXY parser gives the same answer however
/// the header arrives (a prefix of a valid header is never refused, a complete header stays complete as more bytes
/// follow), a header never claims more octets than it was given, and every reply is one line with a code.
/// </summary>
internal sealed class ClientAddressTarget : FuzzTarget
{
    private const int MaxV2Length = 536;
    private static readonly IPEndPoint Peer = new(IPAddress.Loopback, 40000);

    public override string Name => "client-address";

    public override string Covers => "ProxyProtocolParser (v1 text, v2 binary, TLVs, CRC32C) and ClientAddressPolicy XCLIENT/XFORWARD (xtext)";

    public override void Run(ReadOnlySpan<byte> input)
    {
        if (input.StartsWith("XCLIENT"u8) || input.StartsWith("XFORWARD"u8))
        {
            Commands(Encoding.UTF8.GetString(input));
            return;
        }

        var whole = Edge.ProxyProtocolParser.Parse(input, MaxV2Length, out var header, out _);
        if (whole == Edge.ProxyParseStatus.Complete && (header is null || header.Length <= 0 || header.Length > input.Length))
        {
            throw new FuzzFindingException($"complete header of {header?.Length} octets from {input.Length}");
        }

        // As the edge reads it: octet by octet. Before the end of a header that parses, nothing may be refused.
        int limit = Math.Min(input.Length, 600);
        for (int k = 0; k < limit; k++)
        {
            var partial = Edge.ProxyProtocolParser.Parse(input[..k], MaxV2Length, out var early, out _);
            if (whole == Edge.ProxyParseStatus.Complete && k < header!.Length && partial != Edge.ProxyParseStatus.NeedMore)
            {
                throw new FuzzFindingException($"{partial} after {k} of a {header.Length}-octet header that parses");
            }

            if (partial == Edge.ProxyParseStatus.Complete && (whole != Edge.ProxyParseStatus.Complete || early != header))
            {
                throw new FuzzFindingException($"complete after {k} octets but {whole} with all {input.Length}");
            }
        }
    }

    private static void Commands(string text)
    {
        var options = new Edge.EdgeOptions { HostName = "mx.ours.test" };
        options.XclientHosts.Add("127.0.0.0/8");
        options.XforwardHosts.Add("127.0.0.0/8");
        var limiter = new Edge.ConnectionLimiter(options, TimeProvider.System);
        var policy = new Edge.ClientAddressPolicy(options, limiter, new Edge.EdgeMetrics(), NullLogger.Instance);
        var session = new Edge.EdgeSession("fuzz", Peer, Peer, "direct", DateTimeOffset.UnixEpoch) { XclientAllowed = true, XforwardAllowed = true };
        foreach (string line in text.Split('\n'))
        {
            string command = line.TrimEnd('\r');
            string reply = command.StartsWith("XFORWARD", StringComparison.OrdinalIgnoreCase)
                ? policy.Xforward(session, command)
                : policy.Xclient(session, command, out _);
            string body = reply.EndsWith("\r\n", StringComparison.Ordinal) ? reply[..^2] : reply;
            if (body.Length < 3 || !char.IsAsciiDigit(body[0]) || body.Contains('\n', StringComparison.Ordinal) || body.Contains('\r', StringComparison.Ordinal))
            {
                throw new FuzzFindingException($"reply is not one line with a code: {body}");
            }

            _ = session.Client.ToString();
        }
    }
}
