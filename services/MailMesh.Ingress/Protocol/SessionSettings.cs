using MailMesh.Ingress.Policy;
using MailMesh.Ingress.Security;
using MailMesh.Ingress.Spooling;
using MailMesh.Spool;
using Microsoft.Extensions.Logging;

namespace MailMesh.Ingress.Protocol;

/// <summary>What every session of one listener shares.</summary>
internal sealed record SessionSettings(
    IngressOptions Options,
    string Hostname,
    RelayPolicy Relay,
    IMessageSpool Spool,
    BufferBudget Budget,
    QueueIdGenerator QueueIds,
    TimeProvider Time,
    ILogger Logger,
    TlsCertificateSource? Certificates,
    UserDirectory Users,
    AuthFailureTracker AuthFailures,
    bool RequireAuth);
