namespace MailMesh.Delivery.Tests.Support;

/// <summary>How a <see cref="ScriptedMx"/> behaves beyond its replies per recipient.</summary>
internal sealed record ScriptedMxOptions
{
    /// <summary>Offer PIPELINING (RFC 2920) in the EHLO reply.</summary>
    public bool Pipelining { get; init; }

    /// <summary>
    /// Close each connection, without a reply, when its second transaction begins: a server whose
    /// idle timeout ran out just as the client sent MAIL FROM on the reused connection.
    /// </summary>
    public bool DropSecondTransaction { get; init; }

    /// <summary>How long to wait before answering the final dot, so that deliveries overlap.</summary>
    public TimeSpan DataReplyDelay { get; init; }

    /// <summary>Counts the sessions open at once; shared, it counts across servers.</summary>
    public SessionGauge Gauge { get; init; } = new();
}
