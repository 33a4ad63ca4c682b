namespace MailMesh.Delivery.Tests.Support;

/// <summary>
/// Counts the SMTP sessions open at once on one or more fake servers, as a server would see its
/// concurrent connections; a session ends when its client says QUIT or goes away.
/// </summary>
internal sealed class SessionGauge
{
    private int _current;
    private int _most;

    /// <summary>The most sessions that were ever open at the same time.</summary>
    public int Most => Volatile.Read(ref _most);

    public int Current => Volatile.Read(ref _current);

    public void Enter()
    {
        var now = Interlocked.Increment(ref _current);
        var most = Volatile.Read(ref _most);
        while (now > most)
        {
            var seen = Interlocked.CompareExchange(ref _most, now, most);
            if (seen == most)
            {
                break;
            }

            most = seen;
        }
    }

    public void Leave() => Interlocked.Decrement(ref _current);
}
