using System.Net;
using System.Net.Sockets;
using System.Text;
using MailPipeline.Core.Dns;
using MailPipeline.Pipeline.Contracts;
using MailPipeline.Pipeline.Ports;
using MailPipeline.Pipeline.Storage;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>
/// Starts receiving a message when the client may send DATA: assigns the ULID, builds our Received header (after the
/// session's forward-confirmed reverse DNS lookup) and opens a writer of the raw message store, so the content goes
/// to the store as it arrives. Refuses (452 4.3.1) when the edge's memory budget for message data is used up.
/// </summary>
internal sealed class EdgeDataReceiver
{
    private readonly EdgeOptions _options;
    private readonly IRawMessageStore _store;
    private readonly IDnsResolver? _dns;
    private readonly MessageIdGenerator _ids;
    private readonly TimeProvider _time;
    private readonly ILogger _logger;
    private readonly InSessionChecks? _inSession;

    public EdgeDataReceiver(EdgeOptions options, IRawMessageStore store, MessageBufferPool buffers, IDnsResolver? dns, MessageIdGenerator ids, TimeProvider time, ILogger logger, InSessionChecks? inSession = null)
    {
        _inSession = inSession;
        _options = options;
        _store = store;
        Buffers = buffers;
        _dns = dns;
        _ids = ids;
        _time = time;
        _logger = logger;
    }

    /// <summary>The memory budget of message data in flight.</summary>
    public MessageBufferPool Buffers { get; }

    /// <summary>Opens the transaction, or returns the reply that refuses DATA.</summary>
    public async Task<(EdgeDataTransaction? Transaction, string? Refusal)> BeginAsync(EdgeSession session, CancellationToken cancellationToken)
    {
        if (!Buffers.HasRoom())
        {
            session.LastResult = "data-memory-limit";
            Log.DataRefused(_logger, session.Id, session.ClientIp, "data-memory-limit");
            return (null, "452 4.3.1 Insufficient system resources, try again later");
        }

        await ResolveClientNameAsync(session, cancellationToken).ConfigureAwait(false);
        string id = _ids.NextId();
        DateTimeOffset now = _time.GetUtcNow();
        bool smtpUtf8 = session.MailParameters.ContainsKey("SMTPUTF8");
        byte[] received = Encoding.UTF8.GetBytes(ReceivedHeader.Build(session, _options.HostName, id, session.Recipients, smtpUtf8, now));
        IRawMessageWriter? writer = null;
        try
        {
            writer = _store.BeginMessage(id, Buffers);
            await writer.WriteAsync(received, cancellationToken).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException || (ex is not OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            if (writer is not null)
            {
                await writer.DisposeAsync().ConfigureAwait(false);
            }

            Log.StoreFailed(_logger, ex, id, session.ClientIp);
            session.LastResult = "store-failed";
            return (null, EdgeMessageStore.StoreFailureReply(ex));
        }

        MessageCapture? capture = _inSession?.StartCapture(Buffers);
        capture?.Append(received);
        return (new EdgeDataTransaction(id, writer, _options, received.Length, capture), null);
    }

    /// <summary>Forward-confirmed reverse DNS (PTR, then A/AAAA of that name contains the client), once per session.</summary>
    private async Task ResolveClientNameAsync(EdgeSession session, CancellationToken cancellationToken)
    {
        if (session.ClientHostNameResolved || _dns is null || !_options.ReverseDnsLookup)
        {
            return;
        }

        session.ClientHostNameResolved = true;
        IPAddress address = session.Client.Address;
        var ptr = await _dns.QueryAsync(ReverseName(address), DnsRecordType.Ptr, cancellationToken).ConfigureAwait(false);
        foreach (var record in ptr.RecordsOf<PtrRecord>().Take(5))
        {
            string name = record.Target.TrimEnd('.');
            var type = address.AddressFamily == AddressFamily.InterNetworkV6 ? DnsRecordType.Aaaa : DnsRecordType.A;
            var forward = await _dns.QueryAsync(name, type, cancellationToken).ConfigureAwait(false);
            if (forward.RecordsOf<AddressRecord>().Any(a => a.Address.Equals(address)))
            {
                session.ClientHostName = name;
                return;
            }
        }
    }

    internal static string ReverseName(IPAddress address)
    {
        byte[] bytes = address.GetAddressBytes();
        var name = new StringBuilder();
        if (address.AddressFamily == AddressFamily.InterNetworkV6)
        {
            for (int i = bytes.Length - 1; i >= 0; i--)
            {
                name.Append("0123456789abcdef"[bytes[i] & 0xF]).Append('.').Append("0123456789abcdef"[bytes[i] >> 4]).Append('.');
            }

            return name.Append("ip6.arpa").ToString();
        }

        for (int i = bytes.Length - 1; i >= 0; i--)
        {
            name.Append(bytes[i]).Append('.');
        }

        return name.Append("in-addr.arpa").ToString();
    }
}

/// <summary>
/// One DATA transfer: decodes what the guard reads, inspects it and writes the content to the store's writer as it
/// arrives. Past the size limit the writer is dropped (memory given back) and the rest is only read. The message
/// store decides at the end (reject, or commit and 250).
/// </summary>
internal sealed class EdgeDataTransaction : IAsyncDisposable
{
    private readonly DataDecoder _decoder;
    private readonly HeaderScanner _headers;
    private readonly List<(int Start, int Length)> _runs = [];
    private readonly long _maxSize;
    private readonly int _prefixLength;
    private int _disposed;

