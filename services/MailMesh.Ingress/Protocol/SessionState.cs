namespace MailMesh.Ingress.Protocol;

/// <summary>Where a session is in the RFC 5321 command sequence.</summary>
[Flags]
internal enum SessionState
{
    /// <summary>Connected, no EHLO or HELO yet.</summary>
    Connected = 1,

    /// <summary>Greeted, no transaction.</summary>
    Ready = 2,

    /// <summary>MAIL accepted, no recipient yet.</summary>
    Mail = 4,

    /// <summary>At least one recipient accepted.</summary>
    Recipients = 8,

    Any = Connected | Ready | Mail | Recipients,
}
