using System.ComponentModel.DataAnnotations;

namespace MailMesh.Spool;

/// <summary>The spool's queues and their limits, bound from <c>MailMesh:Spool</c>.</summary>
public sealed class SpoolOptions
{
    public const string SectionName = "MailMesh:Spool";

    /// <summary>Prefix of every queue name; default <c>mailmesh</c> gives <c>mailmesh.spool</c>.</summary>
    [Required, RegularExpression("^[A-Za-z0-9_.-]{1,100}$")]
    public string QueuePrefix { get; set; } = "mailmesh";

    /// <summary>
    /// Messages the spool queue holds before the broker refuses more (the ingress then answers
    /// 452 4.3.1). Default 1,000,000.
    /// </summary>
    // Limitation: a quorum queue starts refusing only once a publish has taken it past the
    // limit, so the spool may hold one message more than this before the first 452.
    [Range(1, int.MaxValue)]
    public int MaxLength { get; set; } = 1_000_000;

    /// <summary>
    /// Deliveries of one spool message after which the broker moves it to the poison queue
    /// instead of handing it out again: a message that crashes every worker must not loop.
    /// Default 20.
    /// </summary>
    [Range(1, 1000)]
    public int DeliveryLimit { get; set; } = 20;

    /// <summary>Recipients carried by one spool message at most; more are split. Default 50.</summary>
    [Range(1, 1000)]
    public int RecipientsPerMessage { get; set; } = 50;
}
