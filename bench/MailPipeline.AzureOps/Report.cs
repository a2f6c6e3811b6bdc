using System.Globalization;
using MailPipeline.TestBroker;

namespace MailPipeline.AzureOps;

/// <summary>Prints the per-message figures of one phase (the difference of two snapshots).</summary>
internal static class Report
{
    public static void Print(
        string phase,
        int messages,
        (int Deliver, int Quarantine) routed,
        double seconds,
        IReadOnlyList<BrokerOperationCounts> sbBefore,
        IReadOnlyList<BrokerOperationCounts> sbAfter,
        Dictionary<(string Component, string Method, string Container), long> blobBefore,
        Dictionary<(string Component, string Method, string Container), long> blobAfter)
    {
        var before = sbBefore.ToDictionary(c => c.Path);
        var delta = sbAfter.Select(a =>
        {
            var b = before.TryGetValue(a.Path, out var x) ? x : new BrokerOperationCounts(a.Path);
            return new BrokerOperationCounts(a.Path)
            {
                Sent = a.Sent - b.Sent, FilterEvaluations = a.FilterEvaluations - b.FilterEvaluations, Delivered = a.Delivered - b.Delivered,
                Peeked = a.Peeked - b.Peeked, Completed = a.Completed - b.Completed, Abandoned = a.Abandoned - b.Abandoned, Deferred = a.Deferred - b.Deferred,
                DeadLettered = a.DeadLettered - b.DeadLettered, Renewed = a.Renewed - b.Renewed, Management = a.Management - b.Management,
            };
        }).Where(d => d.Credits + d.Settlements > 0).ToList();

        string PerMessage(double total) => (total / messages).ToString("0.##", CultureInfo.InvariantCulture);
        Console.WriteLine();
        Console.WriteLine(routed.Deliver >= 0
            ? $"== {phase}: {messages} messages ({routed.Deliver} delivered, {routed.Quarantine} quarantined) in {seconds.ToString("0.0", CultureInfo.InvariantCulture)} s"
            : $"== {phase}: {messages} message");
        Console.WriteLine("Service Bus, per entity and message: sent / filter evaluations / delivered / peeked / management | complete / abandon / defer / dead-letter / renew");
        foreach (var d in delta)
        {
            Console.WriteLine($"  {d.Path,-40} {PerMessage(d.Sent)} / {PerMessage(d.FilterEvaluations)} / {PerMessage(d.Delivered)} / {PerMessage(d.Peeked)} / {PerMessage(d.Management)} | {PerMessage(d.Completed)} / {PerMessage(d.Abandoned)} / {PerMessage(d.Deferred)} / {PerMessage(d.DeadLettered)} / {PerMessage(d.Renewed)}");
        }

        double operations = delta.Sum(d => d.Sent + d.Delivered + d.Peeked + (10 * d.Management));
        double filters = delta.Sum(d => d.FilterEvaluations);
        Console.WriteLine($"service bus operations per message: {PerMessage(operations)}");
        Console.WriteLine($"service bus topic filter evaluations per message: {PerMessage(filters)} (Standard charges these credits too: {PerMessage(operations + filters)} credits per message)");
        Console.WriteLine($"service bus settlements per message: complete {PerMessage(delta.Sum(d => d.Completed))}, abandon {PerMessage(delta.Sum(d => d.Abandoned))}, defer {PerMessage(delta.Sum(d => d.Deferred))}, dead-letter {PerMessage(delta.Sum(d => d.DeadLettered))}, renew {PerMessage(delta.Sum(d => d.Renewed))}");

        var blobs = blobAfter.Select(kv => (kv.Key, Count: kv.Value - (blobBefore.TryGetValue(kv.Key, out long b) ? b : 0))).Where(x => x.Count > 0).ToList();
        Console.WriteLine("Blob REST calls per message, by component:");
        foreach (var group in blobs.GroupBy(x => x.Key.Component).OrderBy(g => g.Key, StringComparer.Ordinal))
        {
            string detail = string.Join(", ", group.OrderBy(x => x.Key.Container, StringComparer.Ordinal).ThenBy(x => x.Key.Method, StringComparer.Ordinal)
                .Select(x => $"{x.Key.Method} {x.Key.Container} {PerMessage(x.Count)}"));
            Console.WriteLine($"  {group.Key,-12} {PerMessage(group.Sum(x => x.Count)),6}  ({detail})");
        }

        Console.WriteLine($"blob transactions per message: {PerMessage(blobs.Sum(x => x.Count))}");
        Console.WriteLine($"blob transactions per message without delivery (edge, checks, aggregate): {PerMessage(blobs.Where(x => x.Key.Component != "deliver").Sum(x => x.Count))}");
    }
}
