using System.ComponentModel.DataAnnotations;

namespace MailMesh.Hosting;

/// <summary>Settings every MailMesh service shares, bound from <c>MailMesh</c>.</summary>
public sealed class MailMeshOptions
{
    public const string SectionName = "MailMesh";

    private const string Label = "[A-Za-z0-9]([A-Za-z0-9-]*[A-Za-z0-9])?";

    /// <summary>
    /// This MTA's name: in the SMTP greeting, the Received header and bounces. Default: the
    /// machine's host name.
    /// </summary>
    [Required]
    [RegularExpression("^" + Label + @"(\." + Label + ")*$",
        ErrorMessage = "MailMesh:Hostname must be a domain name such as mx.example.com.")]
    public string Hostname { get; set; } = System.Net.Dns.GetHostName();
}
