using System.Buffers;

namespace MailMesh.Ingress.Spooling;

/// <summary>
/// The bytes of one message as they stream in, in one pooled array that grows by doubling
/// (the broker takes a message as one block). Every byte held is reserved from the shared
/// <see cref="BufferBudget"/>; when the budget says no, the buffer stops growing and reports it.
/// </summary>
internal sealed class MessageBuffer(BufferBudget budget) : IDisposable
{
    private const int InitialSize = 16 * 1024;

    private byte[] _array = [];
    private int _length;

    public int Length => _length;

    public ReadOnlyMemory<byte> Memory => _array.AsMemory(0, _length);

    public ReadOnlySpan<byte> Span => _array.AsSpan(0, _length);

    /// <summary>Makes room for <paramref name="capacity"/> bytes in one step, when the size is known.</summary>
    public bool Reserve(int capacity) => capacity <= _array.Length || Grow(capacity);

    /// <summary>Appends bytes; false when the memory budget refused the room for them.</summary>
    public bool Append(ReadOnlySpan<byte> bytes)
    {
        var needed = _length + bytes.Length;
        if (needed > _array.Length && !Grow(needed))
        {
            return false;
        }

        bytes.CopyTo(_array.AsSpan(_length));
        _length = needed;
        return true;
    }

    public bool Append(ReadOnlySequence<byte> bytes)
    {
        var needed = _length + (int)bytes.Length;
        if (needed > _array.Length && !Grow(needed))
        {
            return false;
        }

        bytes.CopyTo(_array.AsSpan(_length));
        _length = needed;
        return true;
    }

    /// <summary>Forgets the content and gives the memory back.</summary>
    public void Clear()
    {
        if (_array.Length > 0)
        {
            budget.Release(_array.Length);
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = [];
        _length = 0;
    }

    public void Dispose() => Clear();

    private bool Grow(int needed)
    {
        var size = Math.Max(InitialSize, _array.Length);
        while (size < needed)
        {
            size = size >= int.MaxValue / 2 ? needed : size * 2;
        }

        var bigger = ArrayPool<byte>.Shared.Rent(size);
        if (!budget.TryReserve(bigger.Length))
        {
            ArrayPool<byte>.Shared.Return(bigger);
            return false;
        }

        _array.AsSpan(0, _length).CopyTo(bigger);
        if (_array.Length > 0)
        {
            budget.Release(_array.Length);
            ArrayPool<byte>.Shared.Return(_array);
        }

        _array = bigger;
        return true;
    }
}
