using System.Reflection;
using Azure.Messaging.ServiceBus;
using Microsoft.Azure.Functions.Worker;

namespace MailPipeline.Functions.Tests.ServiceBusApi;

/// <summary>
/// Pins the compile-time stand-in to the official package's public API (TestData/servicebus/*.api.txt, written from the
/// official source), so that an app that compiles offline also compiles, and yields the same metadata, against the package.
/// </summary>
public sealed class ServiceBusStandInApiTests
{
    private static readonly Lazy<Assembly> StandInLazy = new(() =>
        Assembly.LoadFrom(Path.Combine(AppContext.BaseDirectory, BuildInfo.StandInAssemblyFile)));

    private static Assembly StandIn => StandInLazy.Value;

    public static TheoryData<string> ListedTypes()
    {
        var data = new TheoryData<string>();
        foreach (var name in ServiceBusApiListing.Load().Keys)
        {
            data.Add(name);
        }

        return data;
    }

    [Fact]
    public void StandIn_PublicTypes_AreExactlyTheListedOfficialTypes()
    {
        // arrange
        var listed = ServiceBusApiListing.Load().Keys.Order(StringComparer.Ordinal).ToList();

        // act
        var exported = StandIn.GetExportedTypes().Select(t => t.FullName!).Order(StringComparer.Ordinal).ToList();

        // assert
        Assert.Equal(listed, exported);
        Assert.All(exported, name => Assert.StartsWith("Microsoft.Azure.Functions.Worker.", name, StringComparison.Ordinal));
    }

    [Theory]
    [MemberData(nameof(ListedTypes))]
    public void StandIn_PublicApi_MatchesOfficialListing(string typeName)
    {
        // arrange
        var expected = ServiceBusApiListing.Load()[typeName];
        var type = StandIn.GetType(typeName, throwOnError: true)!;

        // act
        var actual = PublicApiFormatter.Format(type);

        // assert
        Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
    }

    [Theory]
    [MemberData(nameof(ListedTypes))]
    public void ReferencedServiceBusExtension_PublicApi_MatchesOfficialListing(string typeName)
    {
        // arrange: the assembly the app compiled against: the official package in a default build (this checks the
        // listing itself against the real package), the stand-in under ServiceBusOffline=true.
        var expected = ServiceBusApiListing.Load()[typeName];
        var type = typeof(ServiceBusTriggerAttribute).Assembly.GetType(typeName, throwOnError: true)!;

        // act
        var actual = PublicApiFormatter.Format(type);

        // assert
        Assert.Equal(string.Join('\n', expected), string.Join('\n', actual));
    }

    [Fact]
    public void ReferencedServiceBusExtension_Assembly_MatchesBuildMode()
    {
        // arrange
        var referenced = typeof(ServiceBusTriggerAttribute).Assembly;

        // act
        var name = referenced.GetName().Name;
        var extensionInformation = referenced.GetCustomAttributesData()
            .Where(a => a.AttributeType.Name == "ExtensionInformationAttribute")
            .Select(a => string.Join("/", a.ConstructorArguments.Select(c => c.Value)))
            .ToList();

        // assert
        if (BuildInfo.ServiceBusOffline)
        {
            Assert.Equal("MailPipeline.Functions.ServiceBusStandIn", name);
            Assert.Empty(extensionInformation);
        }
        else
        {
            Assert.Equal("Microsoft.Azure.Functions.Worker.Extensions.ServiceBus", name);
            Assert.Equal(["Microsoft.Azure.WebJobs.Extensions.ServiceBus/5.17.0"], extensionInformation);
        }
    }

    [Fact]
    public void StandIn_Assembly_HasNoExtensionInformationOrWorkerStartup()
    {
        // arrange
        var attributeNames = StandIn.GetCustomAttributesData().Select(a => a.AttributeType.Name).ToList();

        // act
        var forbidden = attributeNames.Where(n => n is "ExtensionInformationAttribute" or "WorkerExtensionStartupAttribute").ToList();

        // assert: no host extension is installed for it, and nothing registers itself in the worker.
        Assert.Empty(forbidden);
    }

    public static TheoryData<string, int> SettlementMethods() => new()
    {
        { "Microsoft.Azure.Functions.Worker.ServiceBusMessageActions.CompleteMessageAsync", 2 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusMessageActions.AbandonMessageAsync", 3 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusMessageActions.DeadLetterMessageAsync", 5 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusMessageActions.DeferMessageAsync", 3 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusMessageActions.RenewMessageLockAsync", 2 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusSessionMessageActions.GetSessionStateAsync", 1 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusSessionMessageActions.SetSessionStateAsync", 2 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusSessionMessageActions.ReleaseSession", 1 },
        { "Microsoft.Azure.Functions.Worker.ServiceBusSessionMessageActions.RenewSessionLockAsync", 1 },
    };

    [Theory]
    [MemberData(nameof(SettlementMethods))]
    public void StandIn_SettlementMethod_ThrowsNotSupportedNamingTheSwitch(string method, int parameterCount)
    {
        // arrange
        var typeName = method[..method.LastIndexOf('.')];
        var type = StandIn.GetType(typeName, throwOnError: true)!;
        var instance = Activator.CreateInstance(type, nonPublic: true)!;
        var info = type.GetMethod(method[(method.LastIndexOf('.') + 1)..])!;
        var message = ServiceBusModelFactory.ServiceBusReceivedMessage(messageId: "m1", lockTokenGuid: Guid.NewGuid());
        var arguments = info.GetParameters().Select(p =>
            p.ParameterType == typeof(ServiceBusReceivedMessage) ? message
            : p.ParameterType == typeof(BinaryData) ? BinaryData.FromString("state")
            : p.HasDefaultValue ? p.DefaultValue
            : null).ToArray();

        // act
        var exception = Assert.Throws<TargetInvocationException>(() => info.Invoke(instance, arguments));

        // assert
        Assert.Equal(parameterCount, arguments.Length);
        var notSupported = Assert.IsType<NotSupportedException>(exception.InnerException);
        Assert.Contains("ServiceBusOffline=true", notSupported.Message, StringComparison.Ordinal);
        Assert.Contains("stand-in", notSupported.Message, StringComparison.Ordinal);
    }
}
