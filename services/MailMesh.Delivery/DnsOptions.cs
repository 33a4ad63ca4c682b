using System.ComponentModel.DataAnnotations;

namespace MailMesh.Delivery;

/// <summary>The resolver that MX and host address lookups ask, bound from <c>MailMesh:Dns</c>.</summary>
internal sealed class DnsOptions
{
    public const string SectionName = "MailMesh:Dns";

    /// <summary>
    /// Name servers as <c>address</c> or <c>address:port</c> (<c>[::1]:53</c> for IPv6), asked in
    /// order. Default: none, which means the system's resolvers (<c>/etc/resolv.conf</c>).
    /// </summary>
    public List<string> Servers { get; set; } = [];

    /// <summary>How long one DNS query may take before it is tried again. Default 5 seconds.</summary>
    [Range(typeof(TimeSpan), "00:00:00.100", "00:01:00")]
    public TimeSpan Timeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How often a query that timed out is sent again. Default 2.</summary>
    [Range(0, 10)]
    public int Retries { get; set; } = 2;
}
