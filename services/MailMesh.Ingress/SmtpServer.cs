using MailMesh.Hosting;
using MailMesh.Ingress.Policy;
using MailMesh.Ingress.Security;
using MailMesh.Ingress.Spooling;
using MailMesh.Spool;
using Microsoft.Extensions.Options;

namespace MailMesh.Ingress;

/// <summary>
/// The ingress's listeners: the relay listener always, the submission listener when its port
/// is set. They share the relay rules, the users, the memory budget and the spool.
/// </summary>
internal sealed partial class SmtpServer : BackgroundService
{
    private readonly IngressOptions _options;
    private readonly TlsCertificateSource? _certificates;
    private readonly ILogger<SmtpServer> _logger;

    public SmtpServer(
        IOptions<IngressOptions> options,
        IOptions<MailMeshOptions> mailMesh,
        RelayPolicy relay,
        IMessageSpool spool,
        QueueIdGenerator queueIds,
        TimeProvider time,
        ILoggerFactory loggers)
    {
        _options = options.Value;
        _logger = loggers.CreateLogger<SmtpServer>();
        _certificates = _options.StartTls
            ? new TlsCertificateSource(_options, mailMesh.Value.Hostname, time)
            : null;
        var users = new UserDirectory(_options.Users);
        var failures = new AuthFailureTracker(_options.AuthFailureLimit, _options.AuthFailureWindow, time);
        var listenerLog = loggers.CreateLogger<SmtpListener>();
        SmtpListener Listener(string name, int port, bool requireAuth) => new(name, port, requireAuth,
            _options, mailMesh, relay, spool, queueIds, _certificates, users, failures, time, listenerLog);

        Relay = Listener("relay", _options.Port, requireAuth: false);
        Submission = _options.SubmissionPort is { } submissionPort
            ? Listener("submission", submissionPort, requireAuth: true)
            : null;
    }

    public SmtpListener Relay { get; }

    public SmtpListener? Submission { get; }

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        if (_certificates is { IsSelfSigned: true })
        {
            LogSelfSigned(_logger);
        }

        var budget = new BufferBudget(_options.MaxBufferedBytes);
        var listeners = new List<Task> { Relay.RunAsync(budget, stoppingToken) };
        if (Submission is not null)
        {
            listeners.Add(Submission.RunAsync(budget, stoppingToken));
        }

        return Task.WhenAll(listeners);
    }

    [LoggerMessage(EventId = 405, Level = LogLevel.Warning,
        Message = "STARTTLS uses a self-signed certificate made at start; set MailMesh:Ingress:CertificateFile")]
    private static partial void LogSelfSigned(ILogger logger);
}
