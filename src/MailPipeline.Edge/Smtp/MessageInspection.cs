using System.Buffers;
using System.Text;

namespace MailPipeline.Edge;

/// <summary>
/// What the edge checks in message content (size, bare CR/LF, longest line, Received count, forged
/// Authentication-Results), gathered while DATA streams through <see cref="DataDecoder"/> and <see cref="HeaderScanner"/>.
/// </summary>
internal sealed class MessageInspection
{
    /// <summary>Content octets (after removing dot-stuffing).</summary>
    public long Size { get; private init; }

    /// <summary>True when the data has a CR not followed by LF, or an LF not preceded by CR.</summary>
    public bool HasBareLineEnding { get; private init; }

    /// <summary>Longest line in octets, excluding its line ending.</summary>
    public long LongestLine { get; private init; }

    public int ReceivedHeaders { get; private init; }

    /// <summary>Authentication-Results header values whose authserv-id is ours (RFC 8601 §5).</summary>
    public IReadOnlyList<string> ForgedAuthenticationResults { get; private init; } = [];

    /// <summary>The findings of a decoder and a header scanner that saw a whole message.</summary>
    public static MessageInspection From(DataDecoder decoder, HeaderScanner headers)
    {
        headers.Finish();
        return new MessageInspection
        {
            Size = decoder.ContentLength,
            HasBareLineEnding = decoder.HasBareLineEnding,
            LongestLine = decoder.LongestLine,
            ReceivedHeaders = headers.ReceivedHeaders,
            ForgedAuthenticationResults = headers.ForgedAuthenticationResults.ToArray(),
        };
    }

    /// <summary>Inspects data already in memory, as if it arrived in DATA (without the terminator).</summary>
    public static MessageInspection Inspect(ReadOnlySequence<byte> data, string authServId)
    {
        var decoder = new DataDecoder(normalize: false);
        var headers = new HeaderScanner(authServId);
        Run(data, decoder, headers, output: null);
        return From(decoder, headers);
    }

    /// <summary>Rewrites each bare CR or LF to CRLF (the explicit <see cref="BareLineEndingPolicy.Normalize"/> option).</summary>
    public static byte[] NormalizeLineEndings(ReadOnlySequence<byte> data)
    {
        var output = new ArrayBufferWriter<byte>();
        Run(data, new DataDecoder(normalize: true), null, output);
        return output.WrittenSpan.ToArray();
    }

    private static void Run(ReadOnlySequence<byte> data, DataDecoder decoder, HeaderScanner? headers, ArrayBufferWriter<byte>? output)
    {
        var runs = new List<(int Start, int Length)>();
        foreach (ReadOnlyMemory<byte> memory in data)
        {
            runs.Clear();
            decoder.Decode(memory.Span, runs);
            Emit(memory.Span, runs, headers, output);
        }

        runs.Clear();
        decoder.Finish(runs);
        Emit([], runs, headers, output);
    }

    private static void Emit(ReadOnlySpan<byte> input, List<(int Start, int Length)> runs, HeaderScanner? headers, ArrayBufferWriter<byte>? output)
    {
        foreach (var (start, length) in runs)
        {
            ReadOnlySpan<byte> run = start >= 0 ? input.Slice(start, length) : DataDecoder.Synthesised(start).Span;
            headers?.Append(run);
            output?.Write(run);
        }
    }

    /// <summary>The authserv-id of an Authentication-Results value: its first token, after any comments (RFC 8601 §2.2).</summary>
    internal static string AuthServIdOf(string value)
    {
        int i = 0;
        while (i < value.Length)
        {
            if (char.IsWhiteSpace(value[i]))
            {
                i++;
            }
            else if (value[i] == '(')
            {
                int depth = 0;
                for (; i < value.Length; i++)
                {
                    depth += value[i] == '(' ? 1 : value[i] == ')' ? -1 : 0;
                    if (depth == 0)
                    {
                        i++;
                        break;
                    }
                }
            }
            else
            {
                break;
            }
        }

        int start = i;
        while (i < value.Length && value[i] != ';' && value[i] != '(' && !char.IsWhiteSpace(value[i]))
        {
            i++;
        }

        return value[start..i];
    }
}
