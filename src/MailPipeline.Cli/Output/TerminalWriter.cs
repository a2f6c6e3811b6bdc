using System.Text;

namespace MailPipeline.Cli.Output;

/// <summary>
/// Standard error when it is a terminal (not redirected to a file or a pipe): the mark that progress lines may be
/// shown there. Writes go straight to the wrapped writer.
/// </summary>
internal sealed class TerminalWriter(TextWriter inner) : TextWriter
{
    /// <inheritdoc />
    public override Encoding Encoding => inner.Encoding;

    /// <inheritdoc />
    public override void Write(char value) => inner.Write(value);

    /// <inheritdoc />
    public override void Write(string? value) => inner.Write(value);

    /// <inheritdoc />
    public override void WriteLine(string? value) => inner.WriteLine(value);

    /// <inheritdoc />
    public override Task WriteAsync(char value) => inner.WriteAsync(value);

    /// <inheritdoc />
    public override Task WriteAsync(string? value) => inner.WriteAsync(value);

    /// <inheritdoc />
    public override Task WriteAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) => inner.WriteAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override Task WriteLineAsync() => inner.WriteLineAsync();

    /// <inheritdoc />
    public override Task WriteLineAsync(string? value) => inner.WriteLineAsync(value);

    /// <inheritdoc />
    public override Task WriteLineAsync(ReadOnlyMemory<char> buffer, CancellationToken cancellationToken = default) => inner.WriteLineAsync(buffer, cancellationToken);

    /// <inheritdoc />
    public override void Flush() => inner.Flush();

    /// <inheritdoc />
    public override Task FlushAsync() => inner.FlushAsync();
}
