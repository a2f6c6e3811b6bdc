namespace MailPipeline.Delivery;

/// <summary>One route as configured: <c>Delivery:Routes:&lt;domain&gt;</c>.</summary>
public sealed class DeliveryRouteOptions
{
    /// <summary>The next hop URI (see <see cref="Delivery.NextHop.Parse"/>).</summary>
    public string? NextHop { get; set; }

    /// <summary>The TLS policy; default <see cref="TlsPolicy.Opportunistic"/>.</summary>
    public TlsPolicy Tls { get; set; } = TlsPolicy.Opportunistic;

    /// <summary>SMTP AUTH user name, e.g. for a submission relay on port 587.</summary>
    public string? Username { get; set; }

    /// <summary>SMTP AUTH password (in Azure: a Key Vault reference in the app setting).</summary>
    public string? Password { get; set; }
}
