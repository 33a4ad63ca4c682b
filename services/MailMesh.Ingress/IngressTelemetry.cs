using System.Diagnostics;
using System.Diagnostics.Metrics;

namespace MailMesh.Ingress;

/// <summary>The ingress's spans and instruments (README, "Observability", lists them).</summary>
internal static class IngressTelemetry
{
    public const string Name = "MailMesh.Ingress";

    public static readonly ActivitySource Source = new(Name);

    private static readonly Meter Meter = new(Name);

    public static readonly Counter<long> Sessions = Meter.CreateCounter<long>(
        "mailmesh.ingress.sessions", "{session}", "SMTP connections accepted");

    public static readonly UpDownCounter<long> ActiveSessions = Meter.CreateUpDownCounter<long>(
        "mailmesh.ingress.sessions.active", "{session}", "SMTP sessions open now");

    public static readonly Counter<long> Refusals = Meter.CreateCounter<long>(
        "mailmesh.ingress.refusals", "{reply}",
        "Commands and messages refused with a 4xx or 5xx reply, by reply code and enhanced status");

    public static readonly Counter<long> MessagesAccepted = Meter.CreateCounter<long>(
        "mailmesh.ingress.messages", "{message}", "Messages accepted (250 after the broker's confirm)");

    public static readonly Counter<long> BytesAccepted = Meter.CreateCounter<long>(
        "mailmesh.ingress.bytes", "By", "Octets of accepted messages, as spooled");

    public static readonly Counter<long> RecipientsAccepted = Meter.CreateCounter<long>(
        "mailmesh.ingress.recipients", "{recipient}", "Recipients of accepted messages");

    /// <summary>Counts one refusal; the reason is the reply's code and enhanced status.</summary>
    public static void CountRefusal(int code, string? status) =>
        Refusals.Add(1,
            new KeyValuePair<string, object?>("smtp.reply.code", code),
            new KeyValuePair<string, object?>("smtp.reply.status", status ?? "none"));
}
