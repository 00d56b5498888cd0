using Actors.Tests.Support.Lab;
using Host.Tests.Support;
using Mono.Unix.Native;

namespace Host.Tests.Control;

/// <summary>
/// Nobody else can take the control socket over: `run` binds only in a directory that is its own
/// user's and nobody else's to change, replaces only a stale socket (a FIFO or a file is refused at
/// once, left as it was), and a client talks only to a datapath of its own user or root.
/// </summary>
[System.Runtime.Versioning.UnsupportedOSPlatform("windows")]
public sealed class ControlSocketSecurityTests : IDisposable
{
    private const uint Nobody = 65534;
    private readonly ScratchDirectory _scratch = new();

    public void Dispose() => _scratch.Dispose();

    [Fact]
    public void A_directory_other_users_can_write_to_is_refused_and_nothing_is_bound_in_it()
    {
        string directory = Path.Combine(_scratch.Path, "open");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_111_111);

        var (exit, error) = Run(Path.Combine(directory, "x.ctl"));

        Assert.Equal(1, exit);
        Assert.Contains($"{directory} is writable by other users (mode 0777)", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(directory));
    }

    [Fact]
    public void A_symbolic_link_in_place_of_the_directory_is_refused()
    {
        string real = Path.Combine(_scratch.Path, "real");
        Directory.CreateDirectory(real);
        string link = Path.Combine(_scratch.Path, "link");
        File.CreateSymbolicLink(link, real);

        var (exit, error) = Run(Path.Combine(link, "x.ctl"));

        Assert.Equal(1, exit);
        Assert.Contains($"{link} is a symbolic link", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(real));
    }

    [Fact]
    public void A_socket_path_longer_than_a_unix_socket_takes_is_refused_by_its_length()
    {
        string path = Path.Combine(_scratch.Path, new string('a', 120));

        var (exit, error) = Run(path);

        Assert.Equal(1, exit);
        Assert.Contains($"a unix socket path is at most 107 bytes, this one is {path.Length}", error, StringComparison.Ordinal);
        Assert.DoesNotContain("   at ", error, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(_scratch.Path));
    }

    [Fact]
    public void A_socket_path_of_the_most_bytes_a_unix_socket_takes_is_served()
    {
        // The socket is bound in a staging directory beside the target first; with the target's
        // name in the staging directory's, a path of 62 bytes or more ended in an ArgumentOutOfRangeException.
        string path = Path.Combine(_scratch.Path, new string('a', 107 - _scratch.Path.Length - 1));
        Assert.Equal(107, path.Length);

        var (exit, error) = Run(path);

        Assert.True(exit == 0, error);
        Assert.Empty(Directory.GetFileSystemEntries(_scratch.Path));
    }

    [Theory]
    [InlineData("", "no socket path given (an empty path)")]
    [InlineData("/tmp/a-socket-path-that-is-far-too-long-for-sockaddr_un-which-holds-one-hundred-and-seven-bytes-and-a-nul.ct", "a unix socket path is at most 107 bytes, this one is 108")]
    public void A_client_given_a_path_no_socket_can_have_says_so(string target, string problem)
    {
        var (output, error) = (new StringWriter(), new StringWriter());

        int exit = Program.Run(["show", "--target", target], output, error);

        Assert.Equal(2, exit);
        Assert.Equal($"show: {(target.Length > 0 ? target + ": " : "")}{problem}", error.ToString().Trim());
    }

    [Fact]
    public async Task A_fifo_at_the_socket_path_is_refused_at_once_and_left_in_place()
    {
        string fifo = Path.Combine(_scratch.Path, "x.ctl");
        Assert.Equal(0, Syscall.mkfifo(fifo, FilePermissions.S_IRUSR | FilePermissions.S_IWUSR));

        // Opening a FIFO for reading blocks until a writer comes: a run that did would never end.
        var (exit, error) = await OwnThread.Run(() => Run(fifo)).WaitAsync(TimeSpan.FromSeconds(60));

        Assert.Equal(1, exit);
        Assert.Contains($"{fifo} exists and is not a socket (it is a FIFO)", error, StringComparison.Ordinal);
        Assert.Equal(0, Syscall.lstat(fifo, out var stat));
        Assert.Equal(FilePermissions.S_IFIFO, stat.st_mode & FilePermissions.S_IFMT);
    }

    [RootFact]
    public void A_directory_another_user_made_first_is_refused_and_their_stale_socket_left_alone()
    {
        // The /tmp/ovs-actors-$USER race: another user makes the directory before the first run.
        string directory = Path.Combine(_scratch.Path, "taken");
        Directory.CreateDirectory(directory);
        File.SetUnixFileMode(directory, (UnixFileMode)0b111_101_101);
        string planted = Path.Combine(directory, "x.ctl");
        File.WriteAllText(planted, string.Empty);
        Assert.Equal(0, Syscall.chown(directory, (int)Nobody, (int)Nobody));

        var (exit, error) = Run(planted);

        Assert.Equal(1, exit);
        Assert.Contains($"{directory} belongs to uid {Nobody}", error, StringComparison.Ordinal);
        Assert.True(File.Exists(planted));
    }

    [RootFact("/usr/bin/setpriv", "/usr/bin/python3")]
    public async Task A_client_refuses_a_datapath_that_another_user_runs()
    {
        // An impostor (uid nobody) listens where the client looks and would answer like a datapath.
        string shared = Directory.CreateTempSubdirectory("control-impostor-").FullName;
        try
        {
            File.SetUnixFileMode(shared, (UnixFileMode)0b111_111_111);
            string socket = Path.Combine(shared, "x.ctl");
            const string Impostor = """
                import socket, sys
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.bind(sys.argv[1]); s.listen(4); print("ready", flush=True)
                while True:
                    c, _ = s.accept(); c.recv(65536)
                    c.sendall(b'{"jsonrpc":"2.0","result":{"text":"flows replaced\\n","data":null},"id":1}\n'); c.close()
                """;
            using var impostor = new BackgroundProcess("/usr/bin/setpriv", $"--reuid={Nobody}", $"--regid={Nobody}", "--clear-groups", "/usr/bin/python3", "-c", Impostor, socket);
            Assert.True(await impostor.WaitForOutputAsync("ready", TimeSpan.FromSeconds(20)), impostor.Output);
            string flows = _scratch.Write("table.flows", "table=0, priority=1 actions=drop\n");
            var (output, error) = (new StringWriter(), new StringWriter());

            int exit = Program.Run(["replace-flows", flows, "--target", socket], output, error);

            Assert.Equal(2, exit);
            Assert.Contains($"the process listening there runs as uid {Nobody}", error.ToString(), StringComparison.Ordinal);
            Assert.Empty(output.ToString());
        }
        finally
        {
            Directory.Delete(shared, recursive: true);
        }
    }

    private static (int Exit, string Error) Run(string socket)
    {
        var (output, error) = (new StringWriter(), new StringWriter());
        int exit = Program.Run(["run", "--control", socket, "--duration", "1", "--pmds", "1"], output, error);
        return (exit, error.ToString());
    }
}
