using System.Net;

namespace MailPipeline.Delivery;

/// <summary>One address to try for a next hop: the host name it stands for (TLS server name) and its address.</summary>
/// <param name="HostName">The host name (MX exchange or configured host), or the address text for an IP literal.</param>
/// <param name="Address">The address to connect to.</param>
/// <param name="Port">The port.</param>
public sealed record NextHopTarget(string HostName, IPAddress Address, int Port)
{
    /// <summary><c>host[address]:port</c>, as Postfix logs a relay.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => HostName == Address.ToString()
        ? $"[{Address}]:{Port}"
        : $"{HostName}[{Address}]:{Port}";
}

/// <summary>The addresses of a next hop in the order to try them, or why there are none.</summary>
/// <param name="Targets">The addresses, in order.</param>
/// <param name="Error">Why there is no address (with <paramref name="Permanent"/>).</param>
/// <param name="Permanent">True when no retry can help (the domain does not exist, or publishes a null MX).</param>
public sealed record NextHopResolution(IReadOnlyList<NextHopTarget> Targets, string? Error = null, bool Permanent = false);
