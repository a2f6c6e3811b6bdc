using MailPipeline.Core.Arc;
using MailPipeline.Core.Dns;
using MailPipeline.Delivery;

namespace MailPipeline.Pipeline.Delivery;

/// <summary>What serve's pipeline needs for next-hop delivery.</summary>
/// <param name="Options">Routes, retry, concurrency.</param>
/// <param name="Dns">Our resolver (MX and address lookups).</param>
/// <param name="Sealer">The ARC sealer, or null to deliver unsealed.</param>
public sealed record LocalDeliverySetup(DeliveryOptions Options, IDnsResolver? Dns, ArcSealer? Sealer);
