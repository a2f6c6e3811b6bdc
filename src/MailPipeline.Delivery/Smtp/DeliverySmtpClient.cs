using MailKit.Net.Smtp;
using MimeKit;

namespace MailPipeline.Delivery.Smtp;

/// <summary>
/// MailKit's <see cref="SmtpClient"/> with per-recipient replies honoured: a refused RCPT is recorded and the
/// transaction goes on with the others (MailKit's default throws and abandons the message).
/// </summary>
internal sealed class DeliverySmtpClient : SmtpClient
{
    private readonly Dictionary<MailboxAddress, RecipientOutcome> _refused = new(ReferenceEqualityComparer.Instance);

    /// <summary>Recipients refused at RCPT, by the mailbox object given to Send.</summary>
    public IReadOnlyDictionary<MailboxAddress, RecipientOutcome> Refused => _refused;

    /// <summary>The recipient strings of the mailboxes given to Send.</summary>
    public Dictionary<MailboxAddress, string> Addresses { get; } = new(ReferenceEqualityComparer.Instance);

    protected override void OnRecipientNotAccepted(MimeMessage message, MailboxAddress mailbox, SmtpResponse response)
    {
        ArgumentNullException.ThrowIfNull(mailbox);
        ArgumentNullException.ThrowIfNull(response);
        string recipient = Addresses.GetValueOrDefault(mailbox, mailbox.Address);
        int code = (int)response.StatusCode;
        _refused[mailbox] = new RecipientOutcome(recipient, code >= 500 ? RecipientStatus.Rejected : RecipientStatus.Deferred, NextHopClient.Reply(code, response.Response));
    }

    protected override void OnNoRecipientsAccepted(MimeMessage message) => throw new NoRecipientAcceptedException();

    /// <summary>Thrown when every RCPT was refused: MailKit then stops before DATA.</summary>
    internal sealed class NoRecipientAcceptedException : Exception
    {
        public NoRecipientAcceptedException()
            : base("No recipient was accepted.")
        {
        }

        public NoRecipientAcceptedException(string message)
            : base(message)
        {
        }

        public NoRecipientAcceptedException(string message, Exception innerException)
            : base(message, innerException)
        {
        }
    }
}
