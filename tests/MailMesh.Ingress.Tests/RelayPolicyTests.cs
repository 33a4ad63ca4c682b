using System.Net;
using MailMesh.Ingress.Policy;

namespace MailMesh.Ingress.Tests;

public class RelayPolicyTests
{
    [Theory]
    [InlineData("example.com", true)]
    [InlineData("EXAMPLE.com", true)]
    [InlineData("sub.example.com", false)]
    [InlineData("other.org", true)]
    [InlineData("deep.sub.other.org", true)]
    [InlineData("notother.org", false)]
    [InlineData("anything.test", true)]
    [InlineData("test", true)]
    [InlineData("example.com.evil.net", false)]
    public void IsAcceptedDomain_ExactAndDotted_Match(string domain, bool accepted)
    {
        var policy = new RelayPolicy([], ["example.com", ".other.org", ".test"]);
        Assert.Equal(accepted, policy.IsAcceptedDomain(domain));
    }

    [Theory]
    [InlineData("127.0.0.1", true)]
    [InlineData("127.9.9.9", true)]
    [InlineData("::1", true)]
    [InlineData("::ffff:127.0.0.1", true)]
    [InlineData("10.1.2.3", false)]
    public void IsTrusted_DefaultLoopback(string address, bool trusted)
    {
        var policy = new RelayPolicy(RelayPolicy.DefaultTrustedNetworks, []);
        Assert.Equal(trusted, policy.IsTrusted(IPAddress.Parse(address)));
    }

    [Theory]
    [InlineData("192.168.1.77", true)]
    [InlineData("192.168.2.1", false)]
    [InlineData("10.0.0.5", true)]
    [InlineData("10.0.0.6", false)]
    [InlineData("2001:db8::1", true)]
    [InlineData("2001:db9::1", false)]
    [InlineData("127.0.0.1", false)]
    public void IsTrusted_ConfiguredNetworks_ReplaceDefault(string address, bool trusted)
    {
        var policy = new RelayPolicy(["192.168.1.0/24", "10.0.0.5", "2001:db8::/32"], []);
        Assert.Equal(trusted, policy.IsTrusted(IPAddress.Parse(address)));
    }

    [Fact]
    public void IsTrusted_EmptyList_TrustsNobody()
    {
        var policy = new RelayPolicy([], []);
        Assert.False(policy.IsTrusted(IPAddress.Loopback));
    }

    [Theory]
    [InlineData("10.0.0.0/33")]
    [InlineData("not-an-address")]
    [InlineData("10.0.0.0/x")]
    public void Constructor_BadNetwork_Throws(string network)
    {
        Assert.Throws<FormatException>(() => new RelayPolicy([network], []));
    }
}
