namespace MailPipeline.Delivery;

/// <summary>A resolved route: the next hop and how to talk to it.</summary>
/// <param name="NextHop">The next hop.</param>
/// <param name="Tls">The TLS policy.</param>
/// <param name="Username">The SMTP AUTH user name (submission relays such as port 587), or null.</param>
/// <param name="Password">The password; never logged.</param>
public sealed record DeliveryRoute(NextHop NextHop, TlsPolicy Tls = TlsPolicy.Opportunistic, string? Username = null, string? Password = null)
{
    /// <summary>The route's identity: its next hop's text.</summary>
    public string Key => NextHop.ToString();

    /// <summary>Omits the password.</summary>
    /// <returns>The text.</returns>
    public override string ToString() => $"{NextHop} tls={Tls}{(Username is null ? string.Empty : " auth=" + Username)}";
}
