using System.Text;
using Rule = (
    MailMesh.Ingress.Protocol.SessionState Allowed,
    System.Func<MailMesh.Ingress.Protocol.SessionState, MailMesh.Ingress.Protocol.SmtpReply> Refusal);

namespace MailMesh.Ingress.Protocol;

/// <summary>
/// The command sequence of RFC 5321 section 4.1.4 as a table: for each verb, the states in
/// which it is allowed and the 503 a client gets for sending it out of order.
/// </summary>
internal static class CommandTable
{
    private static readonly Dictionary<SmtpVerb, Rule> Rules = new()
        {
            [SmtpVerb.Helo] = (SessionState.Any, _ => default),
            [SmtpVerb.Ehlo] = (SessionState.Any, _ => default),
            [SmtpVerb.Mail] = (SessionState.Ready, state => state == SessionState.Connected
                ? new SmtpReply(503, "5.5.1", "Error: send HELO/EHLO first")
                : new SmtpReply(503, "5.5.1", "Error: nested MAIL command")),
            [SmtpVerb.Rcpt] = (SessionState.Mail | SessionState.Recipients, state =>
                state == SessionState.Connected
                    ? new SmtpReply(503, "5.5.1", "Error: send HELO/EHLO first")
                    : new SmtpReply(503, "5.5.1", "Error: need MAIL command")),
            [SmtpVerb.Data] = (SessionState.Recipients, state => state switch
            {
                SessionState.Connected => new SmtpReply(503, "5.5.1", "Error: send HELO/EHLO first"),
                SessionState.Ready => new SmtpReply(503, "5.5.1", "Error: need MAIL command"),
                _ => new SmtpReply(503, "5.5.1", "Error: need RCPT command"),
            }),
            [SmtpVerb.Bdat] = (SessionState.Recipients, state => state switch
            {
                SessionState.Connected => new SmtpReply(503, "5.5.1", "Error: send HELO/EHLO first"),
                SessionState.Ready => new SmtpReply(503, "5.5.1", "Error: need MAIL command"),
                _ => new SmtpReply(503, "5.5.1", "Error: need RCPT command"),
            }),
            [SmtpVerb.StartTls] = (SessionState.Ready, OutsideTransaction),
            [SmtpVerb.Auth] = (SessionState.Ready, OutsideTransaction),
            [SmtpVerb.Rset] = (SessionState.Any, _ => default),
            [SmtpVerb.Noop] = (SessionState.Any, _ => default),
            [SmtpVerb.Quit] = (SessionState.Any, _ => default),
            [SmtpVerb.Vrfy] = (SessionState.Any, _ => default),
            [SmtpVerb.Help] = (SessionState.Any, _ => default),
        };

    private static SmtpReply OutsideTransaction(SessionState state) => state == SessionState.Connected
        ? new SmtpReply(503, "5.5.1", "Error: send EHLO first")
        : new SmtpReply(503, "5.5.1", "Error: not allowed during a mail transaction");

    /// <summary>Null when <paramref name="verb"/> may come in <paramref name="state"/>; else its 503.</summary>
    public static SmtpReply? Check(SmtpVerb verb, SessionState state)
    {
        if (!Rules.TryGetValue(verb, out var rule) || (rule.Allowed & state) != 0)
        {
            return null;
        }

        return rule.Refusal(state);
    }

    /// <summary>Reads the verb of a command line: its first word, in any case.</summary>
    public static SmtpVerb ParseVerb(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> arguments)
    {
        var space = line.IndexOf((byte)' ');
        var word = space < 0 ? line : line[..space];
        arguments = space < 0 ? [] : line[(space + 1)..];
        if (word.Length != 4)
        {
            return word.Length == 8 && Ascii.EqualsIgnoreCase(word, "STARTTLS"u8)
                ? SmtpVerb.StartTls
                : SmtpVerb.Unknown;
        }

        // Four-letter verbs compared as one case-folded 32-bit number: no string is made.
        var folded = (uint)(word[0] | (word[1] << 8) | (word[2] << 16) | (word[3] << 24)) & 0xDFDFDFDF;
        return folded switch
        {
            0x4F4C4548 => SmtpVerb.Helo,
            0x4F4C4845 => SmtpVerb.Ehlo,
            0x4C49414D => SmtpVerb.Mail,
            0x54504352 => SmtpVerb.Rcpt,
            0x41544144 => SmtpVerb.Data,
            0x54455352 => SmtpVerb.Rset,
            0x504F4F4E => SmtpVerb.Noop,
            0x54495551 => SmtpVerb.Quit,
            0x59465256 => SmtpVerb.Vrfy,
            0x504C4548 => SmtpVerb.Help,
            0x54414442 => SmtpVerb.Bdat,
            0x48545541 => SmtpVerb.Auth,
            0x4E505845 or 0x4E525554 => SmtpVerb.NotImplemented,
            _ => SmtpVerb.Unknown,
        };
    }
}
