namespace MailPipeline.TestBroker;

/// <summary>How a <see cref="TestServiceBusBroker"/> runs.</summary>
public sealed record TestBrokerOptions
{
    /// <summary>The clock for enqueue times, locks, schedules and expiry (default: the system clock).</summary>
    public TimeProvider TimeProvider { get; init; } = TimeProvider.System;

    /// <summary>The <c>max-message-size</c> advertised on every attach (Service Bus standard tier: 256 KiB).</summary>
    public ulong MaxMessageSize { get; init; } = 256 * 1024;

    /// <summary>How often lock expiry, scheduled messages and message expiry are checked.</summary>
    public TimeSpan SweepInterval { get; init; } = TimeSpan.FromMilliseconds(50);
}
