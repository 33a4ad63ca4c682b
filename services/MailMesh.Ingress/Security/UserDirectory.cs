namespace MailMesh.Ingress.Security;

/// <summary>The configured users and their password check.</summary>
internal sealed class UserDirectory
{
    // Checked when the name is unknown, so a wrong name costs as long as a wrong password and
    // the timing does not tell which names exist.
    private static readonly string DecoyHash = PasswordHash.Create(Guid.NewGuid().ToString());

    private readonly Dictionary<string, string> _hashes;

    public UserDirectory(IEnumerable<SmtpUser> users)
    {
        _hashes = users.Where(user => user.Name.Length > 0)
            .ToDictionary(user => user.Name, user => user.PasswordHash, StringComparer.Ordinal);
    }

    public bool IsEmpty => _hashes.Count == 0;

    public bool Verify(string name, string password)
    {
        var known = _hashes.TryGetValue(name, out var hash);
        var valid = PasswordHash.Verify(password, hash ?? DecoyHash);
        return known && valid;
    }
}
