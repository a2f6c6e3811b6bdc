using Microsoft.Extensions.Logging;

namespace MailPipeline.Functions.Tests.Routing;

/// <summary>An <see cref="ILogger{T}"/> that keeps each entry with its structured fields and the active scopes.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    private readonly List<IReadOnlyDictionary<string, object?>> _scopes = [];

    public List<Entry> Entries { get; } = [];

    public IDisposable BeginScope<TState>(TState state)
        where TState : notnull
    {
        var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value)
            : new Dictionary<string, object?> { ["Scope"] = state.ToString() };
        _scopes.Add(fields);
        return new Scope(() => _scopes.Remove(fields));
    }

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        var fields = state is IEnumerable<KeyValuePair<string, object?>> pairs
            ? pairs.ToDictionary(p => p.Key, p => p.Value)
            : [];
        var scope = _scopes.SelectMany(s => s).GroupBy(p => p.Key).ToDictionary(g => g.Key, g => g.Last().Value);
        Entries.Add(new Entry(logLevel, eventId, formatter(state, exception), fields, scope));
    }

    public sealed record Entry(
        LogLevel Level,
        EventId EventId,
        string Message,
        IReadOnlyDictionary<string, object?> Fields,
        IReadOnlyDictionary<string, object?> Scope);

    private sealed class Scope(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }
}
