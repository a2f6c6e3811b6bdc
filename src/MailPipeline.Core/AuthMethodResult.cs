namespace MailPipeline.Core;

/// <summary>
/// One <c>method=result</c> entry of an RFC 8601 Authentication-Results header, as each check
/// produces it and the composer writes it: e.g. <c>dkim=pass header.d=example.com header.s=sel</c>.
/// </summary>
/// <param name="Method">The method: <c>spf</c>, <c>dkim</c>, <c>dmarc</c>, <c>arc</c>, <c>iprev</c>, <c>dnswl</c>.</param>
/// <param name="Result">The result.</param>
/// <param name="Reason">An optional <c>reason="..."</c> text.</param>
/// <param name="Properties">The <c>ptype.property=value</c> items, in order.</param>
/// <param name="Comment">An optional comment written in parentheses after the result.</param>
public sealed record AuthMethodResult(
    string Method,
    AuthResult Result,
    string? Reason = null,
    IReadOnlyList<AuthResultProperty>? Properties = null,
    string? Comment = null);

/// <summary>One <c>ptype.property=value</c> item (RFC 8601 §2.3), e.g. <c>smtp.mailfrom</c> or <c>header.d</c>.</summary>
/// <param name="Type">The ptype: <c>smtp</c>, <c>header</c>, <c>body</c>, <c>policy</c>, <c>dns</c>.</param>
/// <param name="Name">The property name.</param>
/// <param name="Value">The value, unquoted; the composer quotes it where RFC 8601 requires.</param>
public sealed record AuthResultProperty(string Type, string Name, string Value);
