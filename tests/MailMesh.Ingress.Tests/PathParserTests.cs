using System.Text;
using MailMesh.Ingress.Protocol;

namespace MailMesh.Ingress.Tests;

public class PathParserTests
{
    private static PathError Parse(string path, out Mailbox? mailbox) =>
        PathParser.Parse(Encoding.Latin1.GetBytes(path), out mailbox, out _);

    [Theory]
    [InlineData("<user@example.test>", "user", "example.test")]
    [InlineData("<First.Last+tag@Sub.Example.TEST>", "First.Last+tag", "sub.example.test")]
    [InlineData("<\"john doe\"@example.test>", "\"john doe\"", "example.test")]
    [InlineData("<\"a\\\"b\"@example.test>", "\"a\\\"b\"", "example.test")]
    [InlineData("<user@[127.0.0.1]>", "user", "[127.0.0.1]")]
    [InlineData("<user@[IPv6:::1]>", "user", "[ipv6:::1]")]
    [InlineData("<@relay.test,@other.test:user@example.test>", "user", "example.test")]
    [InlineData("<a-b@x-1.example.test>", "a-b", "x-1.example.test")]
    public void Parse_ValidPath_GivesMailbox(string path, string local, string domain)
    {
        Assert.Equal(PathError.None, Parse(path, out var mailbox));
        Assert.Equal(local, mailbox!.LocalPart);
        Assert.Equal(domain, mailbox.Domain);
    }

    [Theory]
    [InlineData("user@example.test")]
    [InlineData("<user@example.test")]
    [InlineData("<user>")]
    [InlineData("<@example.test>")]
    [InlineData("<user@example.test.>")]
    [InlineData("<user@.example.test>")]
    [InlineData("<user@exa mple.test>")]
    [InlineData("<user@-example.test>")]
    [InlineData("<user@example-.test>")]
    [InlineData("<us..er@example.test>")]
    [InlineData("<.user@example.test>")]
    [InlineData("<user.@example.test>")]
    [InlineData("<user@@example.test>")]
    [InlineData("<user@example.test@other.test>")]
    [InlineData("<us(er@example.test>")]
    [InlineData("<\"unterminated@example.test>")]
    [InlineData("<user@[300.0.0.1]>")]
    [InlineData("<user@[1.2.3]>")]
    [InlineData("<user@[IPv6:nonsense]>")]
    [InlineData("<@relay.test:>")]
    [InlineData("<@relay.test.:user@example.test>")]
    [InlineData("<relay.test:user@example.test>")]
    public void Parse_MalformedPath_IsSyntaxError(string path)
    {
        Assert.Equal(PathError.Syntax, Parse(path, out _));
    }

    [Fact]
    public void Parse_NullPath_GivesNoMailbox()
    {
        Assert.Equal(PathError.None, Parse("<>", out var mailbox));
        Assert.Null(mailbox);
    }

    [Theory]
    [InlineData("<Postmaster>")]
    [InlineData("<postmaster>")]
    [InlineData("<POSTMASTER>")]
    public void Parse_BarePostmaster_GivesMailboxWithoutDomain(string path)
    {
        Assert.Equal(PathError.None, Parse(path, out var mailbox));
        Assert.Equal("", mailbox!.Domain);
    }

    [Theory]
    [InlineData("<jös@example.test>", "jös", "example.test", "example.test")]
    [InlineData("<user@exämple.test>", "user", "exämple.test", "xn--exmple-cua.test")]
    [InlineData("<用户@例子.test>", "用户", "例子.test", "xn--fsqu00a.test")]
    [InlineData("<\"jö s\"@example.test>", "\"jö s\"", "example.test", "example.test")]
    public void Parse_Utf8Address_IsParsedAndMarked(string path, string local, string domain, string ascii)
    {
        Assert.Equal(PathError.None, PathParser.Parse(Encoding.UTF8.GetBytes(path), out var mailbox, out _));
        Assert.False(mailbox!.IsAscii);
        Assert.Equal(local, mailbox.LocalPart);
        Assert.Equal(domain, mailbox.Domain);
        Assert.Equal(ascii, mailbox.AsciiDomain);
    }

    [Theory]
    [InlineData(new byte[] { (byte)'<', 0xC3, (byte)'@', (byte)'x', (byte)'.', (byte)'t', (byte)'>' })]
    [InlineData(new byte[] { (byte)'<', (byte)'a', (byte)'@', 0xFF, (byte)'.', (byte)'t', (byte)'>' })]
    public void Parse_InvalidUtf8_IsSyntaxError(byte[] path)
    {
        Assert.Equal(PathError.Syntax, PathParser.Parse(path, out _, out _));
    }

    [Fact]
    public void Parse_PathOver256Octets_IsTooLong()
    {
        var path = "<" + new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 60), 4)) + ">";
        Assert.True(path.Length > 256);
        Assert.Equal(PathError.TooLong, Parse(path, out _));
    }

    [Fact]
    public void Parse_Consumed_StopsAtClosingBracket()
    {
        var bytes = "<a@b.test> SIZE=10"u8.ToArray();
        Assert.Equal(PathError.None, PathParser.Parse(bytes, out _, out var consumed));
        Assert.Equal(10, consumed);
    }

    [Theory]
    [InlineData("<user%other.example@example.test>", true)]
    [InlineData("<host!user@example.test>", true)]
    [InlineData("<\"user@other.example\"@example.test>", true)]
    [InlineData("<user@example.test>", false)]
    [InlineData("<\"john doe\"@example.test>", false)]
    public void Mailbox_RoutingInLocalPart_IsDetected(string path, bool routed)
    {
        Assert.Equal(PathError.None, Parse(path, out var mailbox));
        Assert.Equal(routed, mailbox!.HasRoutingInLocalPart);
    }
}
