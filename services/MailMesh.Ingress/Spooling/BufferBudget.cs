namespace MailMesh.Ingress.Spooling;

/// <summary>
/// Caps the message bytes held in memory across all sessions, so many large messages at once
/// cost those sessions a 452, never the server its memory.
/// </summary>
internal sealed class BufferBudget(long capacity)
{
    private long _used;

    public long Used => Interlocked.Read(ref _used);

    public bool TryReserve(long bytes)
    {
        var after = Interlocked.Add(ref _used, bytes);
        if (after <= capacity)
        {
            return true;
        }

        Interlocked.Add(ref _used, -bytes);
        return false;
    }

    public void Release(long bytes) => Interlocked.Add(ref _used, -bytes);
}
