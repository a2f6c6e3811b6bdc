using System.Net;

namespace MailPipeline.Edge;

/// <summary>
/// A decoded PROXY protocol header. <see cref="Source"/> is null when the connection's own endpoints
/// apply: a v2 <c>LOCAL</c> command (the proxy's health check), v1 <c>PROXY UNKNOWN</c>, or a v2
/// address family the edge has no use for (<c>AF_UNSPEC</c>, <c>AF_UNIX</c>, a non-stream protocol).
/// </summary>
/// <param name="Version">1 (text) or 2 (binary).</param>
/// <param name="Command">"PROXY", "LOCAL" (v2) or "UNKNOWN" (v1).</param>
/// <param name="Source">The client's address and port, IPv4-mapped addresses as IPv4; null when the real endpoints apply.</param>
/// <param name="Destination">The address the client connected to, when given.</param>
/// <param name="Length">Octets of the header on the wire.</param>
/// <param name="TlvCount">Type-length-value fields skipped (v2).</param>
internal sealed record ProxyHeader(int Version, string Command, IPEndPoint? Source, IPEndPoint? Destination, int Length, int TlvCount)
{
    /// <summary>The label used in logs and metrics: proxy-v1, proxy-v2, or proxy-local when the real endpoints apply.</summary>
    public string Label => Source is null ? "proxy-local" : $"proxy-v{Version}";
}
