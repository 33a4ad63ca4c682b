namespace MailMesh.Delivery;

/// <summary>An outcome with what its bounce and its event tell about where it happened.</summary>
/// <param name="Outcome">The recipient's outcome.</param>
/// <param name="Route">The route taken, as an operator writes it: safe to log and to tell the sender.</param>
/// <param name="RemoteHost">
/// The host that answered or was tried; null for a Maildir or when none was known.
/// </param>
internal sealed record RecordedOutcome(RecipientOutcome Outcome, string Route, string? RemoteHost)
{
    /// <summary>
    /// The host within an outcome's <see cref="RecipientOutcome.Remote"/>: a smarthost names its
    /// route (<c>smtp://host:port</c>), an MX delivery its host, a Maildir its directory (no host).
    /// </summary>
    // Limitation: a smarthost outcome names the smarthost even when the connection to it failed,
    // so Remote-MTA may name a host that said nothing.
    public static string? HostOf(string? remote)
    {
        if (string.IsNullOrEmpty(remote) || remote == "mx" || Path.IsPathRooted(remote))
        {
            return null;
        }

        if (Uri.TryCreate(remote, UriKind.Absolute, out var uri))
        {
            return uri.Scheme is "smtp" or "smtps" ? uri.IdnHost : null;
        }

        return remote.Contains('/', StringComparison.Ordinal) ? null : remote;
    }
}
