using MailMesh.Delivery.Routing;

namespace MailMesh.Delivery.Tests;

public sealed class RoutingTests
{
    private static readonly TransportMap Map = new(new Dictionary<string, Route>
    {
        [".example.com"] = new MaildirRoute("/wild"),
        ["example.com"] = new MaildirRoute("/exact"),
        ["a.example.com"] = new MaildirRoute("/a-exact"),
        [".b.example.com"] = new MaildirRoute("/b-wild"),
    }, MxRoute.Instance);

    [Theory]
    [InlineData("example.com", "/exact")]
    [InlineData("EXAMPLE.com.", "/exact")]
    [InlineData("a.example.com", "/a-exact")]
    [InlineData("x.a.example.com", "/wild")]
    [InlineData("b.example.com", "/b-wild")]
    [InlineData("x.y.b.example.com", "/b-wild")]
    [InlineData("c.example.com", "/wild")]
    public void Resolve_MostSpecificEntryWins(string domain, string root)
    {
        Assert.Equal(new MaildirRoute(root), Map.Resolve(domain));
    }

    [Theory]
    [InlineData("example.org")]
    [InlineData("notexample.com")]
    [InlineData("com")]
    public void Resolve_UnmappedDomain_TakesDefault(string domain)
    {
        Assert.Same(MxRoute.Instance, Map.Resolve(domain));
    }

    [Fact]
    public void Parse_SmarthostWithCredentialsAndTls_ReadsEveryPart()
    {
        var route = Assert.IsType<SmarthostRoute>(
            RouteParser.Parse("smtp://relay%40corp:p%3Ass@mail.example.com:2525?tls=require", "/"));

        Assert.Equal("mail.example.com", route.Host);
        Assert.Equal(2525, route.Port);
        Assert.Equal(SmarthostSecurity.Required, route.Security);
        Assert.Equal("relay@corp", route.Credentials!.UserName);
        Assert.Equal("p:ss", route.Credentials.Password);
        Assert.DoesNotContain("p:ss", route.Name, StringComparison.Ordinal);
        Assert.DoesNotContain("p%3Ass", route.Name, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("smtp://relay.example.com", 25, "Opportunistic")]
    [InlineData("smtp://relay.example.com?tls=none", 25, "None")]
    [InlineData("smtps://relay.example.com", 465, "Implicit")]
    [InlineData("smtp://[::1]:26", 26, "Opportunistic")]
    public void Parse_Smarthost_DefaultsPortAndSecurity(string target, int port, string security)
    {
        var route = Assert.IsType<SmarthostRoute>(RouteParser.Parse(target, "/"));

        Assert.Equal(port, route.Port);
        Assert.Equal(Enum.Parse<SmarthostSecurity>(security), route.Security);
    }

    [Theory]
    [InlineData("file:///srv/mail", "/srv/mail")]
    [InlineData("file:/srv/mail/", "/srv/mail")]
    [InlineData("file:var/mailbox", "/opt/mailmesh/var/mailbox")]
    public void Parse_File_GivesAbsoluteRoot(string target, string root)
    {
        Assert.Equal(new MaildirRoute(root), RouteParser.Parse(target, "/opt/mailmesh"));
    }

    [Theory]
    [InlineData("lmtp://host")]
    [InlineData("smtp://")]
    [InlineData("smtp://host/path")]
    [InlineData("smtp://host?tls=maybe")]
    [InlineData("smtps://host?tls=none")]
    [InlineData("file://host/dir")]
    [InlineData("file:")]
    public void Parse_Malformed_Throws(string target)
    {
        Assert.Throws<FormatException>(() => RouteParser.Parse(target, "/"));
    }
}
