using System.Globalization;
using System.Net;
using DnsClient;
using Microsoft.Extensions.Options;

namespace MailMesh.Delivery;

/// <summary>Stops the service at start when a configured name server cannot be used, naming it.</summary>
internal sealed class DnsOptionsValidator : IValidateOptions<DnsOptions>
{
    private const string Expected = "give an IP address, optionally with a port: 127.0.0.1:5353, [::1]:53";

    public ValidateOptionsResult Validate(string? name, DnsOptions options)
    {
        var errors = options.Servers
            .Select((server, index) => (server, index))
            .Where(entry => !TryParse(entry.server, out _))
            .Select(entry => string.Create(CultureInfo.InvariantCulture,
                $"MailMesh:Dns:Servers:{entry.index} is '{entry.server}'; {Expected}"))
            .ToList();
        return errors.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(errors);
    }

    /// <summary>The resolver of <paramref name="options"/>: its servers, else the system's.</summary>
    public static LookupClient NewLookupClient(DnsOptions options)
    {
        var servers = options.Servers
            .Select(server => TryParse(server, out var endpoint) ? endpoint : null)
            .OfType<IPEndPoint>()
            .ToArray();
        var settings = servers.Length > 0 ? new LookupClientOptions(servers) : new LookupClientOptions();
        settings.Timeout = options.Timeout;
        settings.Retries = options.Retries;
        settings.UseCache = true;
        // Errors (NXDOMAIN, SERVFAIL) come back as answers to be read, not as exceptions; only
        // a server that does not answer throws.
        settings.ThrowDnsErrors = false;
        settings.ContinueOnDnsError = true;
        settings.UseTcpFallback = true;
        return new LookupClient(settings);
    }

    private static bool TryParse(string server, out IPEndPoint endpoint)
    {
        if (IPAddress.TryParse(server, out var address))
        {
            endpoint = new IPEndPoint(address, 53);
            return true;
        }

        return IPEndPoint.TryParse(server, out endpoint!) && endpoint.Port != 0;
    }
}
