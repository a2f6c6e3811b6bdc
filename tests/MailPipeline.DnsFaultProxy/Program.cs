using System.Net;
using MailPipeline.DnsFaultProxy;

// dotnet run --project tests/MailPipeline.DnsFaultProxy -- --upstream 127.0.0.1:5315 [--listen 127.0.0.1:PORT]
//     [--rule "servfail PTR *.in-addr.arpa"]... [--rules-file FILE] [--verbose]
// Prints "listening on 127.0.0.1:PORT" once both sockets are bound, then relays until Ctrl-C or SIGTERM.
// A --rules-file is re-read whenever it changes (checked every 200 ms), so a script can switch faults
// without restarting the proxy; --rule lines come first, then the file's lines (blank lines and # comments ignored).
var upstream = (IPEndPoint?)null;
var port = 0;
var fixedRules = new List<FaultRule>();
string? rulesFile = null;
var verbose = false;
try
{
    for (var i = 0; i < args.Length; i++)
    {
        var value = i + 1 < args.Length ? args[i + 1] : null;
        switch (args[i])
        {
            case "--upstream" when value is not null:
                upstream = IPEndPoint.Parse(value);
                i++;
                break;
            case "--listen" when value is not null:
                var listen = IPEndPoint.Parse(value);
                if (!listen.Address.Equals(IPAddress.Loopback))
                {
                    throw new FormatException("the proxy listens on 127.0.0.1 only");
                }

                port = listen.Port;
                i++;
                break;
            case "--rule" when value is not null:
                fixedRules.Add(FaultRule.Parse(value));
                i++;
                break;
            case "--rules-file" when value is not null:
                rulesFile = value;
                i++;
                break;
            case "--verbose":
                verbose = true;
                break;
            default:
                throw new FormatException($"unexpected argument '{args[i]}'");
        }
    }

    if (upstream is null)
    {
        throw new FormatException("--upstream HOST:PORT is required");
    }
}
catch (FormatException ex)
{
    await Console.Error.WriteLineAsync($"dns-fault-proxy: {ex.Message}");
    await Console.Error.WriteLineAsync("usage: --upstream 127.0.0.1:PORT [--listen 127.0.0.1:PORT] [--rule \"KIND[=DELAY] TYPE NAME [udp|tcp]\"]... [--rules-file FILE] [--verbose]");
    return 2;
}

using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
AppDomain.CurrentDomain.ProcessExit += (_, _) => stop.Cancel();

await using var proxy = new DnsFaultProxy(upstream);
if (verbose)
{
    proxy.FaultApplied += (rule, transport, name, type) =>
        Console.Error.WriteLine($"{DateTimeOffset.UtcNow:HH:mm:ss.fff} {transport.ToString().ToLowerInvariant()} {name} {FaultRule.TypeName(type)}: {rule}");
}

DateTime fileStamp = default;
void LoadRules()
{
    var rules = new List<FaultRule>(fixedRules);
    if (rulesFile is not null && File.Exists(rulesFile))
    {
        fileStamp = File.GetLastWriteTimeUtc(rulesFile);
        foreach (var line in File.ReadAllLines(rulesFile))
        {
            var text = line.Trim();
            if (text.Length == 0 || text.StartsWith('#'))
            {
                continue;
            }

            try
            {
                rules.Add(FaultRule.Parse(text));
            }
            catch (FormatException ex)
            {
                Console.Error.WriteLine($"dns-fault-proxy: {rulesFile}: {ex.Message} (line ignored)");
            }
        }
    }

    proxy.SetRules(rules);
    Console.Error.WriteLine($"dns-fault-proxy: {rules.Count} rule(s): {string.Join("; ", rules)}");
}

LoadRules();
try
{
    proxy.Start(port);
}
catch (System.Net.Sockets.SocketException ex)
{
    await Console.Error.WriteLineAsync($"dns-fault-proxy: cannot listen on 127.0.0.1:{port}: {ex.Message}");
    return 1;
}

Console.WriteLine($"listening on {proxy.EndpointText}");
await Console.Out.FlushAsync();
while (!stop.IsCancellationRequested)
{
    try
    {
        await Task.Delay(200, stop.Token);
    }
    catch (OperationCanceledException)
    {
        break;
    }

    if (rulesFile is not null && File.Exists(rulesFile) && File.GetLastWriteTimeUtc(rulesFile) != fileStamp)
    {
        LoadRules();
    }
}

return 0;
