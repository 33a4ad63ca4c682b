namespace MailMesh.Delivery.Routing;

/// <summary>
/// Maps a recipient domain to its route. An entry <c>example.com</c> matches that domain
/// only; <c>.example.com</c> matches it and every subdomain. The most specific entry wins: the
/// exact domain, then the closest parent; the default route takes the rest.
/// </summary>
internal sealed class TransportMap(IReadOnlyDictionary<string, Route> routes, Route defaultRoute)
{
    public Route Default => defaultRoute;

    public Route Resolve(string domain)
    {
        var name = domain.TrimEnd('.').ToLowerInvariant();
        if (routes.TryGetValue(name, out var exact))
        {
            return exact;
        }

        for (var parent = name; parent.Length > 0;)
        {
            if (routes.TryGetValue("." + parent, out var wildcard))
            {
                return wildcard;
            }

            var dot = parent.IndexOf('.', StringComparison.Ordinal);
            parent = dot < 0 ? "" : parent[(dot + 1)..];
        }

        return defaultRoute;
    }

    /// <summary>The domain of an address: what follows its last <c>@</c>.</summary>
    public static string DomainOf(string address)
    {
        var at = address.LastIndexOf('@');
        return at < 0 ? "" : address[(at + 1)..];
    }
}
