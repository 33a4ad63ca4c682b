namespace MailMesh.Delivery.Events;

/// <summary>
/// The parts of an <c>amqp://user:pass@host:port/vhost</c> URI, read as RabbitMQ's client reads them.
/// </summary>
internal sealed record BrokerAddress(
    string Host,
    ushort Port,
    string VirtualHost,
    string User,
    string Password,
    bool Tls)
{
    public static BrokerAddress From(Uri uri)
    {
        var tls = uri.Scheme.Equals("amqps", StringComparison.OrdinalIgnoreCase);
        var port = uri.Port > 0 ? (ushort)uri.Port : (ushort)(tls ? 5671 : 5672);
        var user = "guest";
        var password = "guest";
        if (uri.UserInfo.Length > 0)
        {
            var colon = uri.UserInfo.IndexOf(':', StringComparison.Ordinal);
            user = Uri.UnescapeDataString(colon < 0 ? uri.UserInfo : uri.UserInfo[..colon]);
            password = colon < 0 ? "" : Uri.UnescapeDataString(uri.UserInfo[(colon + 1)..]);
        }

        // An empty path or "/" is the default virtual host "/"; "/%2F" spells it too.
        var path = uri.AbsolutePath.TrimStart('/');
        var virtualHost = path.Length == 0 ? "/" : Uri.UnescapeDataString(path);
        return new BrokerAddress(uri.Host.Trim('[', ']'), port, virtualHost, user, password, tls);
    }
}
