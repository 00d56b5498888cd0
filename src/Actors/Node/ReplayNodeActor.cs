using Actors.Ports;
using Akka.Actor;

namespace Actors.Node;

/// <summary>
/// Node B's end of a two-process replay (/user/replay-node): replays each <see cref="ReplayRun"/> on
/// this node's PMDs through one <see cref="ReplaySession"/> (one after another: the mailbox waits while
/// a run is replayed) and answers its verdicts; <see cref="LeaveReplay"/> completes <paramref name="leave"/>.
/// </summary>
public sealed class ReplayNodeActor : ReceiveActor
{
    public const string Name = "replay-node";

    public ReplayNodeActor(ReplaySession session, TimeSpan timeout, TaskCompletionSource leave)
    {
        ReceiveAsync<ReplayRun>(async run =>
        {
            var sender = Sender;
            if (!TryFrames(run, out var frames, out string? reason))
            {
                sender.Tell(new ReplayRunFailed(reason!));
                return;
            }

            try
            {
                var verdicts = await session.RunAsync(frames, timeout).ConfigureAwait(false);
                sender.Tell(new ReplayRunDone([.. verdicts]));
            }
            catch (Exception e) when (e is AskTimeoutException or TaskCanceledException)
            {
                sender.Tell(new ReplayRunFailed($"the run did not finish within {timeout}"));
            }
            catch (InvalidOperationException e)
            {
                sender.Tell(new ReplayRunFailed(e.Message));
            }
        });
        Receive<LeaveReplay>(_ => leave.TrySetResult());
    }

    public static Props Props(ReplaySession session, TimeSpan timeout, TaskCompletionSource leave) =>
        Akka.Actor.Props.Create(() => new ReplayNodeActor(session, timeout, leave));

    /// <summary>Checks a run from the other node (untrusted: bounded, consistent) and makes its frames.</summary>
    private static bool TryFrames(ReplayRun run, out List<ReplayFrame> frames, out string? reason)
    {
        frames = [];
        reason = null;
        if (run.Numbers is not { } numbers || run.Ports is not { } ports || run.TimesMs is not { } times || run.Frames is not { } bytesOf
            || ports.Length != numbers.Length || times.Length != numbers.Length || bytesOf.Length != numbers.Length)
        {
            reason = "a replay run whose arrays differ in length";
            return false;
        }

        int count = numbers.Length;
        if (count > ReplayRun.MaxFrames || bytesOf.Sum(f => (long)(f?.Length ?? 0)) > ReplayRun.MaxBytes)
        {
            reason = $"a replay run over {ReplayRun.MaxFrames} frames or {ReplayRun.MaxBytes} bytes";
            return false;
        }

        for (int i = 0; i < count; i++)
        {
            if (bytesOf[i] is not { Length: > 0 } bytes || ports[i] > 2)
            {
                reason = $"frame {numbers[i]}: empty, or for a port other than 1 and 2";
                return false;
            }

            frames.Add(new ReplayFrame(numbers[i], ports[i], bytes, times[i]));
        }

        return true;
    }
}
