using System.Text;

namespace MailPipeline.Edge;

/// <summary>
/// Reads the header block of message content as it streams past (up to the empty line, at most 1 MiB): counts
/// <c>Received</c> fields (the loop check) and keeps the values of <c>Authentication-Results</c> fields that claim our
/// authserv-id (RFC 8601 §5: forged or stale). Holds one header line at a time.
/// </summary>
internal sealed class HeaderScanner
{
    private const int ScanLimit = 1024 * 1024;
    private const int LineLimit = 64 * 1024;
    private readonly string _authServId;
    private readonly List<byte> _line = new(256);
    private readonly List<string> _forged = [];
    private readonly StringBuilder _value = new();
    private string? _name;
    private long _scanned;
    private bool _done;

    public HeaderScanner(string authServId) => _authServId = authServId;

    public int ReceivedHeaders { get; private set; }

    public IReadOnlyList<string> ForgedAuthenticationResults => _forged;

    public bool Done => _done;

    public void Append(ReadOnlySpan<byte> content)
    {
        while (!_done && !content.IsEmpty)
        {
            int room = (int)Math.Min(content.Length, ScanLimit - _scanned);
            int newline = content[..room].IndexOf((byte)'\n');
            int take = newline >= 0 ? newline + 1 : room;
            if (_line.Count < LineLimit)
            {
                foreach (byte b in content[..Math.Min(take, LineLimit - _line.Count)])
                {
                    _line.Add(b);
                }
            }

            _scanned += take;
            content = content[take..];
            if (newline >= 0)
            {
                EndLine();
            }
            else if (_scanned >= ScanLimit)
            {
                Finish();
            }
        }
    }

    /// <summary>Ends the scan (end of content, or the header block ended).</summary>
    public void Finish()
    {
        if (!_done)
        {
            if (_line.Count > 0)
            {
                EndLine();
            }

            FlushField();
            _done = true;
        }
    }

    private void EndLine()
    {
        var bytes = System.Runtime.InteropServices.CollectionsMarshal.AsSpan(_line);
        int length = bytes.Length;
        while (length > 0 && bytes[length - 1] is (byte)'\n' or (byte)'\r')
        {
            length--;
        }

        string raw = Encoding.UTF8.GetString(bytes[..length]);
        _line.Clear();
        if (raw.Length == 0)
        {
            FlushField();
            _done = true; // the header block ends at the empty line
            return;
        }

        if (raw[0] is ' ' or '\t')
        {
            if (_name is not null)
            {
                _value.Append(raw);
            }

            return;
        }

        FlushField();
        int colon = raw.IndexOf(':', StringComparison.Ordinal);
        if (colon <= 0)
        {
            return;
        }

        _name = raw[..colon].TrimEnd();
        _value.Clear().Append(raw, colon + 1, raw.Length - colon - 1);
    }

    private void FlushField()
    {
        if (_name is null)
        {
            return;
        }

        if (_name.Equals("Received", StringComparison.OrdinalIgnoreCase))
        {
            ReceivedHeaders++;
        }
        else if (_name.Equals("Authentication-Results", StringComparison.OrdinalIgnoreCase))
        {
            string value = _value.ToString().Trim();
            if (string.Equals(MessageInspection.AuthServIdOf(value), _authServId, StringComparison.OrdinalIgnoreCase))
            {
                _forged.Add(value);
            }
        }

        _name = null;
    }
}
