using System.Buffers;
using System.Globalization;
using System.Text;

namespace MailPipeline.Edge;

/// <summary>
/// The byte-level guard between the socket (or TLS stream) and SmtpServer, where the library has no hooks.
/// Read side: hands the library one command line at a time (so our view of the protocol state is exact
/// even for clients that pipeline past DATA or STARTTLS), refuses over-long command lines, and takes DATA out of
/// the library's hands: the content goes through an <see cref="EdgeDataTransaction"/> straight to the store as it
/// arrives (never the whole message in memory), the library sees only an empty dot block, and idle DATA times
/// out. Only CRLF.CRLF ends DATA. When the data memory budget is used up, DATA is answered 452 4.3.1. Write side:
/// gives every reply an RFC 3463 enhanced status code (the library's built-in replies have none), applies
/// the reply override a filter chose, and hides the library version in the greeting.
/// </summary>
internal sealed class SmtpGuardStream : Stream
{
    private static readonly byte[] TerminatorBytes = "\r\n.\r\n"u8.ToArray();

    private readonly Stream _inner;
    private readonly EdgeSession _session;
    private readonly EdgeOptions _options;
    private readonly ClientAddressPolicy _policy;
    private readonly EdgeDataReceiver _receiver;
    private readonly byte[] _raw;
    private readonly List<byte> _replyLine = new(256);
    private int _rawStart;
    private int _rawEnd;
    private EdgeDataTransaction? _data;
    private bool _swallowReply;
    private int _lineLength;
    private int _injectOffset = -1;
    private byte[] _inject = TerminatorBytes;
    private bool _closed;
    private bool _greeted;
    private bool _inEhloReply;
    private bool _probeSignature;
    private bool _awaitingDataReply;

    /// <param name="inner">The socket or TLS stream.</param>
    /// <param name="session">The session.</param>
    /// <param name="options">The edge options.</param>
    /// <param name="policy">XCLIENT and PROXY-header refusals.</param>
    /// <param name="receiver">Takes DATA as it arrives.</param>
    /// <param name="greeted">False for the connection's first guard (it rewrites the greeting and looks for a stray PROXY v2 signature).</param>
    /// <param name="pending">Octets already read from the connection (what followed a PROXY header).</param>
    public SmtpGuardStream(Stream inner, EdgeSession session, EdgeOptions options, ClientAddressPolicy policy, EdgeDataReceiver receiver, bool greeted, ReadOnlySpan<byte> pending = default)
    {
        _inner = inner;
        _session = session;
        _options = options;
        _policy = policy;
        _receiver = receiver;
        _greeted = greeted;
        _probeSignature = !greeted;
        _raw = new byte[Math.Max(16384, Math.Max(options.MaxCommandLineLength, pending.Length))];
        pending.CopyTo(_raw);
        _rawEnd = pending.Length;
    }

    /// <summary>True once the guard closed the session itself (timeout, line too long).</summary>
    public bool Closed => _closed;

    public override bool CanRead => true;

    public override bool CanSeek => false;

    public override bool CanWrite => true;

    public override long Length => throw new NotSupportedException();

    public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

    public override void Flush() => _inner.Flush();

    public override Task FlushAsync(CancellationToken cancellationToken) => _inner.FlushAsync(cancellationToken);

    public override int Read(byte[] buffer, int offset, int count) => ReadAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

    public override void SetLength(long value) => throw new NotSupportedException();

    public override void Write(byte[] buffer, int offset, int count) => WriteAsync(buffer.AsMemory(offset, count)).AsTask().GetAwaiter().GetResult();

