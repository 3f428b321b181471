namespace Xares.Broker.Audit;

/// <summary>
/// One line of the checkpoint file: the chain's newest sequence and MAC at a time, and a MAC over
/// all of it under the audit key of <see cref="KeyVersion"/>. Holds no secret: the chain MAC is
/// already in every export, and the line MAC only proves the broker wrote the line.
/// </summary>
internal sealed record AuditCheckpoint(long Sequence, byte[] Mac, DateTimeOffset At, int KeyVersion, byte[] CheckpointMac);
