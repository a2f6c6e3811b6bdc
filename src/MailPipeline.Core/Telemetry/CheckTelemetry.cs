using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MailPipeline.Core.Telemetry;

/// <summary>
/// The checks' telemetry (<see cref="TelemetryNames.Checks"/>): the <c>mailpipeline.check.results</c> counter,
/// labelled by check and result (never by a published policy), and the source of the checks' own spans.
/// </summary>
public static class CheckTelemetry
{
    /// <summary>The checks' activity source.</summary>
    public static readonly ActivitySource Source = new(TelemetryNames.Checks);

    private static readonly Meter Meter = new(TelemetryNames.Checks);

    private static readonly Counter<long> Results = Meter.CreateCounter<long>(
        "mailpipeline.check.results", description: "Check results, by check (spf, dkim, reputation, dmarc) and result (pass, fail, none, temperror, permerror, listed, clean…).");

    /// <summary>Counts one check result.</summary>
    /// <param name="check">The check.</param>
    /// <param name="result">Its result word.</param>
    public static void RecordResult(string check, string result) =>
        Results.Add(1, new KeyValuePair<string, object?>("check", check), new KeyValuePair<string, object?>("result", result));
}
