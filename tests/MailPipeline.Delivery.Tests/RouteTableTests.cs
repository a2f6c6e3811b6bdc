namespace MailPipeline.Delivery.Tests;

public sealed class RouteTableTests
{
    private static readonly DeliveryOptions Options = new()
    {
        DefaultNextHop = "smtp://default.internal:25",
        Routes = new(StringComparer.OrdinalIgnoreCase)
        {
            ["example.org"] = new() { NextHop = "lmtp:/run/dovecot/lmtp", Tls = TlsPolicy.None },
            ["*.example.org"] = new() { NextHop = "smtp://sub.internal:25" },
            ["*.deep.example.org"] = new() { NextHop = "smtp://deep.internal:25" },
            ["relay.test"] = new() { NextHop = "smtp://smtp.relay.test:587", Tls = TlsPolicy.Required, Username = "u", Password = "p" },
        },
    };

    [Theory]
    [InlineData("bob@example.org", "lmtp:/run/dovecot/lmtp")]
    [InlineData("bob@EXAMPLE.org.", "lmtp:/run/dovecot/lmtp")]
    [InlineData("bob@a.example.org", "smtp://sub.internal:25")]
    [InlineData("bob@a.deep.example.org", "smtp://deep.internal:25")]
    [InlineData("bob@deep.example.org", "smtp://sub.internal:25")]
    [InlineData("bob@other.test", "smtp://default.internal:25")]
    public void Find_ExactThenNearestWildcardThenDefault(string recipient, string expected)
    {
        // act
        var route = RouteTable.Create(Options).Find(recipient);

        // assert
        Assert.Equal(expected, route?.Key);
    }

    [Fact]
    public void Find_NoDefault_NullForUnroutedDomain()
    {
        // arrange
        var table = RouteTable.Create(new DeliveryOptions { Routes = new() { ["example.org"] = new() { NextHop = "smtp://a.internal:25" } } });

        // act
        var groups = table.Group(["a@example.org", "b@other.test"], 100, out var unrouted);

        // assert
        Assert.Null(table.Find("b@other.test"));
        Assert.Equal(["b@other.test"], unrouted);
        Assert.Equal(["a@example.org"], Assert.Single(groups).Recipients);
    }

    [Fact]
    public void Group_OneTransactionPerNextHopUpToTheLimit()
    {
        // arrange
        var table = RouteTable.Create(Options);
        string[] recipients = ["1@x.test", "2@x.test", "a@example.org", "3@y.test", "b@a.example.org", "c@b.example.org"];

        // act
        var groups = table.Group(recipients, 2, out var unrouted);

        // assert
        Assert.Empty(unrouted);
        Assert.Equal(
            [("smtp://default.internal:25", "1@x.test,2@x.test"), ("lmtp:/run/dovecot/lmtp", "a@example.org"), ("smtp://default.internal:25", "3@y.test"), ("smtp://sub.internal:25", "b@a.example.org,c@b.example.org")],
            groups.Select(g => (g.Route.Key, string.Join(',', g.Recipients))).ToArray());
    }

    [Fact]
    public void Create_CredentialsWithoutRequiredTls_Refused()
    {
        // arrange: a password must never travel in clear or to an unauthenticated server
        var options = new DeliveryOptions { DefaultNextHop = "smtp://smtp.relay.test:587", Username = "u", Password = "p" };

        // act
        var ex = Assert.Throws<FormatException>(() => RouteTable.Create(options));

        // assert
        Assert.Contains("Tls must be Required", ex.Message, StringComparison.Ordinal);
        Assert.Contains(options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)), r => r.ErrorMessage!.Contains("Tls must be Required", StringComparison.Ordinal));
    }

    [Fact]
    public void Route_ToString_NeverShowsThePassword()
    {
        // act
        string text = RouteTable.Create(Options).Find("x@relay.test")!.ToString();

        // assert
        Assert.Equal("smtp://smtp.relay.test:587 tls=Required auth=u", text);
    }

    [Fact]
    public void Validate_MissingCaFile_Refused()
    {
        // arrange
        var options = new DeliveryOptions { DefaultNextHop = "smtp://a.internal:25", CaCertificatesPath = "/nonexistent/ca.pem" };

        // act
        var results = options.Validate(new System.ComponentModel.DataAnnotations.ValidationContext(options)).ToList();

        // assert
        Assert.Contains(results, r => r.ErrorMessage!.Contains("/nonexistent/ca.pem does not exist", StringComparison.Ordinal));
    }

    [Theory]
    [InlineData(2, 60)]
    [InlineData(3, 120)]
    [InlineData(4, 240)]
    [InlineData(9, 3600)]
    [InlineData(40, 3600)]
    public void RetryDelay_DoublesFromTheBaseUpToTheMaximum(int attempt, int seconds)
    {
        // act / assert: defaults are 1 min doubling to 1 h
        Assert.Equal(TimeSpan.FromSeconds(seconds), new DeliveryOptions().RetryDelay(attempt));
    }
}
