using System.ComponentModel.DataAnnotations;

namespace MailMesh.Hosting;

/// <summary>
/// The service's HTTP endpoint for health and metrics, bound from <c>MailMesh:Http</c>. Off unless
/// a port is set, so that several workers started by hand on one machine do not fight over one.
/// </summary>
public sealed class HttpOptions
{
    public const string SectionName = "MailMesh:Http";

    /// <summary>
    /// Port of <c>/health/live</c>, <c>/health/ready</c> and <c>/metrics</c>; unset: none; 0: any
    /// free port, named in the log.
    /// </summary>
    [Range(0, 65535)]
    public int? Port { get; set; }

    /// <summary>Address the endpoint listens on. Default 127.0.0.1.</summary>
    [Required]
    public string Address { get; set; } = "127.0.0.1";
}
