using SmtpServer;
using SmtpServer.Protocol;

namespace MailPipeline.Edge;

/// <summary>Makes SmtpServer's EHLO advertise exactly what the edge supports.</summary>
internal sealed class EdgeCommandFactory : SmtpCommandFactory
{
    private readonly EdgeOptions _options;

    public EdgeCommandFactory(EdgeOptions options) => _options = options;

    public override SmtpCommand CreateEhlo(string domainOrAddress) => new EdgeEhloCommand(domainOrAddress, _options);

    private sealed class EdgeEhloCommand : EhloCommand
    {
        private readonly EdgeOptions _options;

        public EdgeEhloCommand(string domainOrAddress, EdgeOptions options)
            : base(domainOrAddress) => _options = options;

        protected override string GetGreeting(ISessionContext context) => $"{_options.HostName} Hello {DomainOrAddress}";

        /// <remarks>No CHUNKING: SmtpServer 11.1 has no BDAT command and its command set is closed (internal ExecuteAsync).</remarks>
        protected override IEnumerable<string> GetExtensions(ISessionContext context)
        {
            yield return "PIPELINING";
            yield return $"SIZE {_options.MaxMessageSize}";
            yield return "8BITMIME";
            yield return "SMTPUTF8";
            yield return "ENHANCEDSTATUSCODES";
            if (!context.Pipe.IsSecure && context.EndpointDefinition.CertificateFactory is not null)
            {
                yield return "STARTTLS";
            }

            var session = EdgeSession.From(context);
            if (session.XclientAllowed)
            {
                yield return "XCLIENT " + ClientAddressPolicy.XclientAttributes; // only to Edge:XclientHosts, as Postfix does
            }

            if (session.XforwardAllowed)
            {
                yield return "XFORWARD " + ClientAddressPolicy.XforwardAttributes;
            }
        }
    }
}
