namespace MailMesh.Delivery.Routing;

/// <summary>Delivery to the domain's own mail exchangers, found in DNS.</summary>
internal sealed record MxRoute : Route
{
    public static readonly MxRoute Instance = new();

    public override string Name => "mx";
}
