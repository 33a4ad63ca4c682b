using System.Net;
using MailMesh.Delivery.Mx;
using MailMesh.Delivery.Tests.Support;

namespace MailMesh.Delivery.Tests;

/// <summary>MX resolution against a real DNS server (dnsmasq) on loopback.</summary>
public sealed class MxResolverTests
{
    private static MxResolver Resolver(string server, int maxAddresses = 5) => new(
        DnsOptionsValidator.NewLookupClient(new DnsOptions
        {
            Servers = [server],
            Timeout = TimeSpan.FromMilliseconds(500),
            Retries = 0,
        }),
        2525,
        maxAddresses);

    [Fact]
    public async Task Resolve_TwoMxHosts_AddressesInPreferenceOrder()
    {
        await using var dns = await DnsServer.StartAsync(
            "mx-host=pref.example,mx2.pref.example,20",
            "mx-host=pref.example,mx1.pref.example,10",
            "host-record=mx1.pref.example,127.0.0.11",
            "host-record=mx2.pref.example,127.0.0.12");

        var resolution = await Resolver(dns.Endpoint).ResolveAsync("Pref.Example.", CancellationToken.None);

        Assert.Null(resolution.FailureReply);
        Assert.Equal(["mx1.pref.example[127.0.0.11]:2525", "mx2.pref.example[127.0.0.12]:2525"],
            resolution.Endpoints.Select(endpoint => endpoint.Label));
    }

    [Fact]
    public async Task Resolve_EqualPreferences_BothOrdersOccur()
    {
        await using var dns = await DnsServer.StartAsync(
            "mx-host=equal.example,a.equal.example,10",
            "mx-host=equal.example,b.equal.example,10",
            "mx-host=equal.example,c.equal.example,30",
            "host-record=a.equal.example,127.0.0.21",
            "host-record=b.equal.example,127.0.0.22",
            "host-record=c.equal.example,127.0.0.23");
        var resolver = Resolver(dns.Endpoint);

        var firsts = new HashSet<string>();
        for (var i = 0; i < 40 && firsts.Count < 2; i++)
        {
            var resolution = await resolver.ResolveAsync("equal.example", CancellationToken.None);
            firsts.Add(resolution.Endpoints[0].Host);
            // The less preferred host always comes last, whatever the shuffle did.
            Assert.Equal("c.equal.example", resolution.Endpoints[^1].Host);
        }

        Assert.Equal(["a.equal.example", "b.equal.example"], firsts.Order());
    }

    [Fact]
    public async Task Resolve_NoMx_TheDomainsOwnAddressesIPv4First()
    {
        await using var dns = await DnsServer.StartAsync("host-record=plain.example,127.0.0.13,::1");

        var resolution = await Resolver(dns.Endpoint).ResolveAsync("plain.example", CancellationToken.None);

        Assert.Equal(
            [
                new("plain.example", IPAddress.Parse("127.0.0.13"), 2525),
                new("plain.example", IPAddress.IPv6Loopback, 2525),
            ],
            resolution.Endpoints);
    }

    [Fact]
    public async Task Resolve_MoreAddressesThanTheLimit_KeepsTheMostPreferred()
    {
        await using var dns = await DnsServer.StartAsync(
            "mx-host=many.example,mx1.many.example,10",
            "mx-host=many.example,mx2.many.example,20",
            "host-record=mx1.many.example,127.0.0.31",
            "host-record=mx1.many.example,127.0.0.32",
            "host-record=mx2.many.example,127.0.0.33");

        var resolution = await Resolver(dns.Endpoint, maxAddresses: 2)
            .ResolveAsync("many.example", CancellationToken.None);

        Assert.Equal(["mx1.many.example", "mx1.many.example"],
            resolution.Endpoints.Select(endpoint => endpoint.Host));
    }

    [Theory]
    [InlineData("mx-host=nomail.example,.,0", "nomail.example",
        "556 5.1.10 nomail.example accepts no mail")]
    [InlineData("host-record=other.example,127.0.0.1", "missing.example",
        "550 5.1.2 domain missing.example does not exist")]
    [InlineData("mx-host=lost.example,mx.gone.example,10", "lost.example",
        "550 5.4.4 no mail exchanger of lost.example")]
    public async Task Resolve_NowhereToDeliver_PermanentReply(string record, string domain, string reply)
    {
        await using var dns = await DnsServer.StartAsync(record);

        var resolution = await Resolver(dns.Endpoint).ResolveAsync(domain, CancellationToken.None);

        Assert.Empty(resolution.Endpoints);
        Assert.StartsWith(reply, resolution.FailureReply, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Resolve_DnsServerNotAnswering_TemporaryReply()
    {
        var resolution = await Resolver("127.0.0.1:" + FreePort.Next())
            .ResolveAsync("anything.example", CancellationToken.None);

        Assert.Empty(resolution.Endpoints);
        Assert.StartsWith("451 4.4.3 MX lookup for anything.example failed", resolution.FailureReply,
            StringComparison.Ordinal);
    }
}
