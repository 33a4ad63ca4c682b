namespace MailMesh.Ingress;

/// <summary>A user who may authenticate to the ingress.</summary>
public sealed class SmtpUser
{
    public string Name { get; set; } = "";

    /// <summary>A hash made by <c>MailMesh.Ingress hash-password</c>; never the password itself.</summary>
    public string PasswordHash { get; set; } = "";
}
