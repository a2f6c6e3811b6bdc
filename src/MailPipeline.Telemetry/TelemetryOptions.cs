namespace MailPipeline.Telemetry;

/// <summary>Section <c>Telemetry</c>: what a MailPipeline host exports beyond <c>/metrics</c>.</summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>
    /// Traces: <c>auto</c> (default) records spans only when an exporter takes them (OTLP or Azure Monitor configured),
    /// so a plain <c>serve</c> pays nothing for tracing; <c>on</c> always records (for a collector attached in code);
    /// <c>off</c> never does.
    /// </summary>
    public string Traces { get; set; } = "auto";

    /// <summary>The <c>service.name</c> resource attribute; <c>OTEL_SERVICE_NAME</c> wins when set.</summary>
    public string? ServiceName { get; set; }
}
