namespace MailPipeline.Fuzz;

/// <summary>Checks a header field we compose from attacker-influenced values before it is prepended to a message.</summary>
internal static class HeaderFieldOracle
{
    /// <summary>
    /// Throws unless <paramref name="field"/> is one header field: no NUL, and every line break is CRLF followed by
    /// whitespace (folding), so an attacker's domain or reason text can never start a header field of its own.
    /// </summary>
    public static void AssertSingleField(string? field, string what)
    {
        if (field is null)
        {
            return;
        }

        string body = field.EndsWith("\r\n", StringComparison.Ordinal) ? field[..^2] : field;
        for (int i = 0; i < body.Length; i++)
        {
            char c = body[i];
            if (c == '\0')
            {
                throw new FuzzFindingException($"{what} contains NUL: {Show(body)}");
            }

            if (c == '\n' && (i == 0 || body[i - 1] != '\r'))
            {
                throw new FuzzFindingException($"{what} contains a bare LF: {Show(body)}");
            }

            if (c == '\r' && (i + 2 >= body.Length || body[i + 1] != '\n' || (body[i + 2] != ' ' && body[i + 2] != '\t')))
            {
                throw new FuzzFindingException($"{what} contains a line break that is not folding: {Show(body)}");
            }
        }
    }

    private static string Show(string text) => text.Length <= 300 ? text.ReplaceLineEndings("\\n") : text[..300].ReplaceLineEndings("\\n") + "...";
}
