using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MailPipeline.WebConsole;

/// <summary>
/// The console password as stored in the configuration: <c>pbkdf2-sha256$ITERATIONS$SALT$HASH</c> (base64), PBKDF2
/// with HMAC-SHA256 and a random 16-octet salt. 600,000 iterations: OWASP's figure for PBKDF2-HMAC-SHA256
/// (https://cheatsheetseries.owasp.org/cheatsheets/Password_Storage_Cheat_Sheet.html#pbkdf2).
/// </summary>
public static class ConsolePassword
{
    /// <summary>The iterations new hashes use.</summary>
    public const int Iterations = 600_000;

    private const string Prefix = "pbkdf2-sha256";
    private const int SaltSize = 16;
    private const int HashSize = 32;

    /// <summary>Hashes a password for <see cref="ConsoleOptions.PasswordHash"/>.</summary>
    /// <param name="password">The password.</param>
    /// <param name="iterations">PBKDF2 iterations.</param>
    /// <returns>The stored form.</returns>
    public static string Hash(string password, int iterations = Iterations)
    {
        ArgumentException.ThrowIfNullOrEmpty(password);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        byte[] salt = RandomNumberGenerator.GetBytes(SaltSize);
        byte[] hash = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, HashSize);
        return string.Create(CultureInfo.InvariantCulture, $"{Prefix}${iterations}${Convert.ToBase64String(salt)}${Convert.ToBase64String(hash)}");
    }

    /// <summary>Whether a stored form is one this type reads.</summary>
    /// <param name="stored">The stored form.</param>
    /// <returns>True when well-formed.</returns>
    public static bool IsWellFormed(string? stored) => TryParse(stored, out _, out _, out _);

    /// <summary>Checks a password against the stored form in constant time.</summary>
    /// <param name="password">The password given.</param>
    /// <param name="stored">The stored form.</param>
    /// <returns>True when it matches.</returns>
    public static bool Verify(string? password, string? stored)
    {
        if (string.IsNullOrEmpty(password) || !TryParse(stored, out int iterations, out byte[] salt, out byte[] expected))
        {
            return false;
        }

        byte[] actual = Rfc2898DeriveBytes.Pbkdf2(Encoding.UTF8.GetBytes(password), salt, iterations, HashAlgorithmName.SHA256, expected.Length);
        return CryptographicOperations.FixedTimeEquals(actual, expected);
    }

    private static bool TryParse(string? stored, out int iterations, out byte[] salt, out byte[] hash)
    {
        iterations = 0;
        salt = [];
        hash = [];
        string[] parts = stored?.Trim().Split('$') ?? [];
        if (parts.Length != 4 || parts[0] != Prefix || !int.TryParse(parts[1], NumberStyles.None, CultureInfo.InvariantCulture, out iterations) || iterations < 1)
        {
            return false;
        }

        try
        {
            salt = Convert.FromBase64String(parts[2]);
            hash = Convert.FromBase64String(parts[3]);
        }
        catch (FormatException)
        {
            return false;
        }

        return salt.Length >= 8 && hash.Length >= 16;
    }
}
