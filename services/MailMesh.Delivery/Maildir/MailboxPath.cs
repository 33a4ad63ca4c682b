using System.Globalization;
using System.Security.Cryptography;
using System.Text;

namespace MailMesh.Delivery.Maildir;

/// <summary>
/// Turns a recipient address into its Maildir directory, <c>root/domain/local-part</c>. Every
/// octet outside a small safe set is written as <c>=XX</c>, so no local part, however hostile
/// (<c>../x</c>, a quoted <c>"a/b"</c>, dots, control characters), can name a path outside its
/// domain's directory, and distinct addresses never share a mailbox.
/// </summary>
internal static class MailboxPath
{
    // Well inside the 255-octet file name limit of Linux file systems.
    private const int MaxSegment = 200;

    public static string For(string root, string address)
    {
        var at = address.LastIndexOf('@');
        var localPart = at < 0 ? address : address[..at];
        var domain = at < 0 ? "" : address[(at + 1)..];
        var directory = Path.Combine(root, Segment(domain.TrimEnd('.')), Segment(Unquote(localPart)));

        // The encoding above already rules it out; this keeps a future change from undoing that.
        var full = Path.GetFullPath(directory);
        if (!full.StartsWith(Path.TrimEndingDirectorySeparator(root) + Path.DirectorySeparatorChar,
            StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"The mailbox of {address} would lie outside {root}.");
        }

        return full;
    }

    /// <summary>
    /// RFC 5321 4.1.2: <c>"john"</c> and <c>john</c> are the same local part once the quotes and
    /// quoted-pair backslashes are gone.
    /// </summary>
    internal static string Unquote(string localPart)
    {
        if (localPart.Length < 2 || localPart[0] != '"' || localPart[^1] != '"')
        {
            return localPart;
        }

        var builder = new StringBuilder(localPart.Length);
        for (var i = 1; i < localPart.Length - 1; i++)
        {
            if (localPart[i] == '\\' && i + 1 < localPart.Length - 1)
            {
                i++;
            }

            builder.Append(localPart[i]);
        }

        return builder.ToString();
    }

    /// <summary>
    /// One path segment: lower-cased (mailboxes are case-insensitive here, as on most hosts; RFC
    /// 5321 2.4 leaves that to the receiving host), with letters, digits, <c>-_+</c> and inner dots
    /// kept and every other octet of its UTF-8 form written <c>=XX</c>.
    /// </summary>
    internal static string Segment(string text)
    {
        var bytes = Encoding.UTF8.GetBytes(text.ToLowerInvariant());
        if (bytes.Length == 0)
        {
            // No escape sequence is a lone "=", so the empty name cannot meet another.
            return "=";
        }

        var builder = new StringBuilder(bytes.Length + 8);
        for (var i = 0; i < bytes.Length; i++)
        {
            var b = bytes[i];
            // A leading dot would make "." or ".." or a hidden directory.
            var safe = char.IsAsciiLetterOrDigit((char)b) || b is (byte)'-' or (byte)'_' or (byte)'+'
                || (b == (byte)'.' && i > 0);
            if (safe)
            {
                builder.Append((char)b);
            }
            else
            {
                builder.Append('=').Append(b.ToString("X2", CultureInfo.InvariantCulture));
            }
        }

        if (builder.Length <= MaxSegment)
        {
            return builder.ToString();
        }

        // Too long for a file name: a prefix, then a digest of the whole so names stay distinct.
        var digest = Convert.ToHexStringLower(SHA256.HashData(bytes))[..32];
        return builder.ToString(0, MaxSegment - 33) + "~" + digest;
    }
}
