namespace MailPipeline.Edge;

/// <summary>
/// Decodes DATA as it arrives (RFC 5321 §4.1.1.4, §4.5.2): finds the end (<c>CRLF.CRLF</c>, or <c>.CRLF</c> as the
/// very first line; nothing else ends DATA, so bare-LF or bare-CR "terminators" stay content), removes the leading dot
/// of every line, and notes what the edge checks: bare CR or LF, the longest line. Output is runs of the input buffer
/// (no copy) plus a few fixed byte strings for line endings it must synthesise (a CR held across reads, or bare CR/LF
/// rewritten to CRLF under <see cref="BareLineEndingPolicy.Normalize"/>).
/// </summary>
internal sealed class DataDecoder
{
    /// <summary>Marker starts of synthesised runs (see <see cref="Synthesised"/>).</summary>
    public const int Cr = -1;
    public const int CrLf = -2;
    public const int Lf = -3;

    private readonly bool _normalize;
    private State _state = State.LineStart;
    private long _line;

    public DataDecoder(bool normalize) => _normalize = normalize;

    private enum State
    {
        LineStart,
        Dot,
        DotCr,
        Text,
        PendingCr,
        Ended,
    }

    /// <summary>True once the terminator was read.</summary>
    public bool Ended => _state == State.Ended;

    /// <summary>True once a CR not followed by LF, or an LF not preceded by CR, was seen.</summary>
    public bool HasBareLineEnding { get; private set; }

    /// <summary>The longest line so far, in octets without its line ending.</summary>
    public long LongestLine { get; private set; }

    /// <summary>Content octets produced so far.</summary>
    public long ContentLength { get; private set; }

    /// <summary>The bytes of a synthesised run.</summary>
    public static ReadOnlyMemory<byte> Synthesised(int marker) => marker switch
    {
        Cr => "\r"u8.ToArray(),
        CrLf => "\r\n"u8.ToArray(),
        _ => "\n"u8.ToArray(),
    };

    /// <summary>
    /// Decodes from <paramref name="input"/> until its end or the DATA terminator. Content is added to
    /// <paramref name="runs"/> as (start, length) in <paramref name="input"/>, or (marker, 0) for a synthesised run.
    /// </summary>
    /// <returns>How many input octets were consumed (all, unless the terminator came first).</returns>
    public int Decode(ReadOnlySpan<byte> input, List<(int Start, int Length)> runs)
    {
        int i = 0;
        int runStart = -1;
        while (i < input.Length && _state != State.Ended)
        {
            switch (_state)
            {
                case State.LineStart:
                    if (input[i] == (byte)'.')
                    {
                        Flush(runs, ref runStart, i);
                        _state = State.Dot;
                        i++;
                    }
                    else
                    {
                        _state = State.Text;
                    }

                    break;

                case State.Dot:
                    if (input[i] == (byte)'\r')
                    {
                        _state = State.DotCr;
                        i++;
                    }
                    else
                    {
                        _state = State.Text; // the stuffed dot is dropped; the line goes on
                    }

                    break;

                case State.DotCr:
                    if (input[i] == (byte)'\n')
                    {
                        _state = State.Ended;
                        i++;
                    }
                    else
                    {
                        _state = State.PendingCr; // ".<CR>x": the dot is dropped, the CR is bare
                    }

                    break;

                case State.PendingCr:
                    Flush(runs, ref runStart, i);
                    if (input[i] == (byte)'\n')
                    {
                        Emit(runs, CrLf);
                        EndLine();
                        _state = State.LineStart;
                        i++;
                    }
                    else
                    {
                        BareEnding(runs, Cr);
                        _state = State.Text;
                    }

                    break;

                default: // Text
                {
                    if (runStart < 0)
                    {
                        runStart = i;
                    }

                    int next = input[i..].IndexOfAny((byte)'\r', (byte)'\n');
                    if (next < 0)
                    {
                        _line += input.Length - i;
                        i = input.Length;
                        break;
                    }

                    _line += next;
                    i += next;
                    if (input[i] == (byte)'\n')
                    {
                        // bare LF
                        Flush(runs, ref runStart, i);
                        BareEnding(runs, Lf);
                        i++;
                    }
                    else if (i + 1 < input.Length)
                    {
                        if (input[i + 1] == (byte)'\n')
                        {
                            i += 2;
                            EndLine();
                            _state = State.LineStart;
                        }
                        else
                        {
                            Flush(runs, ref runStart, i);
                            BareEnding(runs, Cr);
                            i++;
                        }
                    }
                    else
                    {
                        Flush(runs, ref runStart, i);
                        _state = State.PendingCr; // decided by the next read
                        i++;
                    }

                    break;
                }
            }
        }

        Flush(runs, ref runStart, i);
        return i;
    }

    private void Flush(List<(int Start, int Length)> runs, ref int runStart, int end)
    {
        if (runStart >= 0 && end > runStart)
        {
            runs.Add((runStart, end - runStart));
            ContentLength += end - runStart;
        }

        runStart = -1;
    }

    private void Emit(List<(int Start, int Length)> runs, int marker)
    {
        runs.Add((marker, 0));
        ContentLength += marker == CrLf ? 2 : 1;
    }

    private void BareEnding(List<(int Start, int Length)> runs, int marker)
    {
        HasBareLineEnding = true;
        Emit(runs, _normalize ? CrLf : marker);
        EndLine();
    }

    private void EndLine()
    {
        LongestLine = Math.Max(LongestLine, _line);
        _line = 0;
    }

    /// <summary>Call when no more data will come (tests; the guard always ends at the terminator).</summary>
    public void Finish(List<(int Start, int Length)> runs)
    {
        if (_state == State.PendingCr)
        {
            BareEnding(runs, Cr);
        }

        LongestLine = Math.Max(LongestLine, _line);
    }
}
