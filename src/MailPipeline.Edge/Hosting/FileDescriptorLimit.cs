using System.Runtime.InteropServices;
using Microsoft.Extensions.Logging;

namespace MailPipeline.Edge;

/// <summary>
/// Makes sure the process may open enough descriptors for <see cref="EdgeOptions.MaxSessions"/>: a socket per
/// session, a spool file per session in DATA, and the rest of the process. The .NET runtime already raises the
/// soft RLIMIT_NOFILE to the hard limit at start (so a shell's <c>ulimit -n 1024</c> soft limit is no obstacle);
/// when even the hard limit is too low, this raises both, which a process may do as root (CAP_SYS_RESOURCE), and
/// otherwise warns with the numbers so the operator can raise LimitNOFILE.
/// </summary>
internal static class FileDescriptorLimit
{
    private const int RlimitNofile = 7; // Linux

    /// <summary>Descriptors the edge needs for <paramref name="maxSessions"/>.</summary>
    public static ulong Needed(int maxSessions) => ((ulong)maxSessions * 2) + 1024;

    /// <summary>Raises the limit when it is below what is needed; logs what it did. Linux only.</summary>
    public static void Ensure(int maxSessions, ILogger logger)
    {
        if (!OperatingSystem.IsLinux())
        {
            return;
        }

        ulong needed = Needed(maxSessions);
        var limit = default(RLimit);
        if (NativeMethods.getrlimit(RlimitNofile, ref limit) != 0 || limit.Current >= needed)
        {
            return;
        }

        ulong soft = limit.Current;
        ulong hard = limit.Maximum;
        var raised = new RLimit { Current = needed, Maximum = Math.Max(needed, hard) };
        if (NativeMethods.setrlimit(RlimitNofile, ref raised) != 0)
        {
            // Not root: as far as the hard limit goes.
            raised = new RLimit { Current = hard, Maximum = hard };
            if (hard <= soft || NativeMethods.setrlimit(RlimitNofile, ref raised) != 0)
            {
                raised.Current = soft;
            }
        }

        Log.FileLimit(logger, soft, hard, needed, raised.Current);
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct RLimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    private static class NativeMethods
    {
        [DllImport("libc", SetLastError = true)]
        public static extern int getrlimit(int resource, ref RLimit limit);

        [DllImport("libc", SetLastError = true)]
        public static extern int setrlimit(int resource, ref RLimit limit);
    }
}
