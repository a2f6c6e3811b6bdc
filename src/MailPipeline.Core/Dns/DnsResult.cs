namespace MailPipeline.Core.Dns;

/// <summary>The outcome of one DNS query.</summary>
public sealed class DnsResult
{
    private static readonly IReadOnlyList<DnsRecord> NoRecords = [];

    /// <summary>Creates a result.</summary>
    /// <param name="status">How the query ended.</param>
    /// <param name="records">Records of the requested type; empty unless <paramref name="status"/> is <see cref="DnsStatus.Success"/>.</param>
    /// <param name="negativeTtl">For NXDOMAIN/NODATA, how long the negative answer may be cached (RFC 2308), if known.</param>
    /// <param name="error">A short description of a failure, for logs and result reasons.</param>
    public DnsResult(DnsStatus status, IReadOnlyList<DnsRecord>? records = null, uint? negativeTtl = null, string? error = null)
    {
        Status = status;
        Records = records ?? NoRecords;
        NegativeTtl = negativeTtl;
        Error = error;
    }

    /// <summary>How the query ended.</summary>
    public DnsStatus Status { get; }

    /// <summary>The records of the requested type.</summary>
    public IReadOnlyList<DnsRecord> Records { get; }

    /// <summary>For a negative answer, the cache lifetime from the SOA (RFC 2308), if any.</summary>
    public uint? NegativeTtl { get; }

    /// <summary>A short description of the failure, if any.</summary>
    public string? Error { get; }

    /// <summary>True for a transient failure (timeout, server failure, garbled answer): checks report temperror.</summary>
    public bool IsTransientError => Status is DnsStatus.ServerFailure or DnsStatus.Timeout or DnsStatus.Malformed;

    /// <summary>True for NXDOMAIN or NOERROR with no record: a "void lookup" in RFC 7208 §4.6.4 terms.</summary>
    public bool IsEmpty => Status == DnsStatus.NameError || (Status == DnsStatus.Success && Records.Count == 0);

    /// <summary>The records of type <typeparamref name="T"/>.</summary>
    /// <typeparam name="T">The record class.</typeparam>
    /// <returns>The matching records, in answer order.</returns>
    public IEnumerable<T> RecordsOf<T>() where T : DnsRecord => Records.OfType<T>();

    /// <summary>A NOERROR result with the given records.</summary>
    /// <param name="records">The records.</param>
    /// <returns>The result.</returns>
    public static DnsResult Ok(params DnsRecord[] records) => new(DnsStatus.Success, records);

    /// <summary>An NXDOMAIN result.</summary>
    /// <returns>The result.</returns>
    public static DnsResult NxDomain() => new(DnsStatus.NameError);

    /// <summary>A failure result.</summary>
    /// <param name="status">The failure status.</param>
    /// <param name="error">A short description.</param>
    /// <returns>The result.</returns>
    public static DnsResult Failure(DnsStatus status, string error) => new(status, error: error);

    /// <inheritdoc />
    public override string ToString() => Error is null ? $"{Status} ({Records.Count} records)" : $"{Status}: {Error}";
}
