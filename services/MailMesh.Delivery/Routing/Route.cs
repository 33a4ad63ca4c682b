namespace MailMesh.Delivery.Routing;

/// <summary>Where the transport map sends a recipient domain.</summary>
internal abstract record Route
{
    /// <summary>The route as an operator would write it, without any password: safe to log.</summary>
    public abstract string Name { get; }
}
