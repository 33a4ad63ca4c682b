using System.Globalization;

namespace MailMesh.Delivery.Notices;

/// <summary>The RFC 3464 Status field (an RFC 3463 x.y.z code) of one recipient.</summary>
internal static class DsnStatus
{
    /// <summary>RFC 3463 4.4.7: delivery time expired.</summary>
    public const string Expired = "4.4.7";

    /// <summary>
    /// The enhanced code the reply carries after its basic code (<c>550 5.1.1 ...</c>) when its
    /// class agrees with <paramref name="statusClass"/>; otherwise <c>{class}.0.0</c>, the
    /// "other or undefined" status of that class.
    /// </summary>
    public static string From(string reply, char statusClass)
    {
        var parts = reply.Split(' ', 3, StringSplitOptions.RemoveEmptyEntries);
        if (parts.Length >= 2 && parts[0].Length == 3 && parts[0][0] == statusClass && IsEnhanced(parts[1])
            && parts[1][0] == statusClass)
        {
            return parts[1];
        }

        return statusClass + ".0.0";
    }

    private static bool IsEnhanced(string code)
    {
        // RFC 3463 section 2: class "." subject "." detail, subject and detail of 1 to 3 digits.
        var fields = code.Split('.');
        return fields.Length == 3
            && fields[0] is "2" or "4" or "5"
            && fields.Skip(1).All(field => field.Length is >= 1 and <= 3
                && int.TryParse(field, NumberStyles.None, CultureInfo.InvariantCulture, out _));
    }
}
