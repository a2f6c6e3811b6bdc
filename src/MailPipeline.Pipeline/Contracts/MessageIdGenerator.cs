using System.Security.Cryptography;

namespace MailPipeline.Pipeline.Contracts;

/// <summary>
/// Creates ULID message ids: 48 bits of milliseconds since the Unix epoch and 80 random bits, written as
/// 26 Crockford base-32 characters, so ids sort by arrival time. Ids made in the same millisecond by one
/// generator increment the random part, so they stay unique and ordered. Thread-safe.
/// </summary>
public sealed class MessageIdGenerator
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    private readonly TimeProvider _time;
    private readonly Lock _gate = new();
    private long _lastMilliseconds = -1;
    private UInt128 _lastRandom;

    /// <summary>Creates a generator reading the given clock.</summary>
    /// <param name="time">The clock; <see cref="TimeProvider.System"/> when null.</param>
    public MessageIdGenerator(TimeProvider? time = null) => _time = time ?? TimeProvider.System;

    /// <summary>Returns a new id.</summary>
    /// <returns>A 26-character ULID.</returns>
    public string NextId()
    {
        long milliseconds = _time.GetUtcNow().ToUnixTimeMilliseconds();
        UInt128 random;
        lock (_gate)
        {
            if (milliseconds <= _lastMilliseconds)
            {
                milliseconds = _lastMilliseconds;
                random = (_lastRandom + 1) & RandomMask;
                if (random == 0)
                {
                    milliseconds++; // 2^80 ids in one millisecond: borrow the next one
                }
            }
            else
            {
                Span<byte> bytes = stackalloc byte[16];
                RandomNumberGenerator.Fill(bytes[6..]);
                bytes[..6].Clear();
                random = System.Buffers.Binary.BinaryPrimitives.ReadUInt128BigEndian(bytes);
            }

            _lastMilliseconds = milliseconds;
            _lastRandom = random;
        }

        UInt128 value = ((UInt128)(ulong)milliseconds << 80) | random;
        return string.Create(26, value, static (span, v) =>
        {
            for (int i = 25; i >= 0; i--)
            {
                span[i] = Alphabet[(int)(v & 31)];
                v >>= 5;
            }
        });
    }

    private static UInt128 RandomMask => (UInt128.One << 80) - 1;
}
