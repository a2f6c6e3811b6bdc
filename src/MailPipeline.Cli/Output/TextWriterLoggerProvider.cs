using System.Globalization;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Cli.Output;

/// <summary>
/// Log lines of a one-shot command on its standard error: <c>2026-01-02T03:04:05Z info MailPipeline.Audit[1500]: …</c>,
/// one per event, so an operator's shell history, a script's log or a cron mail keeps them.
/// </summary>
internal sealed class TextWriterLoggerProvider(TextWriter writer, LogLevel minimum = LogLevel.Information) : ILoggerProvider
{
    private readonly TextWriter _writer = TextWriter.Synchronized(writer);

    /// <inheritdoc />
    public ILogger CreateLogger(string categoryName) => new Logger(_writer, categoryName, minimum);

    /// <inheritdoc />
    public void Dispose() => _writer.Flush();

    private sealed class Logger(TextWriter writer, string category, LogLevel minimum) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => logLevel >= minimum && logLevel != LogLevel.None;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            if (!IsEnabled(logLevel))
            {
                return;
            }

            string level = logLevel switch
            {
                LogLevel.Trace => "trce",
                LogLevel.Debug => "dbug",
                LogLevel.Information => "info",
                LogLevel.Warning => "warn",
                LogLevel.Error => "fail",
                _ => "crit",
            };
            string time = DateTimeOffset.UtcNow.ToString("yyyy-MM-ddTHH:mm:ssZ", CultureInfo.InvariantCulture);
            writer.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{time} {level} {category}[{eventId.Id}]: {TerminalText.Printable(formatter(state, exception))}"));
        }
    }
}
