namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// The folders of <c>mailpipeline serve</c>'s data directory: <c>spool/</c> (accepted messages and their
/// envelopes, see <see cref="LocalDiskRawMessageStore"/>), <c>deliver/</c>, <c>quarantine/</c> and <c>tmp/</c>
/// (temporary files, on the same file system so renames are atomic). <c>results/</c> and <c>verdicts/</c> are
/// used only by the file-backed result and verdict stores (tests of the Functions' stages); <c>serve</c> keeps
/// stage results in memory and its verdict is the routed document.
/// </summary>
public sealed class LocalDataLayout
{
    /// <summary>Creates the layout under <paramref name="root"/>, creating the folders and removing stale temporary files.</summary>
    /// <param name="root">The data directory.</param>
    public LocalDataLayout(string root)
    {
        ArgumentException.ThrowIfNullOrEmpty(root);
        Root = Path.GetFullPath(root);
        Spool = Path.Combine(Root, "spool");
        Results = Path.Combine(Root, "results");
        Verdicts = Path.Combine(Root, "verdicts");
        Deliver = Path.Combine(Root, "deliver");
        Quarantine = Path.Combine(Root, "quarantine");
        Temp = Path.Combine(Root, "tmp");
        foreach (string folder in new[] { Spool, Deliver, Quarantine, Temp })
        {
            Directory.CreateDirectory(folder);
        }

        foreach (string stale in Directory.EnumerateFiles(Temp, "*.tmp"))
        {
            File.Delete(stale);
        }
    }

    /// <summary>The data directory.</summary>
    public string Root { get; }

    /// <summary>The spool of accepted messages.</summary>
    public string Spool { get; }

    /// <summary>Per-check results, one folder per message.</summary>
    public string Results { get; }

    /// <summary>Verdicts, one file per message.</summary>
    public string Verdicts { get; }

    /// <summary>Delivered messages.</summary>
    public string Deliver { get; }

    /// <summary>Quarantined messages.</summary>
    public string Quarantine { get; }

    /// <summary>Temporary files.</summary>
    public string Temp { get; }

    /// <summary>The folder of a routing action.</summary>
    /// <param name="action">The action.</param>
    /// <returns>The folder path.</returns>
    public string FolderOf(Contracts.RouteAction action) => action == Contracts.RouteAction.Deliver ? Deliver : Quarantine;

    /// <summary>Checks that <paramref name="value"/> is safe as a file name part (message ids, stage names).</summary>
    /// <param name="value">The value.</param>
    /// <param name="name">The parameter name for the exception.</param>
    /// <returns>The value.</returns>
    /// <exception cref="ArgumentException">It has a character other than ASCII letters, digits, '-' and '_'.</exception>
    public static string SafeName(string value, string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(value, name);
        foreach (char c in value)
        {
            if (!char.IsAsciiLetterOrDigit(c) && c != '-' && c != '_')
            {
                throw new ArgumentException($"'{value}' has a character not allowed in a file name.", name);
            }
        }

        return value;
    }
}
