using System.Net;
using MailPipeline.Core.Spf;
using MailPipeline.TestSupport;

namespace MailPipeline.Core.Tests.Spf;

/// <summary>The openspf RFC 7208 conformance suite, one test case per suite test.</summary>
public sealed class OpenSpfSuiteTests
{
    public static TheoryData<string, string> Rfc7208Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (scenario, test) in OpenSpfSuite.Rfc7208.Names)
        {
            data.Add(scenario, test);
        }

        return data;
    }

    public static TheoryData<string, string> Rfc4408Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (var (scenario, test) in OpenSpfSuite.Rfc4408.Names)
        {
            data.Add(scenario, test);
        }

        return data;
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Rfc4408Cases))]
    public async Task Rfc4408Suite_Test_GivesExpectedResultAndExplanation(string scenario, string test)
    {
        // arrange
        var suiteCase = OpenSpfSuite.Rfc4408.Case(scenario, test);
        var evaluator = new SpfEvaluator(OpenSpfSuite.Rfc4408.Zone(scenario), new SpfOptions { DefaultExplanation = "DEFAULT" });

        // act
        var result = await evaluator.EvaluateMailFromAsync(IPAddress.Parse(suiteCase.Host), suiteCase.Helo, suiteCase.MailFrom);

        // assert
        Assert.True(
            suiteCase.Results.Contains(result.Result.ToRfc8601()),
            $"{test} ({suiteCase.Spec}): expected {string.Join(" or ", suiteCase.Results)}, got {result.Result.ToRfc8601()}: {result.Reason}");
        if (suiteCase.Explanation is not null)
        {
            Assert.Equal(suiteCase.Explanation, result.Explanation);
        }
    }

    [Fact]
    public void Rfc7208Suite_Loaded_Has16ScenariosAnd203Tests()
    {
        // arrange / act
        var suite = OpenSpfSuite.Rfc7208;

        // assert
        Assert.Equal(16, suite.ScenarioCount);
        Assert.Equal(203, suite.Names.Count());
    }

    [Theory(Timeout = 10_000)]
    [MemberData(nameof(Rfc7208Cases))]
    public async Task Rfc7208Suite_Test_GivesExpectedResultAndExplanation(string scenario, string test)
    {
        // arrange
        var suiteCase = OpenSpfSuite.Rfc7208.Case(scenario, test);
        var evaluator = new SpfEvaluator(OpenSpfSuite.Rfc7208.Zone(scenario), new SpfOptions { DefaultExplanation = "DEFAULT" });

        // act
        var result = await evaluator.EvaluateMailFromAsync(IPAddress.Parse(suiteCase.Host), suiteCase.Helo, suiteCase.MailFrom);

        // assert
        Assert.True(
            suiteCase.Results.Contains(result.Result.ToRfc8601()),
            $"{test} ({suiteCase.Spec}): expected {string.Join(" or ", suiteCase.Results)}, got {result.Result.ToRfc8601()}: {result.Reason}");
        if (suiteCase.Explanation is not null)
        {
            Assert.Equal(suiteCase.Explanation, result.Explanation);
        }
    }
}
