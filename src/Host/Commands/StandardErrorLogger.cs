using Akka.Actor;
using Akka.Event;

namespace Host.Commands;

/// <summary>
/// Akka's log events on standard error (its own default logger writes on standard output, where the
/// results go). Used by the two-process replay, whose standard output is the verdicts:
/// <see cref="Config"/> layers it over a configuration.
/// </summary>
public sealed class StandardErrorLogger : ReceiveActor
{
    public StandardErrorLogger()
    {
        Receive<InitializeLogger>(_ => Sender.Tell(new LoggerInitialized()));
        Receive<LogEvent>(e => Console.Error.WriteLine(e.ToString()));
    }

    /// <summary>This logger instead of Akka's standard-output one (which stays off even during start-up).</summary>
    public static Akka.Configuration.Config Config { get; } = Akka.Configuration.ConfigurationFactory.ParseString($$"""
        akka.loggers = ["{{typeof(StandardErrorLogger).FullName}}, {{typeof(StandardErrorLogger).Assembly.GetName().Name}}"]
        akka.stdout-loglevel = OFF
        """);
}
