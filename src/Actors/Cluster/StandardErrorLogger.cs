using Akka.Actor;
using Akka.Dispatch;
using Akka.Event;

namespace Actors.Cluster;

/// <summary>
/// The actor system's logger (`akka.loggers` in hocon/datapath.conf): every log event on stderr, in
/// Akka's own line format, so that standard output carries only results (verdicts, summaries,
/// JSON) whatever Akka has to say. Akka's default logger writes to stdout.
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor, IRequiresMessageQueue<ILoggerMessageQueueSemantics>
{
    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }
}

/// <summary>
/// The logger Akka uses while the actor system starts and stops, before and after the loggers run
/// (`akka.stdout-logger-class`): on stderr too, for the same reason as <see cref="StandardErrorLogger"/>.
/// </summary>
public sealed class StandardErrorStartupLogger : MinimalLogger
{
    protected override void Log(object message)
    {
        if (message is LogEvent e)
        {
            Console.Error.WriteLine(e.ToString());
        }
    }
}
