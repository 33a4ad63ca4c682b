namespace MailMesh.Delivery.Routing;

/// <summary>Delivery into local Maildirs under <paramref name="Root"/>, one per recipient.</summary>
/// <param name="Root">Absolute directory holding <c>domain/local-part/{tmp,new,cur}</c>.</param>
internal sealed record MaildirRoute(string Root) : Route
{
    public override string Name => "file://" + Root;
}
