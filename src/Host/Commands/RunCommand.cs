using System.CommandLine;
using Actors.Configuration;
using Host.MainJob;

namespace Host.Commands;

/// <summary>`run`: the main job on the embedded default configuration, or a file layered over it.</summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var config = new Option<FileInfo?>("--config") { Description = "A HOCON file layered over the embedded default (hocon/datapath.conf)." };
        var packets = new Option<long?>("--packets") { Description = "Frames to generate (overrides datapath.generator.packets)." };
        var connections = new Option<int?>("--connections") { Description = "Concurrent connections (overrides datapath.generator.connections)." };
        var command = new Command("run", "Push synthetic traffic through a PMD pipeline and print its statistics.") { config, packets, connections };
        command.SetAction(parse =>
        {
            var output = parse.InvocationConfiguration.Output;
            var error = parse.InvocationConfiguration.Error;
            try
            {
                var file = parse.GetValue(config);
                var hocon = file is null ? DatapathConfig.LoadEmbedded() : DatapathConfig.LoadFile(file.FullName);
                var settings = DatapathSettings.From(hocon, file?.FullName ?? DatapathConfig.EmbeddedName);
                var generator = settings.Generator with
                {
                    Packets = parse.GetValue(packets) ?? settings.Generator.Packets,
                    Connections = parse.GetValue(connections) ?? settings.Generator.Connections,
                };
                if (generator.Packets <= 0 || generator.Connections <= 0)
                {
                    error.WriteLine("run: --packets and --connections must be positive");
                    return 2;
                }

                var result = CrossConnectJob.Run(settings with { Generator = generator });
                output.Write(JobReport.Format(settings with { Generator = generator }, result));
                return 0;
            }
            catch (ConfigurationException e)
            {
                error.WriteLine("run: " + e.Message);
                return 2;
            }
        });
        return command;
    }
}
