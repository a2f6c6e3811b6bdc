using System.Runtime.InteropServices;

namespace MailPipeline.Pipeline.Storage;

/// <summary>
/// Crash-safe file publication: write to a temporary file in the same folder, fsync it, rename it over the
/// final name (atomic on POSIX), then fsync the folder so the rename itself survives a power loss.
/// </summary>
internal static partial class DurableFile
{
    private const int ReadOnly = 0;
    private const int Directory = 0x10000; // O_DIRECTORY on Linux
    private const int AlreadyExists = 17; // EEXIST

    /// <summary>Writes <paramref name="content"/> to <paramref name="path"/> durably and atomically.</summary>
    public static async Task<long> WriteAsync(string path, Stream content, string tempFolder, CancellationToken cancellationToken)
    {
        string temp = Path.Combine(tempFolder, Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        long length;
        try
        {
            var options = new FileStreamOptions
            {
                Mode = FileMode.CreateNew,
                Access = FileAccess.Write,
                Share = FileShare.None,
                Options = FileOptions.Asynchronous,
                BufferSize = 0,
            };
            await using (var file = new FileStream(temp, options))
            {
                await content.CopyToAsync(file, 81920, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
                length = file.Length;
            }

            File.Move(temp, path, overwrite: true);
        }
        catch
        {
            TryDelete(temp);
            throw;
        }

        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return length;
    }

    /// <summary>
    /// Writes <paramref name="content"/> to <paramref name="path"/> only if no file has that name: the temporary
    /// file is fsynced, then hard-linked to the final name (link(2) fails atomically on an existing name) and removed,
    /// so two racing writers produce exactly one file, and a crash leaves either nothing or the whole file.
    /// </summary>
    /// <returns>True when this call created the file; false when it already existed.</returns>
    public static async Task<bool> TryCreateAsync(string path, ReadOnlyMemory<byte> content, string tempFolder, CancellationToken cancellationToken)
    {
        if (File.Exists(path))
        {
            return false;
        }

        string temp = Path.Combine(tempFolder, Path.GetFileName(path) + "." + Guid.NewGuid().ToString("N") + ".tmp");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1, FileOptions.Asynchronous))
            {
                await file.WriteAsync(content, cancellationToken).ConfigureAwait(false);
                file.Flush(flushToDisk: true);
            }

            if (!LinkNoReplace(temp, path))
            {
                return false; // another writer won the race
            }
        }
        finally
        {
            TryDelete(temp);
        }

        SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        return true;
    }

    /// <summary>
    /// Gives <paramref name="source"/> the additional name <paramref name="destination"/>, failing when that name
    /// exists: link(2) is atomic, unlike File.Move without overwrite (a check, then a rename).
    /// </summary>
    /// <returns>True when linked; false when <paramref name="destination"/> already exists.</returns>
    private static bool LinkNoReplace(string source, string destination)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            try
            {
                File.Move(source, destination, overwrite: false); // Windows: MoveFileEx without REPLACE_EXISTING is atomic
                return true;
            }
            catch (IOException) when (File.Exists(destination))
            {
                return false;
            }
        }

        if (Link(source, destination) == 0)
        {
            return true;
        }

        int errno = Marshal.GetLastPInvokeError();
        if (errno == AlreadyExists)
        {
            return false;
        }

        throw new IOException($"link('{source}', '{destination}') failed (errno {errno}).");
    }

    /// <summary>Writes bytes to <paramref name="path"/> durably and atomically, replacing any file there.</summary>
    public static async Task WriteAsync(string path, ReadOnlyMemory<byte> content, string tempFolder, CancellationToken cancellationToken)
    {
        using var stream = new MemoryStream(content.ToArray(), writable: false);
        await WriteAsync(path, stream, tempFolder, cancellationToken).ConfigureAwait(false);
    }

    /// <summary>Deletes a file if present and makes the deletion durable.</summary>
    public static void Delete(string path)
    {
        if (File.Exists(path))
        {
            File.Delete(path);
            SyncDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        }
    }

    private static void TryDelete(string path)
    {
        try
        {
            if (File.Exists(path))
            {
                File.Delete(path);
            }
        }
        catch (IOException)
        {
            // best effort: a stale *.tmp is never read and is removed by the next start-up sweep
        }
    }

    /// <summary>fsync(2) on a directory, so a rename or unlink in it is durable (Linux; elsewhere a no-op).</summary>
    public static void SyncDirectory(string directory)
    {
        if (!OperatingSystem.IsLinux())
        {
            return; // NTFS journals metadata; macOS is not a deployment target
        }

        int fd = Open(directory, ReadOnly | Directory);
        if (fd < 0)
        {
            throw new IOException($"Cannot open directory '{directory}' to fsync it (errno {Marshal.GetLastPInvokeError()}).");
        }

        try
        {
            if (Fsync(fd) != 0)
            {
                throw new IOException($"fsync of directory '{directory}' failed (errno {Marshal.GetLastPInvokeError()}).");
            }
        }
        finally
        {
            _ = Close(fd);
        }
    }

    [LibraryImport("libc", EntryPoint = "open", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Open(string path, int flags);

    [LibraryImport("libc", EntryPoint = "link", SetLastError = true, StringMarshalling = StringMarshalling.Utf8)]
    private static partial int Link(string existingPath, string newPath);

    [LibraryImport("libc", EntryPoint = "fsync", SetLastError = true)]
    private static partial int Fsync(int fd);

    [LibraryImport("libc", EntryPoint = "close", SetLastError = true)]
    private static partial int Close(int fd);
}