    public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        ReadAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default)
    {
        while (true)
        {
            if (_closed)
            {
                return 0;
            }

            if (_injectOffset >= 0)
            {
                int n = Math.Min(buffer.Length, _inject.Length - _injectOffset);
                _inject.AsSpan(_injectOffset, n).CopyTo(buffer.Span);
                _injectOffset += n;
                if (_injectOffset == _inject.Length)
                {
                    _injectOffset = -1;
                }

                return n;
            }

            if (_data is null && _lineLength == 0)
            {
                // At a command line's start: buffer the whole line, so a verb split across packets is still
                // recognised. XCLIENT and PROXY are answered here and never reach SmtpServer (whose own
                // PROXY command would take a header from anyone, anywhere in the session, without a reply).
                int line = await FillLineAsync(cancellationToken).ConfigureAwait(false);
                if (line == 0)
                {
                    return 0;
                }

                if (line < 0)
                {
                    await CloseWithAsync("500 5.5.6 Line too long\r\n").ConfigureAwait(false);
                    return 0;
                }

                if (await InterceptAsync(line).ConfigureAwait(false))
                {
                    continue;
                }
            }
            else if (_rawStart == _rawEnd)
            {
                int read = await ReadInnerAsync(cancellationToken).ConfigureAwait(false);
                if (read == 0)
                {
                    return 0;
                }

                _rawStart = 0;
                _rawEnd = read;
            }

            if (_data is { } data)
            {
                _rawStart += await data.FeedAsync(_raw.AsMemory(_rawStart, _rawEnd - _rawStart), cancellationToken).ConfigureAwait(false);
                if (data.Ended)
                {
                    // The message store takes the transaction from the session; the library gets an empty dot block.
                    _data = null;
                    _lineLength = 0;
                    _inject = TerminatorBytes;
                    _injectOffset = 0;
                }

                continue;
            }

            int produced = TransferCommand(buffer.Span);
            if (produced < 0)
            {
                await CloseWithAsync("500 5.5.6 Line too long\r\n").ConfigureAwait(false);
                return 0;
            }

            if (produced > 0)
            {
                return produced;
            }
        }
    }

    /// <summary>
    /// Makes the raw buffer hold one complete command line at <c>_rawStart</c>: its length including LF,
    /// 0 at end of stream, -1 when it is longer than Edge:MaxCommandLineLength. On the connection's first
    /// line it first reads enough to tell a PROXY v2 signature from an SMTP command.
    /// </summary>
    private async ValueTask<int> FillLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            ReadOnlySpan<byte> available = _raw.AsSpan(_rawStart, _rawEnd - _rawStart);
            bool probing = _probeSignature && available.Length < 12 && (available.IsEmpty || ProxyProtocolParser.StartsLikeV2(available));
            int newline = available.IndexOf((byte)'\n');
            if (!probing && newline >= 0)
            {
                _session.Wait?.EndWait();
                return newline + 1 > _options.MaxCommandLineLength ? -1 : newline + 1;
            }

            if (available.Length >= _options.MaxCommandLineLength)
            {
                return -1;
            }

            if (_rawStart > 0)
            {
                available.CopyTo(_raw);
                _rawEnd -= _rawStart;
                _rawStart = 0;
            }

            int read = await ReadWaitingAsync(cancellationToken).ConfigureAwait(false);
            if (read <= 0)
            {
                return 0;
            }

            _rawEnd += read;
        }
    }

    /// <summary>
    /// Reads while the session waits for a command line, under the session registry's eye: it closes a session
    /// that waits longer than the timeout in force (shorter under stress) or that it evicts for a new connection.
    /// -1 when it did (the guard has sent the 421 and closed).
    /// </summary>
    private async ValueTask<int> ReadWaitingAsync(CancellationToken cancellationToken)
    {
        if (_session.Wait is not { } wait)
        {
            return await _inner.ReadAsync(_raw.AsMemory(_rawEnd), cancellationToken).ConfigureAwait(false);
        }

        wait.BeginWait();
        using var closed = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, wait.Closed);
        try
        {
            return await _inner.ReadAsync(_raw.AsMemory(_rawEnd), closed.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && wait.Closing)
        {
            bool evicted = wait.Reason == SessionRegistry.CloseReason.Evicted;
            _session.LastResult = evicted ? "idle-evicted" : "idle-timeout";
            await CloseWithAsync(evicted
                ? $"421 4.7.0 {_options.HostName} Too many connections, closing an idle one\r\n"
                : $"421 4.4.2 {_options.HostName} Error: timeout exceeded\r\n").ConfigureAwait(false);
            return -1;
        }
    }

    /// <summary>Answers a buffered command line that is the guard's own business; true when it was consumed.</summary>
    private async ValueTask<bool> InterceptAsync(int length)
    {
        ReadOnlySpan<byte> line = _raw.AsSpan(_rawStart, length);
        if (_probeSignature)
        {
            _probeSignature = false;
            if (ProxyProtocolParser.HasV2Signature(_raw.AsSpan(_rawStart, _rawEnd - _rawStart)))
            {
                await CloseWithAsync(_policy.RefuseProxyHeader(_session, "v2")).ConfigureAwait(false);
                return true;
            }
        }

        string verb = VerbOf(line);
        if (verb == "PROXY")
        {
            await CloseWithAsync(_policy.RefuseProxyHeader(_session, "v1")).ConfigureAwait(false);
            return true;
        }

        if (verb is not ("XCLIENT" or "XFORWARD"))
        {
            return false;
        }

        string text = Encoding.Latin1.GetString(line).TrimEnd('\r', '\n');
        _rawStart += length;
        bool close = false;
        string reply = verb == "XCLIENT" ? _policy.Xclient(_session, text, out close) : _policy.Xforward(_session, text);
        if (close)
        {
            await CloseWithAsync(reply + "\r\n").ConfigureAwait(false);
            return true;
        }

        await _inner.WriteAsync(Encoding.ASCII.GetBytes(reply + "\r\n")).ConfigureAwait(false);
        await _inner.FlushAsync().ConfigureAwait(false);
        return true;
    }

    private async ValueTask<int> ReadInnerAsync(CancellationToken cancellationToken)
    {
        if (_data is null)
        {
            return await _inner.ReadAsync(_raw, cancellationToken).ConfigureAwait(false); // the library times commands
        }

        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(_session.Wait?.Registry.TimeoutNow(_options.DataTimeout) ?? _options.DataTimeout);
        try
        {
            return await _inner.ReadAsync(_raw, timeout.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            _session.LastResult = "data-timeout";
            await AbortDataAsync().ConfigureAwait(false);
            await CloseWithAsync($"421 4.4.2 {_options.HostName} Error: timeout exceeded\r\n").ConfigureAwait(false);
            return 0;
        }
    }

    /// <summary>Command mode: at most one line, so bytes after DATA or STARTTLS stay here until the library is ready for them.</summary>
    private int TransferCommand(Span<byte> destination)
    {
        ReadOnlySpan<byte> source = _raw.AsSpan(_rawStart, _rawEnd - _rawStart);
        int newline = source.IndexOf((byte)'\n');
        int count = newline >= 0 ? newline + 1 : source.Length;
        count = Math.Min(count, destination.Length);
        _lineLength += count;
        if (_lineLength > _options.MaxCommandLineLength)
        {
            return -1;
        }

        if (count > 0 && source[count - 1] == '\n')
        {
            if (_lineLength == count && !System.Text.Ascii.IsValid(source[..count]) && InternationalDomains.TryToALabels(source[..count]) is { } rewritten)
            {
                // SmtpServer decodes domains as ASCII and would turn a U-label into '?': hand it the A-label form.
                _lineLength = 0;
                _rawStart += count;
                _inject = rewritten;
                _injectOffset = 0;
                return 0;
            }

            _lineLength = 0;
            _session.LineVerb = VerbOf(source[..count]);
        }

        source[..count].CopyTo(destination);
        _rawStart += count;
        return count;
    }

    private static string VerbOf(ReadOnlySpan<byte> line)
    {
        int end = line.IndexOfAny((byte)' ', (byte)'\r', (byte)'\n');
        ReadOnlySpan<byte> verb = line[..(end < 0 ? Math.Min(line.Length, 10) : Math.Min(end, 10))];
        return Encoding.ASCII.GetString(verb).ToUpperInvariant();
    }

    /// <summary>The client may send DATA now: open the transaction, or refuse DATA (the library still reads an empty dot block).</summary>
    private async Task<string> StartDataAsync(CancellationToken cancellationToken)
    {
        await AbortDataAsync().ConfigureAwait(false);
        _awaitingDataReply = true; // the reply after the dot (or the swallowed one after a refusal) ends the transaction
        var (transaction, refusal) = await _receiver.BeginAsync(_session, cancellationToken).ConfigureAwait(false);
        if (transaction is null)
        {
            _session.PendingData = null;
            _swallowReply = true; // the library answers its empty message; the client already has our refusal
            _inject = TerminatorBytes;
            _injectOffset = 0;
            return refusal!;
        }

        _data = transaction;
        _session.PendingData = transaction;
        return "354 End data with <CR><LF>.<CR><LF>";
    }

    /// <summary>Drops a transfer cut short (timeout, disconnect): nothing of it is kept.</summary>
    public async ValueTask AbortDataAsync()
    {
        var data = _data;
        _data = null;
        if (data is not null)
        {
            _session.PendingData = null;
            await data.DisposeAsync().ConfigureAwait(false);
        }
    }

    public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
        WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

    public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
    {
        if (_closed)
        {
            return; // the guard already said goodbye; late replies from the library are dropped
        }

        var output = new ArrayBufferWriter<byte>(buffer.Length + 64);
        for (int i = 0; i < buffer.Length; i++)
        {
            byte b = buffer.Span[i];
            _replyLine.Add(b);
            if (b == '\n')
            {
                string line = Encoding.UTF8.GetString(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_replyLine)).TrimEnd('\r', '\n');
                _replyLine.Clear();
                string? rewritten;
                if (_swallowReply && line.Length >= 3 && char.IsAsciiDigit(line[0]))
                {
                    _swallowReply = line.Length > 3 && line[3] == '-';
                    if (!_swallowReply)
                    {
                        TrackTransaction(0, last: true);
                    }

                    rewritten = null;
                }
                else if (line.StartsWith("354", StringComparison.Ordinal))
                {
                    rewritten = await StartDataAsync(cancellationToken).ConfigureAwait(false);
                }
                else
                {
                    rewritten = RewriteReply(line);
                }

                if (rewritten is not null)
                {
                    output.Write(Encoding.UTF8.GetBytes(rewritten + "\r\n"));
                }
            }
        }

        if (output.WrittenCount > 0)
        {
            await _inner.WriteAsync(output.WrittenMemory, cancellationToken).ConfigureAwait(false);
        }
    }

    /// <summary>Rewrites one reply line; null drops it (continuation lines of a replaced reply).</summary>
    private string? RewriteReply(string line)
    {
        if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), NumberStyles.None, CultureInfo.InvariantCulture, out int code))
        {
            return line;
        }

        bool last = line.Length == 3 || line[3] == ' ';
        string text = line.Length > 4 ? line[4..] : string.Empty;

        if (!_greeted && code == 220)
        {
            _greeted = true;
            return ClientAddressPolicy.Greeting(_options);
        }

        TrackTransaction(code, last);

        if (_inEhloReply || (code == 250 && _session.LineVerb is "EHLO" or "HELO"))
        {
            // RFC 2034: the EHLO/HELO reply carries no enhanced codes.
            _inEhloReply = !last;
            return line;
        }

        if (_session.ReplyOverride is { } replacement && code >= 400)
        {
            if (!last)
            {
                return null;
            }

            _session.ReplyOverride = null;
            return replacement;
        }

        if (text.Length >= 5 && char.IsAsciiDigit(text[0]) && text[1] == '.')
        {
            return line; // already enhanced
        }

        // SmtpServer quirks: 221 (not 421) on timeout or cancellation, 501 (not 503) for commands out of
        // sequence, 502 "unrecognized" for a known command with bad arguments.
        string verb = _session.LineVerb ?? string.Empty;
        if (code == 221 && verb != "QUIT")
        {
            return text.Contains("Timeout", StringComparison.OrdinalIgnoreCase)
                ? $"421 4.4.2 {_options.HostName} Error: timeout exceeded"
                : $"421 4.3.2 {_options.HostName} Service shutting down, closing connection";
        }

        if (code == 501 && text.StartsWith("expected ", StringComparison.Ordinal))
        {
            return $"503{(last ? ' ' : '-')}5.5.1 Bad sequence of commands";
        }

        if (code == 502 && verb is "MAIL" or "RCPT" or "HELO" or "EHLO" or "DATA" or "RSET" or "NOOP" or "QUIT" or "STARTTLS")
        {
            string detail = verb switch
            {
                "MAIL" => "5.1.7 Bad sender address syntax",
                "RCPT" => "5.1.3 Bad recipient address syntax",
                _ => "5.5.4 Syntax error in parameters",
            };
            return $"501{(last ? ' ' : '-')}{detail}";
        }

        string enhanced = code == 421 && text.Contains("Timeout", StringComparison.OrdinalIgnoreCase) ? "4.4.2" : EnhancedCodeFor(code, verb);
        if (code == 220 && verb == "STARTTLS")
        {
            text = "Ready to start TLS";
        }
        else if (code == 221)
        {
            text = $"{_options.HostName} closing connection";
        }

        return $"{line[..3]}{(last ? ' ' : '-')}{enhanced} {text}";
    }

    /// <summary>Follows the mail transaction from the replies (XCLIENT is refused inside one).</summary>
    private void TrackTransaction(int code, bool last)
    {
        if (!last)
        {
            return;
        }

        if (_awaitingDataReply && code != 354)
        {
            _awaitingDataReply = false;
            _session.EndTransaction();
            return;
        }

        switch (_session.LineVerb)
        {
            case "MAIL" when code == 250:
                _session.InTransaction = true;
                break;
            case "RSET" or "EHLO" or "HELO" when code == 250:
                _session.EndTransaction();
                break;
        }
    }

    private static string EnhancedCodeFor(int code, string? command) => code switch
    {
        250 when command == "MAIL" => "2.1.0",
        250 when command == "RCPT" => "2.1.5",
        < 400 => "2.0.0",
        421 => "4.3.2",
        450 or 451 => "4.3.0",
        452 => "4.5.3",
        500 => "5.5.2",
        501 or 504 or 555 => "5.5.4",
        502 or 503 => "5.5.1",
        550 => "5.1.1",
        552 => "5.3.4",
        553 => "5.1.3",
        554 when command == "DATA" => "5.5.1",
        _ => code >= 500 ? "5.0.0" : "4.0.0",
    };

    /// <summary>Writes a final reply straight to the client and makes the session end (reads then return EOF).</summary>
    public async Task CloseWithAsync(string reply)
    {
        if (_closed)
        {
            return;
        }

        _closed = true;
        try
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
            await _inner.WriteAsync(Encoding.ASCII.GetBytes(reply), timeout.Token).ConfigureAwait(false);
            await _inner.FlushAsync(timeout.Token).ConfigureAwait(false);
        }
        catch (Exception ex) when (ex is IOException or OperationCanceledException or ObjectDisposedException)
        {
            // the client is gone; the session ends either way
        }
    }

    protected override void Dispose(bool disposing)
    {
        // The inner stream belongs to the duplex pipe, which disposes it.
        base.Dispose(disposing);
    }
}
