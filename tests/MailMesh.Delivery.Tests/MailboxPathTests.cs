using MailMesh.Delivery.Maildir;

namespace MailMesh.Delivery.Tests;

public sealed class MailboxPathTests
{
    private const string Root = "/var/mail/root";

    [Theory]
    [InlineData("../x@example.test")]
    [InlineData("\"../../etc/passwd\"@example.test")]
    [InlineData("\"a/b\"@example.test")]
    [InlineData("..@example.test")]
    [InlineData(".@example.test")]
    [InlineData(".hidden@example.test")]
    [InlineData("a..b@example.test")]
    [InlineData("\"\"@example.test")]
    [InlineData("x@..")]
    [InlineData("x@../../tmp")]
    [InlineData("\"a\\\\b\"@[127.0.0.1]")]
    public void For_HostileAddress_StaysTwoLevelsBelowRoot(string address)
    {
        var path = MailboxPath.For(Root, address);

        Assert.StartsWith(Root + "/", path, StringComparison.Ordinal);
        var relative = Path.GetRelativePath(Root, path).Split('/');
        Assert.Equal(2, relative.Length);
        Assert.All(relative, segment => Assert.False(segment.StartsWith('.'), segment));
    }

    [Fact]
    public void For_VeryLongLocalPart_GivesShortDistinctNames()
    {
        var first = MailboxPath.For(Root, new string('a', 300) + "1@example.test");
        var second = MailboxPath.For(Root, new string('a', 300) + "2@example.test");

        Assert.NotEqual(first, second);
        Assert.True(Path.GetFileName(first).Length <= 200);
    }

    [Fact]
    public void For_QuotedAndCaseVariants_ShareOneMailbox()
    {
        Assert.Equal(MailboxPath.For(Root, "john@example.test"), MailboxPath.For(Root, "\"John\"@Example.TEST"));
    }

    [Fact]
    public void For_AddressesDifferingInEscapedOctets_GetDistinctMailboxes()
    {
        string[] addresses = ["\"a/b\"@example.test", "a=2fb@example.test", "\"a b\"@example.test", "a_b@example.test"];

        var paths = addresses.Select(address => MailboxPath.For(Root, address)).ToList();

        Assert.Equal(addresses.Length, paths.Distinct().Count());
    }
}
