namespace MailPipeline.Delivery;

/// <summary>
/// Picks the route of each recipient by its domain: an exact <c>Delivery:Routes</c> entry, else the nearest
/// <c>*.parent</c> entry, else <c>Delivery:DefaultNextHop</c>. Recipients without any route are reported so the
/// caller can hold them (they are never dropped).
/// </summary>
public sealed class RouteTable
{
    private readonly Dictionary<string, DeliveryRoute> _exact;
    private readonly Dictionary<string, DeliveryRoute> _wildcard;
    private readonly DeliveryRoute? _default;

    private RouteTable(Dictionary<string, DeliveryRoute> exact, Dictionary<string, DeliveryRoute> wildcard, DeliveryRoute? fallback)
    {
        _exact = exact;
        _wildcard = wildcard;
        _default = fallback;
    }

    /// <summary>Builds the table from the options.</summary>
    /// <param name="options">The options.</param>
    /// <returns>The table.</returns>
    /// <exception cref="FormatException">A next hop URI is malformed, or credentials are set on a route without TLS.</exception>
    public static RouteTable Create(DeliveryOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        var exact = new Dictionary<string, DeliveryRoute>(StringComparer.OrdinalIgnoreCase);
        var wildcard = new Dictionary<string, DeliveryRoute>(StringComparer.OrdinalIgnoreCase);
        foreach (var (domain, route) in options.Routes)
        {
            if (string.IsNullOrWhiteSpace(route.NextHop))
            {
                throw new FormatException($"route '{domain}' has no NextHop.");
            }

            var resolved = Build(route.NextHop, route.Tls, route.Username, route.Password, $"route '{domain}'");
            string key = domain.Trim().TrimEnd('.');
            if (key.StartsWith("*.", StringComparison.Ordinal))
            {
                wildcard[key[2..]] = resolved;
            }
            else
            {
                exact[key] = resolved;
            }
        }

        var fallback = string.IsNullOrWhiteSpace(options.DefaultNextHop) ? null : Build(options.DefaultNextHop, options.Tls, options.Username, options.Password, "DefaultNextHop");
        return new RouteTable(exact, wildcard, fallback);
    }

    /// <summary>The route of one recipient address, or null when none applies.</summary>
    /// <param name="recipient">The address (<c>local@domain</c>).</param>
    /// <returns>The route.</returns>
    public DeliveryRoute? Find(string recipient)
    {
        ArgumentNullException.ThrowIfNull(recipient);
        int at = recipient.LastIndexOf('@');
        string domain = at < 0 ? string.Empty : recipient[(at + 1)..].TrimEnd('>', '.');
        if (_exact.TryGetValue(domain, out var route))
        {
            return route;
        }

        for (int dot = domain.IndexOf('.', StringComparison.Ordinal); dot >= 0; dot = domain.IndexOf('.', dot + 1))
        {
            if (_wildcard.TryGetValue(domain[(dot + 1)..], out route))
            {
                return route;
            }
        }

        return _default;
    }

    /// <summary>Groups recipients by route, in first-seen order, at most <paramref name="maxPerGroup"/> per group.</summary>
    /// <param name="recipients">The recipients.</param>
    /// <param name="maxPerGroup">Recipients per transaction.</param>
    /// <param name="unrouted">Recipients no route applies to.</param>
    /// <returns>The groups.</returns>
    public IReadOnlyList<(DeliveryRoute Route, IReadOnlyList<string> Recipients)> Group(IEnumerable<string> recipients, int maxPerGroup, out IReadOnlyList<string> unrouted)
    {
        ArgumentNullException.ThrowIfNull(recipients);
        var groups = new List<(DeliveryRoute, List<string>)>();
        var missing = new List<string>();
        foreach (string recipient in recipients)
        {
            var route = Find(recipient);
            if (route is null)
            {
                missing.Add(recipient);
                continue;
            }

            int index = groups.FindLastIndex(g => g.Item1 == route && g.Item2.Count < maxPerGroup);
            if (index < 0)
            {
                groups.Add((route, [recipient]));
            }
            else
            {
                groups[index].Item2.Add(recipient);
            }
        }

        unrouted = missing;
        return groups.Select(g => (g.Item1, (IReadOnlyList<string>)g.Item2)).ToList();
    }

    private static DeliveryRoute Build(string uri, TlsPolicy tls, string? username, string? password, string where)
    {
        NextHop hop;
        try
        {
            hop = NextHop.Parse(uri);
        }
        catch (FormatException ex)
        {
            throw new FormatException($"{where}: {ex.Message}", ex);
        }

        if (!string.IsNullOrEmpty(username) && tls != TlsPolicy.Required && hop.Protocol != NextHopProtocol.Smtps)
        {
            throw new FormatException($"{where}: a user name is set, so Tls must be Required (credentials are never sent in clear or over an unverified TLS session).");
        }

        return new DeliveryRoute(hop, tls, string.IsNullOrEmpty(username) ? null : username, password);
    }
}
