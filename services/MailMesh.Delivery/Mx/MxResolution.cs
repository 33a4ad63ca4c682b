using MailMesh.Delivery.Relay;

namespace MailMesh.Delivery.Mx;

/// <summary>
/// Where mail for a domain goes: the addresses of its mail exchangers in the order to try them,
/// or, when there is nowhere to go, the reply every recipient of the domain gets. A <c>5xx</c>
/// reply fails them; a <c>4xx</c> one defers them.
/// </summary>
internal sealed record MxResolution(IReadOnlyList<SmtpEndpoint> Endpoints, string? FailureReply)
{
    public static MxResolution Found(IReadOnlyList<SmtpEndpoint> endpoints) => new(endpoints, null);

    public static MxResolution Failed(string reply) => new([], reply);
}
