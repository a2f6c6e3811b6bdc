using System.ComponentModel.DataAnnotations;

namespace MailPipeline.Core.Spf;

/// <summary>Settings of the SPF check (configuration section <c>Spf</c>); the defaults are the RFC 7208 values.</summary>
public sealed class SpfOptions : IValidatableObject
{
    /// <summary>The configuration section name.</summary>
    public const string SectionName = "Spf";

    /// <summary>
    /// Most DNS-querying terms (<c>include</c>, <c>a</c>, <c>mx</c>, <c>ptr</c>, <c>exists</c>, <c>redirect</c>)
    /// one evaluation may use before it ends in permerror (RFC 7208 §4.6.4: 10).
    /// </summary>
    [Range(1, 100)]
    public int MaxDnsLookups { get; set; } = 10;

    /// <summary>Most "void" lookups (NXDOMAIN or no answer) before permerror (RFC 7208 §4.6.4: 2).</summary>
    [Range(0, 100)]
    public int MaxVoidLookups { get; set; } = 2;

    /// <summary>
    /// Most MX exchanges or PTR names one <c>mx</c>/<c>ptr</c> term (or the <c>%{p}</c> macro) looks up addresses for
    /// (RFC 7208 §4.6.4: 10). More MX records than this is a permerror; PTR names past it are ignored.
    /// </summary>
    [Range(1, 100)]
    public int MaxAddressLookupsPerMechanism { get; set; } = 10;

    /// <summary>Wall-clock limit of one evaluation; past it the result is temperror (RFC 7208 §4.6.4 asks for at least 20 s).</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:10:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(20);

    /// <summary>
    /// This host's name, for the <c>%{r}</c> macro in explanations (<c>unknown</c> when not set, RFC 7208 §7.3) and the
    /// <c>receiver=</c> of <c>Received-SPF</c> (the authserv-id when not set). The CLI sets it from <c>--hostname</c>.
    /// </summary>
    public string? ReceivingHost { get; set; }

    /// <summary>
    /// The explanation given for a fail when the record has no usable <c>exp=</c> (a macro-string, RFC 7208 §6.2);
    /// null for none.
    /// </summary>
    public string? DefaultExplanation { get; set; } = "%{i} is not one of %{d}'s designated mail servers";

    /// <inheritdoc />
    public IEnumerable<ValidationResult> Validate(ValidationContext validationContext)
    {
        if (DefaultExplanation is not null && !SpfMacroString.TryParse(DefaultExplanation, SpfMacroKind.Explanation, out _, out var error))
        {
            yield return new ValidationResult($"DefaultExplanation is not a valid SPF macro-string: {error}", [nameof(DefaultExplanation)]);
        }
    }
}
