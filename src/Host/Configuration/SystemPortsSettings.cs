namespace Host.Configuration;

/// <summary>The validated `datapath.system` section: the Linux interfaces of the main job's ports 1 and 2.</summary>
public sealed record SystemPortsSettings(string Port1, string Port2)
{
    private const string Section = "datapath.system";

    /// <summary>The interfaces by OpenFlow port number.</summary>
    public IReadOnlyList<(uint Port, string Interface)> Ports => [(1, Port1), (2, Port2)];

    internal static SystemPortsSettings From(SettingReader reader)
    {
        string port1 = Interface(reader, Section + ".port1");
        string port2 = Interface(reader, Section + ".port2");
        if (port1 == port2)
        {
            throw reader.Error(Section + ".port2", $"'{SettingReader.Shown(port2)}' is already port1: each port needs its own interface");
        }

        return new SystemPortsSettings(port1, port2);
    }

    private static string Interface(SettingReader reader, string key)
    {
        string name = reader.Text(key).Trim();
        if (name.Length == 0)
        {
            throw reader.Error(key, "ports = system needs the interface's name (as ip link shows it)");
        }

        // IFNAMSIZ is 16 with the terminating zero; names never hold '/' or blanks.
        if (name.Length > 15 || name.Any(c => c == '/' || char.IsWhiteSpace(c)))
        {
            throw reader.Error(key, $"'{SettingReader.Shown(name)}' is not a Linux interface name (at most 15 characters, no '/' or spaces)");
        }

        return name;
    }
}
