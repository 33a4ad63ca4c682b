using System.Net;

namespace MailMesh.Delivery.Routing;

/// <summary>Reads a route target: <c>mx</c>, <c>smtp://...</c>, <c>smtps://...</c> or <c>file:...</c>.</summary>
internal static class RouteParser
{
    /// <summary>
    /// Parses <paramref name="target"/>; a relative <c>file:</c> path is taken from
    /// <paramref name="baseDirectory"/>. Throws <see cref="FormatException"/> with a message
    /// fit for an operator, never quoting a password.
    /// </summary>
    public static Route Parse(string target, string baseDirectory)
    {
        var text = target.Trim();
        if (text.Equals("mx", StringComparison.OrdinalIgnoreCase))
        {
            return MxRoute.Instance;
        }

        if (text.StartsWith("file:", StringComparison.OrdinalIgnoreCase))
        {
            return ParseMaildir(text["file:".Length..], baseDirectory);
        }

        if (text.StartsWith("smtp://", StringComparison.OrdinalIgnoreCase)
            || text.StartsWith("smtps://", StringComparison.OrdinalIgnoreCase))
        {
            return ParseSmarthost(text);
        }

        throw new FormatException("a route is mx, smtp://host[:port], smtps://host[:port] or file:directory");
    }

    private static MaildirRoute ParseMaildir(string path, string baseDirectory)
    {
        // file:///abs/dir has an empty authority; file:/abs/dir and file:relative/dir have none.
        if (path.StartsWith("//", StringComparison.Ordinal))
        {
            path = path[2..];
            if (!path.StartsWith('/'))
            {
                throw new FormatException("a file route names a local directory: file:///dir or file:dir");
            }
        }

        path = Uri.UnescapeDataString(path);
        if (path.Length == 0 || path.Contains('\0', StringComparison.Ordinal))
        {
            throw new FormatException("a file route needs a directory: file:///dir or file:dir");
        }

        return new MaildirRoute(Path.TrimEndingDirectorySeparator(Path.GetFullPath(path, baseDirectory)));
    }

    private static SmarthostRoute ParseSmarthost(string text)
    {
        if (!Uri.TryCreate(text, UriKind.Absolute, out var uri) || uri.HostNameType == UriHostNameType.Unknown
            || uri.Host.Length == 0)
        {
            throw new FormatException("a smarthost route is smtp://[user:password@]host[:port][?tls=require|none]");
        }

        if (uri.AbsolutePath is not ("" or "/") || uri.Fragment.Length > 0)
        {
            throw new FormatException("a smarthost route has no path: smtp://host[:port]");
        }

        var implicitTls = uri.Scheme.Equals("smtps", StringComparison.OrdinalIgnoreCase);
        var security = implicitTls ? SmarthostSecurity.Implicit : SmarthostSecurity.Opportunistic;
        var query = uri.Query.TrimStart('?');
        if (query.Length > 0)
        {
            var (name, value) = query.Split('=', 2) is [var n, var v] ? (n, v) : (query, "");
            if (!name.Equals("tls", StringComparison.OrdinalIgnoreCase) || implicitTls)
            {
                throw new FormatException("the only option of a route is ?tls=require|none, on smtp:// only");
            }

            security = value.ToLowerInvariant() switch
            {
                "require" => SmarthostSecurity.Required,
                "none" => SmarthostSecurity.None,
                _ => throw new FormatException("tls is require or none"),
            };
        }

        NetworkCredential? credentials = null;
        if (uri.UserInfo.Length > 0)
        {
            var parts = uri.UserInfo.Split(':', 2);
            credentials = new NetworkCredential(
                Uri.UnescapeDataString(parts[0]),
                parts.Length > 1 ? Uri.UnescapeDataString(parts[1]) : "");
        }

        // RFC 8314 3.3: submission over implicit TLS is port 465; relay is port 25.
        var port = uri.Port > 0 ? uri.Port : implicitTls ? 465 : 25;
        return new SmarthostRoute(uri.DnsSafeHost, port, security, credentials);
    }
}
