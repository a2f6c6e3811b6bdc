using System.Text;
using System.Text.Json.Nodes;

namespace MailPipeline.Infra.Tests.Infrastructure;

/// <summary>
/// Reads the edge's cloud-init from a predicted VM Scale Set: its text (decoded, or the ARM expression when it holds
/// values known only at deployment time) and the container's environment file as name to value, where a value known
/// only at deployment time is the ARM expression text that produces it.
/// </summary>
public static class CloudInit
{
    private const string EnvironmentFile = "'/etc/mailpipeline/edge.env'";

    /// <summary>The customData: decoded when it is a literal, else the ARM expression.</summary>
    public static string Text(JsonObject scaleSet)
    {
        string customData = (string)scaleSet["properties"]!["virtualMachineProfile"]!["osProfile"]!["customData"]!;
        return Deployment.IsExpression(customData) ? customData : Encoding.UTF8.GetString(Convert.FromBase64String(customData));
    }

    /// <summary>The edge container's settings (docker --env-file lines).</summary>
    public static Dictionary<string, string> Environment(JsonObject scaleSet)
    {
        string text = Text(scaleSet);
        var settings = new Dictionary<string, string>(StringComparer.Ordinal);
        if (!Deployment.IsExpression(text))
        {
            var config = JsonNode.Parse(text[text.IndexOf('{', StringComparison.Ordinal)..])!;
            var file = config["write_files"]!.AsArray().Single(f => (string)f!["path"]! == "/etc/mailpipeline/edge.env")!;
            foreach (string line in ((string)file["content"]!).Split('\n'))
            {
                int equals = line.IndexOf('=', StringComparison.Ordinal);
                settings[line[..equals]] = line[(equals + 1)..];
            }

            return settings;
        }

        int at = text.IndexOf(EnvironmentFile, StringComparison.Ordinal);
        Assert.True(at >= 0, "cloud-init writes no /etc/mailpipeline/edge.env");
        const string join = "join(createArray(";
        int start = text.IndexOf(join, at, StringComparison.Ordinal) + join.Length;
        foreach (string argument in Arguments(text, start))
        {
            if (argument.StartsWith('\''))
            {
                string line = Unquote(argument);
                int equals = line.IndexOf('=', StringComparison.Ordinal);
                settings[line[..equals]] = line[(equals + 1)..];
            }
            else
            {
                // format('{0}={1}', 'NAME', <expression>)
                var parts = Arguments(argument, argument.IndexOf('(', StringComparison.Ordinal) + 1);
                Assert.True(parts.Count == 3 && Unquote(parts[0]) == "{0}={1}", $"unexpected environment entry {argument}");
                settings[Unquote(parts[1])] = parts[2];
            }
        }

        return settings;
    }

    /// <summary>The top-level arguments of the call whose argument list starts at <paramref name="start"/>.</summary>
    private static List<string> Arguments(string text, int start)
    {
        var arguments = new List<string>();
        int depth = 0;
        bool quoted = false;
        var current = new StringBuilder();
        for (int i = start; i < text.Length; i++)
        {
            char c = text[i];
            if (quoted)
            {
                current.Append(c);
                if (c == '\'')
                {
                    if (i + 1 < text.Length && text[i + 1] == '\'')
                    {
                        current.Append('\'');
                        i++;
                    }
                    else
                    {
                        quoted = false;
                    }
                }

                continue;
            }

            switch (c)
            {
                case '\'':
                    quoted = true;
                    current.Append(c);
                    break;
                case '(':
                    depth++;
                    current.Append(c);
                    break;
                case ')' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    return arguments;
                case ')':
                    depth--;
                    current.Append(c);
                    break;
                case ',' when depth == 0:
                    arguments.Add(current.ToString().Trim());
                    current.Clear();
                    break;
                default:
                    current.Append(c);
                    break;
            }
        }

        throw new InvalidOperationException("unbalanced expression");
    }

    private static string Unquote(string literal) => literal[1..^1].Replace("''", "'", StringComparison.Ordinal);
}
