using System.Security.Cryptography;

namespace MailMesh.Spool;

/// <summary>
/// Makes queue ids: 16 characters of Crockford base32, the first 10 the arrival time in
/// milliseconds and the last 6 random, so ids sort by time as text and two ingress processes
/// cannot collide in practice (30 random bits per millisecond).
/// </summary>
public sealed class QueueIdGenerator(TimeProvider time)
{
    private const string Alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

    public string Next()
    {
        Span<char> id = stackalloc char[16];
        var milliseconds = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();
        for (var i = 9; i >= 0; i--)
        {
            id[i] = Alphabet[(int)(milliseconds & 31)];
            milliseconds >>= 5;
        }

        var random = (uint)RandomNumberGenerator.GetInt32(1 << 30);
        for (var i = 15; i >= 10; i--)
        {
            id[i] = Alphabet[(int)(random & 31)];
            random >>= 5;
        }

        return new string(id);
    }
}
