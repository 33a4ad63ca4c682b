using MailMesh.Spool;

namespace MailMesh.Delivery.Notices;

/// <summary>What a recipient's RFC 3461 NOTIFY parameter asks for.</summary>
internal static class NotifyRequest
{
    /// <summary>
    /// A failure notice is wanted unless NOTIFY was given without FAILURE (NEVER included): RFC
    /// 3461 section 4.1 makes its absence mean FAILURE at least.
    /// </summary>
    public static bool WantsFailure(SpoolRecipient recipient) => Has(recipient, "FAILURE", byDefault: true);

    /// <summary>
    /// A delay notice is wanted where NOTIFY names DELAY, and where NOTIFY is absent, read as
    /// FAILURE,DELAY as Postfix and sendmail do (RFC 3461 section 4.1 leaves that choice open).
    /// </summary>
    public static bool WantsDelay(SpoolRecipient recipient) => Has(recipient, "DELAY", byDefault: true);

    /// <summary>A success notice is wanted only where NOTIFY names SUCCESS (RFC 3461 section 4.1).</summary>
    public static bool WantsSuccess(SpoolRecipient recipient) => Has(recipient, "SUCCESS", byDefault: false);

    private static bool Has(SpoolRecipient recipient, string keyword, bool byDefault)
    {
        if (recipient.Notify is not { } notify)
        {
            return byDefault;
        }

        foreach (var part in notify.Split(',', StringSplitOptions.TrimEntries))
        {
            if (part.Equals(keyword, StringComparison.OrdinalIgnoreCase))
            {
                return true;
            }
        }

        return false;
    }
}
