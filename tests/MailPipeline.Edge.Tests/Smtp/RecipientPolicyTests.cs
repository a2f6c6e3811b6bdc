namespace MailPipeline.Edge.Tests.Smtp;

public sealed class RecipientPolicyTests
{
    private static RecipientPolicy Policy()
    {
        var options = new EdgeOptions();
        options.AcceptedDomains.Add("Ours.Test");
        options.AcceptedDomains.Add("bücher.test");
        return new RecipientPolicy(options);
    }

    [Theory]
    [InlineData("alice", "ours.test", "Accept")]
    [InlineData("alice", "OURS.TEST", "Accept")]
    [InlineData("jöran", "xn--bcher-kva.test", "Accept")]
    [InlineData("jöran", "BÜCHER.test", "Accept")]
    [InlineData("alice", "ours.test.", "RelayDenied")]
    [InlineData("alice", "sub.ours.test", "RelayDenied")]
    [InlineData("alice", "[127.0.0.1]", "RelayDenied")]
    [InlineData("victim%evil.test", "ours.test", "RelayDenied")]
    [InlineData("evil.test!victim", "ours.test", "RelayDenied")]
    [InlineData("victim@evil.test", "ours.test", "RelayDenied")]
    [InlineData("", "ours.test", "RelayDenied")]
    [InlineData("alice", "", "RelayDenied")]
    public void Evaluate_Address_ReturnsDecision(string localPart, string domain, string expected)
    {
        // arrange
        var policy = Policy();

        // act
        var decision = policy.Evaluate(localPart, domain);

        // assert
        Assert.Equal(expected, decision.ToString());
    }

    [Fact]
    public void Evaluate_DomainWithAddressList_AcceptsOnlyListedLocalParts()
    {
        // arrange
        var options = new EdgeOptions();
        options.AcceptedDomains.Add("ours.test");
        options.AcceptedRecipients["OURS.test"] = ["alice@ours.test", "bob"];
        var policy = new RecipientPolicy(options);

        // act
        var alice = policy.Evaluate("ALICE", "ours.test");
        var bob = policy.Evaluate("bob", "ours.test");
        var mallory = policy.Evaluate("mallory", "ours.test");

        // assert
        Assert.Equal(RecipientDecision.Accept, alice);
        Assert.Equal(RecipientDecision.Accept, bob);
        Assert.Equal(RecipientDecision.UnknownUser, mallory);
    }
}
