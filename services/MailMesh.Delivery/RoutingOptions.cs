namespace MailMesh.Delivery;

/// <summary>The transport map, bound from <c>MailMesh:Routes</c> and <c>MailMesh:DefaultRoute</c>.</summary>
internal sealed class RoutingOptions
{
    public const string SectionName = "MailMesh";

    /// <summary>
    /// Routes by recipient domain: <c>example.com</c> for the domain, <c>.example.com</c> for it
    /// and its subdomains. Default: <c>.test</c> and <c>localhost</c> to <c>file:var/mailbox</c>;
    /// an entry given for the same key replaces its default, an empty one removes it.
    /// </summary>
    public Dictionary<string, string?> Routes { get; set; } = new(StringComparer.OrdinalIgnoreCase);

    /// <summary>The route of every domain the map does not name. Default <c>mx</c>.</summary>
    public string DefaultRoute { get; set; } = "mx";

    /// <summary>Routes a fresh installation has, so the quick start delivers with no network.</summary>
    public static readonly IReadOnlyDictionary<string, string> DefaultRoutes = new Dictionary<string, string>
    {
        [".test"] = "file:var/mailbox",
        ["localhost"] = "file:var/mailbox",
    };
}
