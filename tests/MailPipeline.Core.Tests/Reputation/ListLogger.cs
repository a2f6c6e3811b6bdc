using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Core.Tests.Reputation;

/// <summary>Collects formatted log messages so tests can check what an operator would read.</summary>
internal sealed class ListLogger<T> : ILogger<T>
{
    private readonly ConcurrentQueue<string> _messages = new();

    public IReadOnlyCollection<string> Messages => _messages;

    public IDisposable? BeginScope<TState>(TState state) where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        ArgumentNullException.ThrowIfNull(formatter);
        _messages.Enqueue($"{logLevel}: {formatter(state, exception)}");
    }
}
