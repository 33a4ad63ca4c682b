using System.Net;

namespace MailMesh.Ingress.Policy;

/// <summary>
/// Decides which clients may relay and for which domains MailMesh takes mail from anyone,
/// as Postfix's mynetworks and relay_domains do.
/// </summary>
internal sealed class RelayPolicy
{
    public static readonly string[] DefaultTrustedNetworks = ["127.0.0.0/8", "::1/128"];
    public static readonly string[] DefaultAcceptedDomains = [".test", "localhost"];

    private readonly IpNetwork[] _trusted;
    private readonly HashSet<string> _exactDomains = new(StringComparer.OrdinalIgnoreCase);
    private readonly List<string> _parentDomains = [];

    public RelayPolicy(IEnumerable<string> trustedNetworks, IEnumerable<string> acceptedDomains)
    {
        _trusted = trustedNetworks
            .Where(network => !string.IsNullOrWhiteSpace(network))
            .Select(IpNetwork.Parse)
            .ToArray();
        foreach (var raw in acceptedDomains)
        {
            var domain = ToAscii(raw.Trim().TrimEnd('.').ToLowerInvariant());
            if (domain.Length == 0 || domain == ".")
            {
                continue;
            }

            if (domain.StartsWith('.'))
            {
                // ".example.com" is the domain and every subdomain.
                _exactDomains.Add(domain[1..]);
                _parentDomains.Add(domain);
            }
            else
            {
                _exactDomains.Add(domain);
            }
        }
    }

    /// <summary>A configured domain in A-label form, as recipients' domains are compared.</summary>
    private static string ToAscii(string domain)
    {
        if (domain.AsSpan().IndexOfAnyExceptInRange((char)0, (char)0x7F) < 0)
        {
            return domain;
        }

        var dot = domain.StartsWith('.') ? "." : "";
        return dot + new System.Globalization.IdnMapping().GetAscii(domain.TrimStart('.'));
    }

    public bool IsTrusted(IPAddress client) => _trusted.Any(network => network.Contains(client));

    /// <summary>True when <paramref name="domain"/> (a domain name, not a literal) is accepted.</summary>
    public bool IsAcceptedDomain(string domain)
    {
        if (_exactDomains.Contains(domain))
        {
            return true;
        }

        foreach (var parent in _parentDomains)
        {
            if (domain.EndsWith(parent, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
