using System.Globalization;
using System.Text;

namespace MailPipeline.Pipeline.Processing;

/// <summary>
/// A histogram of durations in seconds for the Prometheus text format (cumulative buckets, sum and count),
/// updated without locks from any thread.
/// </summary>
public sealed class SecondsHistogram
{
    private readonly double[] _bounds;
    private readonly long[] _counts;
    private long _count;
    private long _sumMicros;

    /// <summary>Creates the histogram.</summary>
    /// <param name="bounds">The buckets' upper bounds in seconds, ascending (+Inf is added).</param>
    public SecondsHistogram(params double[] bounds)
    {
        _bounds = bounds;
        _counts = new long[bounds.Length + 1];
    }

    /// <summary>How many durations were observed.</summary>
    public long Count => Interlocked.Read(ref _count);

    /// <summary>Counts one duration (a negative one, from clock skew, counts as zero).</summary>
    /// <param name="seconds">The duration.</param>
    public void Observe(double seconds)
    {
        seconds = Math.Max(0, seconds);
        int bucket = Array.FindIndex(_bounds, b => seconds <= b);
        Interlocked.Increment(ref _counts[bucket < 0 ? _bounds.Length : bucket]);
        Interlocked.Add(ref _sumMicros, (long)(seconds * 1_000_000));
        Interlocked.Increment(ref _count);
    }

    /// <summary>The durations of at most <paramref name="bound"/> seconds.</summary>
    /// <param name="bound">One of the buckets' bounds.</param>
    /// <returns>The count, or -1 when <paramref name="bound"/> is not a bucket bound.</returns>
    public long CountWithin(double bound)
    {
        int last = Array.IndexOf(_bounds, bound);
        long count = 0;
        for (int i = 0; i <= last; i++)
        {
            count += Interlocked.Read(ref _counts[i]);
        }

        return last < 0 ? -1 : count;
    }

    /// <summary>Writes the <c>_bucket</c>, <c>_sum</c> and <c>_count</c> samples (the caller writes HELP/TYPE).</summary>
    /// <param name="text">The exposition being written.</param>
    /// <param name="name">The metric name, without suffix.</param>
    public void AppendSamples(StringBuilder text, string name)
    {
        long cumulative = 0;
        for (int i = 0; i <= _bounds.Length; i++)
        {
            cumulative += Interlocked.Read(ref _counts[i]);
            string bound = i < _bounds.Length ? _bounds[i].ToString(CultureInfo.InvariantCulture) : "+Inf";
            text.Append(CultureInfo.InvariantCulture, $"{name}_bucket{{le=\"{bound}\"}} {cumulative}\n");
        }

        text.Append(CultureInfo.InvariantCulture, $"{name}_sum {Interlocked.Read(ref _sumMicros) / 1_000_000.0}\n");
        text.Append(CultureInfo.InvariantCulture, $"{name}_count {cumulative}\n");
    }
}
