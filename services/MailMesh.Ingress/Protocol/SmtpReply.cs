namespace MailMesh.Ingress.Protocol;

/// <summary>
/// One SMTP reply: the basic code, the RFC 3463 enhanced status code where one applies, and
/// its text lines. Written as "250-line" for every line but the last.
/// </summary>
internal readonly record struct SmtpReply(int Code, string? Status, string Text)
{
    public bool IsError => Code >= 400;

    public static SmtpReply Ok(string text = "Ok") => new(250, "2.0.0", text);

    public override string ToString() => Status is null ? $"{Code} {Text}" : $"{Code} {Status} {Text}";
}
