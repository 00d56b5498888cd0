using System.Runtime.CompilerServices;

namespace Host.Tests.Support;

/// <summary>
/// Every `run` these tests start listens on a control socket, by default under $XDG_RUNTIME_DIR:
/// give this test process its own, so that it never meets a datapath a user (or another test
/// run) has running.
/// </summary>
internal static class PrivateRuntimeDirectory
{
    [ModuleInitializer]
    internal static void Use() =>
        Environment.SetEnvironmentVariable("XDG_RUNTIME_DIR", Directory.CreateTempSubdirectory("host-tests-run-").FullName);
}
