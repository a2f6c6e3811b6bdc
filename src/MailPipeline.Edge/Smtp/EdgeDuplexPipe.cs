using System.IO.Pipelines;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Authentication;
using System.Security.Cryptography.X509Certificates;
using MailPipeline.Pipeline.Contracts;
using SmtpServer.IO;

namespace MailPipeline.Edge;

/// <summary>
/// Our <see cref="ISecurableDuplexPipe"/>: the library reads and writes through a <see cref="SmtpGuardStream"/>
/// placed above TLS, so the guard sees plaintext. STARTTLS replaces the guard and the pipe, dropping any
/// plaintext the client pipelined after STARTTLS (the CVE-2011-0411 command injection).
/// </summary>
internal sealed class EdgeDuplexPipe : ISecurableDuplexPipe
{
    private readonly Socket _socket;
    private readonly NetworkStream _network;
    private readonly EdgeSession _session;
    private readonly EdgeOptions _options;
    private readonly EdgeDataReceiver _receiver;
    private readonly ClientAddressPolicy _policy;
    private readonly Action _onDispose;
    private SslStream? _ssl;
    private bool _disposed;

    /// <param name="socket">The accepted connection.</param>
    /// <param name="session">Its session.</param>
    /// <param name="options">The edge options.</param>
    /// <param name="policy">XCLIENT and PROXY-header refusals.</param>
    /// <param name="receiver">Takes DATA as it arrives.</param>
    /// <param name="pending">Octets already read past a PROXY header.</param>
    /// <param name="onDispose">Called once when the connection ends.</param>
    public EdgeDuplexPipe(Socket socket, EdgeSession session, EdgeOptions options, ClientAddressPolicy policy, EdgeDataReceiver receiver, byte[] pending, Action onDispose)
    {
        _receiver = receiver;
        _socket = socket;
        _network = new NetworkStream(socket, ownsSocket: true);
        _session = session;
        _options = options;
        _policy = policy;
        _onDispose = onDispose;
        Guard = new SmtpGuardStream(_network, session, options, policy, receiver, greeted: false, pending);
        Input = PipeReader.Create(Guard, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(Guard, new StreamPipeWriterOptions(leaveOpen: true));
    }

    public SmtpGuardStream Guard { get; private set; }

    public PipeReader Input { get; private set; }

    public PipeWriter Output { get; private set; }

    public bool IsSecure => _ssl is not null;

    public SslProtocols SslProtocol => _ssl?.SslProtocol ?? SslProtocols.None;

    public async Task UpgradeAsync(X509Certificate certificate, SslProtocols protocols, CancellationToken cancellationToken = default)
    {
        var ssl = new SslStream(_network, leaveInnerStreamOpen: true);
        try
        {
            using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            timeout.CancelAfter(_options.CommandTimeout);
            await ssl.AuthenticateAsServerAsync(
                new SslServerAuthenticationOptions
                {
                    ServerCertificate = certificate,
                    ClientCertificateRequired = false,
                    EnabledSslProtocols = protocols,
                    CertificateRevocationCheckMode = X509RevocationMode.NoCheck,
                },
                timeout.Token).ConfigureAwait(false);
        }
        catch
        {
            await ssl.DisposeAsync().ConfigureAwait(false);
            throw;
        }

        _ssl = ssl;
        _session.Tls = new EnvelopeTls(ProtocolName(ssl.SslProtocol), ssl.NegotiatedCipherSuite.ToString());
        Guard = new SmtpGuardStream(ssl, _session, _options, _policy, _receiver, greeted: true);
        Input = PipeReader.Create(Guard, new StreamPipeReaderOptions(leaveOpen: true));
        Output = PipeWriter.Create(Guard, new StreamPipeWriterOptions(leaveOpen: true));
    }

    private static string ProtocolName(SslProtocols protocol) => protocol switch
    {
        SslProtocols.Tls12 => "TLSv1.2",
        SslProtocols.Tls13 => "TLSv1.3",
        _ => protocol.ToString(),
    };

    public void Dispose()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        _ = Guard.AbortDataAsync().AsTask(); // a transfer cut off by the session's end keeps nothing
        if (_session.PendingData is { } pending)
        {
            _session.PendingData = null;
            _ = pending.DisposeAsync().AsTask();
        }

        try
        {
            _ssl?.Dispose();
            _socket.Shutdown(SocketShutdown.Both);
        }
        catch (SocketException)
        {
            // already reset by the peer
        }
        catch (ObjectDisposedException)
        {
            // already closed
        }
        finally
        {
            _network.Dispose();
            _onDispose();
        }
    }
}
