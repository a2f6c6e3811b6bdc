using System.Buffers;
using System.Net.Security;
using System.Text;

namespace MailPipeline.Delivery.Lmtp;

/// <summary>
/// A minimal RFC 2033 LMTP client for one transaction: greeting, LHLO, optional STARTTLS, MAIL, RCPT, DATA with
/// one reply per accepted recipient, QUIT. MailKit 4.18 has no LMTP client; this one speaks only what delivery needs
/// (no pipelining, no BDAT) and is tested against Postfix's smtp-sink -L and aiosmtpd's LMTP server.
/// </summary>
internal sealed class LmtpSession : IAsyncDisposable
{
    private const int MaxLineLength = 4096;
    private const int MaxReplyLines = 100;
    private readonly TimeSpan _timeout;
    private Stream _stream;
    private byte[] _buffer = new byte[8192];
    private int _start;
    private int _end;

    public LmtpSession(Stream stream, TimeSpan timeout)
    {
        _stream = stream;
        _timeout = timeout;
    }

    public HashSet<string> Capabilities { get; } = new(StringComparer.OrdinalIgnoreCase);

    public string? TlsDescription { get; private set; }

    /// <summary>Reads one (possibly multi-line) reply.</summary>
    public async Task<(int Code, string Text)> ReadReplyAsync(CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        var lines = new List<string>();
        try
        {
            while (true)
            {
                string line = await ReadLineAsync(limit.Token).ConfigureAwait(false);
                if (line.Length < 3 || !int.TryParse(line.AsSpan(0, 3), System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out int code) || code is < 200 or > 599)
                {
                    throw new IOException($"malformed LMTP reply line: {Truncate(line)}");
                }

                lines.Add(line.Length > 4 ? line[4..] : string.Empty);
                if (line.Length == 3 || line[3] == ' ')
                {
                    return (code, string.Join(" / ", lines));
                }

                if (line[3] != '-' || lines.Count > MaxReplyLines)
                {
                    throw new IOException($"malformed LMTP reply line: {Truncate(line)}");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"no LMTP reply within {_timeout.TotalSeconds:0} s");
        }
    }

    public async Task<(int Code, string Text)> CommandAsync(string command, CancellationToken cancellationToken)
    {
        await WriteAsync(Encoding.UTF8.GetBytes(command + "\r\n"), cancellationToken).ConfigureAwait(false);
        return await ReadReplyAsync(cancellationToken).ConfigureAwait(false);
    }

    /// <summary>LHLO; records the extensions of a 250 reply.</summary>
    public Task<(int Code, string Text)> LhloAsync(string name, CancellationToken cancellationToken) => HelloAsync("LHLO", name, cancellationToken);

    /// <summary>LHLO or EHLO (the recipient probe speaks SMTP on this session too); records the extensions of a 250 reply.</summary>
    public async Task<(int Code, string Text)> HelloAsync(string verb, string name, CancellationToken cancellationToken)
    {
        var reply = await CommandAsync(verb + " " + name, cancellationToken).ConfigureAwait(false);
        Capabilities.Clear();
        if (reply.Code == 250)
        {
            foreach (string line in reply.Text.Split(" / ").Skip(1))
            {
                Capabilities.Add(line.Split(' ', 2)[0]);
            }
        }

        return reply;
    }

    /// <summary>Upgrades the connection after a 220 reply to STARTTLS.</summary>
    public async Task StartTlsAsync(string serverName, RemoteCertificateValidationCallback validation, CancellationToken cancellationToken)
    {
        var ssl = new SslStream(_stream, leaveInnerStreamOpen: false);
        var options = new SslClientAuthenticationOptions
        {
            TargetHost = serverName,
            RemoteCertificateValidationCallback = validation,
        };
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        await ssl.AuthenticateAsClientAsync(options, limit.Token).ConfigureAwait(false);
        _stream = ssl;
        _start = _end = 0;
        TlsDescription = $"{ssl.SslProtocol} {ssl.NegotiatedCipherSuite}";
    }

    /// <summary>Sends the message with dot-stuffing (RFC 5321 §4.5.2) and the final dot line.</summary>
    public async Task SendDataAsync(ReadOnlySequence<byte> message, CancellationToken cancellationToken)
    {
        const int Chunk = 256 * 1024;
        var output = new ArrayBufferWriter<byte>(Chunk + 4096);
        bool lineStart = true;
        foreach (var segment in message)
        {
            for (int offset = 0; offset < segment.Length; offset += Chunk)
            {
                output.ResetWrittenCount();
                lineStart = Stuff(segment.Span.Slice(offset, Math.Min(Chunk, segment.Length - offset)), lineStart, output);
                await WriteAsync(output.WrittenMemory, cancellationToken).ConfigureAwait(false);
            }
        }

        output.ResetWrittenCount();
        if (!lineStart)
        {
            output.Write("\r\n"u8);
        }

        output.Write(".\r\n"u8);
        await WriteAsync(output.WrittenMemory, cancellationToken).ConfigureAwait(false);
    }

    private static bool Stuff(ReadOnlySpan<byte> data, bool lineStart, ArrayBufferWriter<byte> output)
    {
        while (!data.IsEmpty)
        {
            if (lineStart && data[0] == (byte)'.')
            {
                output.Write("."u8);
            }

            int newline = data.IndexOf((byte)'\n');
            var line = newline < 0 ? data : data[..(newline + 1)];
            output.Write(line);
            lineStart = newline >= 0;
            data = data[line.Length..];
        }

        return lineStart;
    }

    public async ValueTask DisposeAsync() => await _stream.DisposeAsync().ConfigureAwait(false);

    private async Task WriteAsync(ReadOnlyMemory<byte> data, CancellationToken cancellationToken)
    {
        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(_timeout);
        await _stream.WriteAsync(data, limit.Token).ConfigureAwait(false);
        await _stream.FlushAsync(limit.Token).ConfigureAwait(false);
    }

    private async Task<string> ReadLineAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            int newline = Array.IndexOf(_buffer, (byte)'\n', _start, _end - _start);
            if (newline >= 0)
            {
                int length = newline - _start;
                if (length > 0 && _buffer[newline - 1] == (byte)'\r')
                {
                    length--;
                }

                string line = Encoding.UTF8.GetString(_buffer, _start, length);
                _start = newline + 1;
                return line;
            }

            if (_end - _start > MaxLineLength)
            {
                throw new IOException("LMTP reply line too long");
            }

            if (_start > 0)
            {
                Buffer.BlockCopy(_buffer, _start, _buffer, 0, _end - _start);
                _end -= _start;
                _start = 0;
            }

            if (_end == _buffer.Length)
            {
                Array.Resize(ref _buffer, _buffer.Length * 2);
            }

            int read = await _stream.ReadAsync(_buffer.AsMemory(_end), cancellationToken).ConfigureAwait(false);
            if (read == 0)
            {
                throw new IOException("the LMTP server closed the connection");
            }

            _end += read;
        }
    }

    private static string Truncate(string line) => line.Length > 80 ? line[..80] + "…" : line;
}
