using System.Globalization;
using System.Net;
using DnsClient;
using DnsClient.Protocol;
using MailMesh.Delivery.Relay;

namespace MailMesh.Delivery.Mx;

/// <summary>
/// Finds where a domain's mail goes, as RFC 5321 section 5.1 says: its MX hosts in preference
/// order (equal preferences in random order, to spread the load as RFC 5321 5.1 asks), or the
/// domain itself when it has no MX; then each host's IPv4 and IPv6 addresses. RFC 7505's null MX
/// means the domain takes no mail at all.
/// </summary>
internal sealed class MxResolver(ILookupClient dns, int port, int maxAddresses)
{
    public async Task<MxResolution> ResolveAsync(string domain, CancellationToken cancellationToken)
    {
        if (!TryAsciiName(domain, out var name))
        {
            return MxResolution.Failed($"553 5.1.2 {domain} is not a domain name that DNS can look up");
        }

        var answer = await QueryAsync(name, QueryType.MX, cancellationToken).ConfigureAwait(false);
        if (answer.Error is { } error)
        {
            return MxResolution.Failed(error);
        }

        var exchanges = answer.Response!.Answers.MxRecords().ToList();
        List<(string Host, bool Implicit)> hosts;
        if (exchanges.Count == 0)
        {
            // RFC 5321 5.1: no MX at all means the domain is its own mail exchanger.
            hosts = [(name, true)];
        }
        else if (exchanges.All(IsNullMx))
        {
            return MxResolution.Failed($"556 5.1.10 {name} accepts no mail: it publishes a null MX (RFC 7505)");
        }
        else
        {
            hosts = [.. Order(exchanges.Where(record => !IsNullMx(record)))
                .Select(record => (record.Exchange.Value.TrimEnd('.'), false))];
        }

        var endpoints = new List<SmtpEndpoint>();
        var temporary = new List<string>();
        foreach (var (host, _) in hosts)
        {
            foreach (var type in (QueryType[])[QueryType.A, QueryType.AAAA])
            {
                var addresses = await QueryAsync(host, type, cancellationToken).ConfigureAwait(false);
                if (addresses.Temporary)
                {
                    temporary.Add(addresses.Error!);
                    continue;
                }

                foreach (var address in Addresses(addresses.Response, type))
                {
                    endpoints.Add(new SmtpEndpoint(host, address, port));
                }
            }

            if (endpoints.Count >= maxAddresses)
            {
                // As Postfix's smtp_mx_address_limit: beyond a few, more hosts only lengthen an
                // attempt that is going to be deferred anyway.
                return MxResolution.Found([.. endpoints.Take(maxAddresses)]);
            }
        }

        if (endpoints.Count > 0)
        {
            return MxResolution.Found(endpoints);
        }

        if (temporary.Count > 0)
        {
            return MxResolution.Failed(temporary[0]);
        }

        return MxResolution.Failed(hosts is [{ Implicit: true }]
            ? $"550 5.1.2 {name} has neither an MX nor an address record"
            : $"550 5.4.4 no mail exchanger of {name} has an address record");
    }

    private async Task<Answer> QueryAsync(string name, QueryType type, CancellationToken cancellationToken)
    {
        IDnsQueryResponse response;
        using var activity = DeliveryTelemetry.StartLookup(name, type.ToString());
        try
        {
            response = await dns.QueryAsync(name, type, QueryClass.IN, cancellationToken).ConfigureAwait(false);
            activity?.SetTag("dns.response_code", response.Header.ResponseCode.ToString());
        }
        catch (DnsResponseException e)
        {
            activity?.SetStatus(System.Diagnostics.ActivityStatusCode.Error, e.Message);
            // Time-outs and unreachable servers: RFC 5321 5.1 wants a temporary failure then.
            return new Answer(null, $"451 4.4.3 {type} lookup for {name} failed: {Sentence(e.Message)}", true);
        }

        return response.Header.ResponseCode switch
        {
            DnsHeaderResponseCode.NoError => new Answer(response, null, false),
            DnsHeaderResponseCode.NotExistentDomain => type == QueryType.MX
                ? new Answer(response, $"550 5.1.2 domain {name} does not exist (NXDOMAIN)", false)
                // A host that does not exist has no address: the next host is tried.
                : new Answer(response, null, false),
            var code => new Answer(null, $"451 4.4.3 {type} lookup for {name} failed: {code}", true),
        };
    }

    private static IEnumerable<IPAddress> Addresses(IDnsQueryResponse? response, QueryType type)
    {
        if (response is null || response.Header.ResponseCode != DnsHeaderResponseCode.NoError)
        {
            return [];
        }

        // A CNAME chain comes back in the same answer; only the addresses matter here.
        return type == QueryType.A
            ? response.Answers.ARecords().Select(record => record.Address)
            : response.Answers.AaaaRecords().Select(record => record.Address);
    }

    private static IEnumerable<MxRecord> Order(IEnumerable<MxRecord> records) =>
        records.GroupBy(record => record.Preference)
            .OrderBy(group => group.Key)
            .SelectMany(group =>
            {
                var same = group.ToArray();
                Random.Shared.Shuffle(same);
                return same;
            });

    // RFC 7505 3: a single MX of preference 0 whose exchange is the root, ".".
    private static bool IsNullMx(MxRecord record) => record.Exchange.Value is "." or "";

    private static bool TryAsciiName(string domain, out string name)
    {
        name = domain.TrimEnd('.');
        if (name.Length == 0 || name.StartsWith('['))
        {
            // Address literals are refused by the ingress; nothing here connects to one.
            return false;
        }

        try
        {
            // RFC 5890: an internationalised domain is looked up as its A-labels.
            name = new IdnMapping().GetAscii(name).ToLowerInvariant();
            return true;
        }
        catch (ArgumentException)
        {
            return false;
        }
    }

    private static string Sentence(string text) => text.ReplaceLineEndings(" ").TrimEnd('.');

    private sealed record Answer(IDnsQueryResponse? Response, string? Error, bool Temporary);
}
