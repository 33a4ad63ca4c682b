using System.Text;
using MailMesh.Ingress.Protocol;

namespace MailMesh.Ingress.Tests;

public class CommandTableTests
{
    [Theory]
    [InlineData("EHLO x", "Ehlo")]
    [InlineData("ehlo x", "Ehlo")]
    [InlineData("HeLo x", "Helo")]
    [InlineData("MAIL FROM:<>", "Mail")]
    [InlineData("rcpt TO:<a@b>", "Rcpt")]
    [InlineData("DATA", "Data")]
    [InlineData("RSET", "Rset")]
    [InlineData("NOOP", "Noop")]
    [InlineData("QUIT", "Quit")]
    [InlineData("VRFY x", "Vrfy")]
    [InlineData("HELP", "Help")]
    [InlineData("EXPN list", "NotImplemented")]
    [InlineData("STARTTLS", "StartTls")]
    [InlineData("BDAT 10 LAST", "Bdat")]
    [InlineData("AUTH PLAIN", "Auth")]
    [InlineData("MAILX", "Unknown")]
    [InlineData("", "Unknown")]
    [InlineData("GET / HTTP/1.1", "Unknown")]
    [InlineData("M@IL FROM:<>", "Unknown")]
    public void ParseVerb_Line_GivesVerb(string line, string verb)
    {
        Assert.Equal(Enum.Parse<SmtpVerb>(verb), CommandTable.ParseVerb(Encoding.ASCII.GetBytes(line), out _));
    }

    [Theory]
    [InlineData("Mail", "Connected", 503)]
    [InlineData("Mail", "Mail", 503)]
    [InlineData("Mail", "Recipients", 503)]
    [InlineData("Rcpt", "Ready", 503)]
    [InlineData("Data", "Ready", 503)]
    [InlineData("Data", "Mail", 503)]
    [InlineData("Mail", "Ready", null)]
    [InlineData("Rcpt", "Mail", null)]
    [InlineData("Rcpt", "Recipients", null)]
    [InlineData("Data", "Recipients", null)]
    [InlineData("Rset", "Connected", null)]
    [InlineData("Ehlo", "Recipients", null)]
    public void Check_VerbInState_AllowsOrRefuses(string verb, string state, int? code)
    {
        var reply = CommandTable.Check(Enum.Parse<SmtpVerb>(verb), Enum.Parse<SessionState>(state));
        Assert.Equal(code, reply?.Code);
    }
}
