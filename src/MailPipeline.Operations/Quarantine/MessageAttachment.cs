using MimeKit;

namespace MailPipeline.Operations.Quarantine;

/// <summary>An attachment as the console lists it (never opened or served).</summary>
/// <param name="FileName">The file name the sender gave, or null.</param>
/// <param name="ContentType">The media type, e.g. <c>application/pdf</c>.</param>
/// <param name="EncodedSize">Octets of the part's content as transferred (base64 is about 4/3 of the file).</param>
public sealed record MessageAttachment(string? FileName, string ContentType, long EncodedSize)
{
    /// <summary>Describes a MIME entity.</summary>
    /// <param name="entity">The attachment.</param>
    /// <returns>Its description.</returns>
    public static MessageAttachment Of(MimeEntity entity)
    {
        ArgumentNullException.ThrowIfNull(entity);
        long size = entity is MimePart { Content.Stream: { CanSeek: true } content } ? content.Length : 0;
        string? name = entity is MimePart part ? part.FileName : entity.ContentDisposition?.FileName ?? entity.ContentType.Name;
        return new MessageAttachment(name, entity.ContentType.MimeType, size);
    }
}