    public EdgeDataTransaction(string id, IRawMessageWriter writer, EdgeOptions options, int prefixLength, MessageCapture? capture = null)
    {
        Id = id;
        Capture = capture;
        Writer = writer;
        _maxSize = options.MaxMessageSize;
        _prefixLength = prefixLength;
        _decoder = new DataDecoder(options.BareLineEndings == BareLineEndingPolicy.Normalize);
        _headers = new HeaderScanner(options.EffectiveAuthServId);
    }

    public string Id { get; }

    /// <summary>The in-session checks' copy of the stored bytes (null when the checks are off).</summary>
    public MessageCapture? Capture { get; }

    /// <summary>The writer, until the content is refused (too large) or writing failed.</summary>
    public IRawMessageWriter? Writer { get; private set; }

    public bool Ended => _decoder.Ended;

    public bool TooLarge { get; private set; }

    /// <summary>The store failed while the content arrived (the reply is then 451 or 452).</summary>
    public Exception? WriteError { get; private set; }

    /// <summary>Octets of the stored message so far (our Received header and the content).</summary>
    public long StoredLength => _prefixLength + _decoder.ContentLength;

    /// <summary>Decodes and stores what arrived; returns how much of <paramref name="input"/> belonged to DATA.</summary>
    public async ValueTask<int> FeedAsync(ReadOnlyMemory<byte> input, CancellationToken cancellationToken)
    {
        _runs.Clear();
        int consumed = _decoder.Decode(input.Span, _runs);
        foreach (var (start, length) in _runs)
        {
            var run = start >= 0 ? input.Slice(start, length) : DataDecoder.Synthesised(start);
            if (!_headers.Done)
            {
                _headers.Append(run.Span);
            }

            Capture?.Append(run.Span);

            if (Writer is null)
            {
                continue;
            }

            if (_decoder.ContentLength > _maxSize)
            {
                TooLarge = true;
                await DropWriterAsync().ConfigureAwait(false);
                continue;
            }

            try
            {
                await Writer.WriteAsync(run, cancellationToken).ConfigureAwait(false);
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                WriteError = ex;
                await DropWriterAsync().ConfigureAwait(false);
            }
        }

        return consumed;
    }

    public MessageInspection Inspect() => MessageInspection.From(_decoder, _headers);

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Capture?.Dispose();
            await DropWriterAsync().ConfigureAwait(false);
        }
    }

    private async ValueTask DropWriterAsync()
    {
        var writer = Writer;
        Writer = null;
        if (writer is not null)
        {
            await writer.DisposeAsync().ConfigureAwait(false);
        }
    }
}
