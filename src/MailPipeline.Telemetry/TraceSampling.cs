using System.Globalization;
using OpenTelemetry.Trace;

namespace MailPipeline.Telemetry;

/// <summary>
/// The sampler named by the standard <c>OTEL_TRACES_SAMPLER</c> / <c>OTEL_TRACES_SAMPLER_ARG</c> variables
/// (always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio);
/// the specification's default, parentbased_always_on, when unset.
/// </summary>
internal static class TraceSampling
{
    public static Sampler FromSettings(string? sampler, string? argument)
    {
        double ratio = double.TryParse(argument, NumberStyles.Float, CultureInfo.InvariantCulture, out double r) && r is >= 0 and <= 1 ? r : 1.0;
        return (sampler ?? string.Empty).Trim().ToLowerInvariant() switch
        {
            "" or "parentbased_always_on" => new ParentBasedSampler(new AlwaysOnSampler()),
            "always_on" => new AlwaysOnSampler(),
            "always_off" => new AlwaysOffSampler(),
            "traceidratio" => new TraceIdRatioBasedSampler(ratio),
            "parentbased_always_off" => new ParentBasedSampler(new AlwaysOffSampler()),
            "parentbased_traceidratio" => new ParentBasedSampler(new TraceIdRatioBasedSampler(ratio)),
            _ => throw new ArgumentException($"OTEL_TRACES_SAMPLER '{sampler}' is not one of always_on, always_off, traceidratio, parentbased_always_on, parentbased_always_off, parentbased_traceidratio."),
        };
    }
}
