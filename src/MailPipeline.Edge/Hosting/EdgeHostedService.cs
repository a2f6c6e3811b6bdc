using System.Net;
using System.Security.Authentication;
using MailPipeline.Core.Authentication;
using MailPipeline.Core.Dns;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using SmtpServer;

namespace MailPipeline.Edge;

/// <summary>
/// Runs the SMTP edge in a generic host. Stop is graceful: stop accepting, let sessions in flight finish
/// for <see cref="EdgeOptions.ShutdownGracePeriod"/>, then cancel the rest (they get 421; nothing they
/// sent was acknowledged, so nothing is lost).
/// </summary>
public sealed class EdgeHostedService : BackgroundService
{
    private readonly EdgeOptions _options;
    private readonly ILogger<EdgeHostedService> _logger;
    private readonly ConnectionLimiter _limiter;
    private readonly EdgeListenerFactory _listeners;
    private readonly SmtpServer.SmtpServer _server;
    private readonly CancellationTokenSource _sessions = new();
    private readonly InSessionChecks? _inSession;

    /// <summary>Creates the service from the host's services.</summary>
    /// <param name="options">The edge options.</param>
    /// <param name="store">Where raw messages go.</param>
    /// <param name="publisher">How the pipeline is told.</param>
    /// <param name="metrics">The edge counters.</param>
    /// <param name="services">For the optional <see cref="IDnsResolver"/>, <see cref="TimeProvider"/>, <see cref="MailPipeline.Delivery.RecipientVerifier"/>, and <see cref="MessageAuthenticator"/> with the optional <see cref="IStageResultStore"/> (in-session checks).</param>
    /// <param name="loggerFactory">Logging.</param>
    public EdgeHostedService(IOptions<EdgeOptions> options, IRawMessageStore store, IMailReceivedPublisher publisher, EdgeMetrics metrics, IServiceProvider services, ILoggerFactory loggerFactory)
    {
        ArgumentNullException.ThrowIfNull(options);
        ArgumentNullException.ThrowIfNull(services);
        ArgumentNullException.ThrowIfNull(loggerFactory);
        _options = options.Value;
        _logger = loggerFactory.CreateLogger<EdgeHostedService>();
        TimeProvider time = services.GetService<TimeProvider>() ?? TimeProvider.System;
        ILogger smtpLogger = loggerFactory.CreateLogger("MailPipeline.Edge.Smtp");
        FileDescriptorLimit.Ensure(_options.MaxSessions, _logger);
        _limiter = new ConnectionLimiter(_options, time);
        Buffers = new MessageBufferPool(_options.DataMemoryLimit);
        _inSession = _options.InSession.Enabled
            ? new InSessionChecks(
                _options.InSession,
                services.GetService<MessageAuthenticator>() ?? throw new InvalidOperationException("Edge:InSession needs the checks: register a MessageAuthenticator."),
                services.GetService<IStageResultStore>(),
                time,
                smtpLogger)
            : null;
        var receiver = new EdgeDataReceiver(_options, store, Buffers, services.GetService<IDnsResolver>(), new MessageIdGenerator(time), time, smtpLogger, _inSession);
        _listeners = new EdgeListenerFactory(_options, _limiter, new ClientAddressPolicy(_options, _limiter, metrics, smtpLogger), metrics, time, smtpLogger, receiver);

        var provider = new SmtpServer.ComponentModel.ServiceProvider();
        provider.Add(_listeners);
        provider.Add(new EdgeCommandFactory(_options));
        provider.Add(new EdgeMailboxFilter(_options, new RecipientPolicy(_options), metrics, smtpLogger, services.GetService<MailPipeline.Delivery.RecipientVerifier>(), _inSession));
        provider.Add(new EdgeMessageStore(_options, store, publisher, metrics, time, smtpLogger, _inSession));

        ICertificateFactory? certificates = _options.TlsCertificatePath is null ? null : new ReloadingCertificateFactory(_options, time, smtpLogger);
        var serverOptions = new SmtpServerOptionsBuilder()
            .ServerName(_options.HostName)
            .MaxMessageSize(_options.MaxMessageSize)
            .MaxRetryCount(_options.MaxErrors)
            .CommandWaitTimeout(_options.CommandTimeout)
            .Endpoint(endpoint =>
            {
                endpoint.Endpoint(new IPEndPoint(IPAddress.Parse(_options.ListenAddress), _options.Port))
                    .SessionTimeout(_options.SessionTimeout)
                    .SupportedSslProtocols(SslProtocols.Tls12 | SslProtocols.Tls13);
                if (certificates is not null)
                {
                    endpoint.Certificate(certificates);
                }
            })
            .Build();
        _server = new SmtpServer.SmtpServer(serverOptions, provider);
        _server.SessionFaulted += (_, e) =>
        {
            string id = e.Context.Properties.TryGetValue(EdgeSession.PropertyKey, out object? s) ? ((EdgeSession)s).Id : "-";
            Log.SessionFaulted(_logger, e.Exception, id);
        };
    }

    /// <summary>Completes with the bound SMTP endpoint once the edge listens (port 0 picks a free port).</summary>
    public Task<IPEndPoint> ListeningEndpoint => _listeners.Bound;

    /// <summary>The memory budget of message data in flight (<see cref="EdgeOptions.DataMemoryLimit"/>).</summary>
    public MessageBufferPool Buffers { get; }

    /// <summary>True while the edge accepts connections.</summary>
    public bool IsAccepting => _listeners.IsAccepting;

    /// <summary>Sessions currently open.</summary>
    public int ActiveSessions => _limiter.ActiveSessions;

    /// <inheritdoc />
    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_inSession is not null && _options.InSession.WarmUp)
        {
            // Before listening: the first message's budget should not be spent compiling the checks.
            await _inSession.WarmUpAsync(stoppingToken).ConfigureAwait(false);
        }

        // Sessions get their own token: the host's stopping token would cut them off at once.
        await _server.StartAsync(_sessions.Token).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        Log.Stopping(_logger, _limiter.ActiveSessions, _options.ShutdownGracePeriod);
        _listeners.StopAccepting();
        using (var grace = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            grace.CancelAfter(_options.ShutdownGracePeriod);
            try
            {
                while (_limiter.ActiveSessions > 0)
                {
                    await Task.Delay(50, grace.Token).ConfigureAwait(false);
                }
            }
            catch (OperationCanceledException)
            {
                // grace period over: the rest are cancelled below
            }
        }

        await _sessions.CancelAsync().ConfigureAwait(false);
        await base.StopAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <inheritdoc />
    public override void Dispose()
    {
        _sessions.Dispose();
        _listeners.Sessions.Dispose();
        base.Dispose();
    }
}
