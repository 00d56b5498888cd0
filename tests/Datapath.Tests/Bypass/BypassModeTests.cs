using Datapath.Bypass;
using Datapath.Caches;
using Datapath.Flow;
using Datapath.Packets;
using Datapath.Stats;

namespace Datapath.Tests.Bypass;

/// <summary>
/// Each bypass mode behind the seam (<see cref="IRecirculationBypass"/>), driven hook by hook as the
/// pipeline drives it: where its bypass flows are found, when they are built, and what removes them.
/// </summary>
public sealed class BypassModeTests
{
    private readonly TwoPasses _passes = new();
    private readonly PmdStats _stats = new();
    private readonly RecordingWatcher _watcher = new();

    [Theory]
    [InlineData("off", BypassMode.Off, typeof(NoBypass))]
    [InlineData("on", BypassMode.Megaflow, typeof(MegaflowBypass))]
    [InlineData("megaflow", BypassMode.Megaflow, typeof(MegaflowBypass))]
    [InlineData("per-connection", BypassMode.PerConnection, typeof(PerConnectionBypass))]
    [InlineData("emc-only", BypassMode.EmcOnly, typeof(EmcOnlyBypass))]
    public void Each_word_names_a_mode_and_each_mode_its_implementation(string word, BypassMode mode, Type implementation)
    {
        Assert.True(BypassModes.TryParse(word, out var parsed));
        Assert.Equal(mode, parsed);
        var bypass = RecirculationBypass.Create(parsed, new ExactMatchCache(), _stats, null, 16);
        Assert.IsType(implementation, bypass);
        Assert.Equal(mode, bypass.Mode);
        Assert.Equal(word == "on" ? "megaflow" : word, mode.Name());
    }

    [Theory]
    [InlineData("")]
    [InlineData("yes")]
    [InlineData("Megaflow")]
    [InlineData("shortcut")]
    public void Other_words_are_no_mode(string word) => Assert.False(BypassModes.TryParse(word, out _));

    [Fact]
    public void Emc_only_without_an_emc_keeps_its_flows_in_the_per_connection_table()
    {
        Assert.IsType<PerConnectionBypass>(RecirculationBypass.Create(BypassMode.EmcOnly, null, _stats, null, 16));
    }

    [Fact]
    public void Off_builds_nothing_and_finds_nothing()
    {
        var bypass = new NoBypass();
        _passes.Run(bypass, 40000);
        var (packet, key, hash) = _passes.Receive(40000);

        Assert.Equal(0, bypass.LookupBeforeEmc([packet], [key], [hash], new Megaflow?[1]));
        Assert.Equal(1, bypass.LookupAfterEmc([key], [hash], new int[1], 1, new Megaflow?[1]));
        Assert.Null(packet.PassNote);
        Assert.Equal(0, bypass.Count);
    }

    [Fact]
    public void Per_connection_builds_one_exact_flow_found_before_the_emc_and_has_its_connection_watched()
    {
        var bypass = new PerConnectionBypass(16, _stats, _watcher);

        _passes.Run(bypass, 40000);
        _passes.Run(bypass, 40000);

        Assert.Equal(1, bypass.Count);
        Assert.Equal(1, _stats.BypassInstalls);
        var connection = _passes.Connection(40000, out uint connectionHash);
        Assert.Equal([(connection, connectionHash)], _watcher.Watched);

        var (packet, key, hash) = _passes.Receive(40000);
        var (other, otherKey, otherHash) = _passes.Receive(40001);
        var flows = new Megaflow?[2];
        Assert.Equal(1, bypass.LookupBeforeEmc([packet, other], [key, otherKey], [hash, otherHash], flows));
        Assert.Same(_passes.Original, flows[0]!.BypassOriginal);
        Assert.Same(_passes.Recirculated, flows[0]!.BypassRecirculated);
        Assert.Null(flows[1]);
        Assert.Equal(1, _stats.BypassHits);
    }

    [Fact]
    public void Per_connection_looks_up_first_passes_only()
    {
        var bypass = new PerConnectionBypass(16, _stats, _watcher);
        _passes.Run(bypass, 40000);
        var (packet, key, hash) = _passes.Receive(40000);
        packet.Metadata.RecircId = TwoPasses.RecircId;

        Assert.Equal(0, bypass.LookupBeforeEmc([packet], [key], [hash], new Megaflow?[1]));
    }

    [Theory]
    [InlineData(CtState.New | CtState.Tracked)]
    [InlineData(CtState.Established | CtState.Tracked | CtState.Invalid)]
    [InlineData(CtState.Related | CtState.Established | CtState.Tracked)]
    public void A_pass_that_conntrack_did_not_call_established_builds_nothing(CtState state)
    {
        var perConnection = new PerConnectionBypass(16, _stats, _watcher);
        var megaflow = new MegaflowBypass(null, _stats);

        _passes.Run(perConnection, 40000, state);
        _passes.Run(megaflow, 40000, state);

        Assert.Equal(0, perConnection.Count + megaflow.Count);
        Assert.Empty(_watcher.Watched);
    }

    [Fact]
    public void Per_connection_flows_go_when_their_connection_is_revoked_and_others_stay()
    {
        var bypass = new PerConnectionBypass(16, _stats, _watcher);
        _passes.Run(bypass, 40000);
        _passes.Run(bypass, 40001);
        var connection = _passes.Connection(40000, out uint hash);

        Assert.Equal(1, bypass.Revoke(in connection, hash));

        Assert.Equal(1, bypass.Count);
        Assert.Equal(1, _stats.BypassRevocations);
        var (packet, key, keyHash) = _passes.Receive(40000);
        Assert.Equal(0, bypass.LookupBeforeEmc([packet], [key], [keyHash], new Megaflow?[1]));
    }

    [Fact]
    public void Per_connection_drops_the_flow_of_a_packet_that_failed_its_guard()
    {
        var bypass = new PerConnectionBypass(16, _stats, _watcher);
        _passes.Run(bypass, 40000);
        var (packet, _, _) = _passes.Receive(40000);
        packet.Metadata.CtState = CtState.New | CtState.Tracked;

        bypass.OnGuardFailed(packet);

        Assert.Equal(0, bypass.Count);
        Assert.Equal(1, _stats.BypassRevocations);
    }

    [Fact]
    public void Flows_of_a_megaflow_that_died_go_at_revalidation_in_every_mode()
    {
        var emc = new ExactMatchCache();
        var modes = new IRecirculationBypass[]
        {
            new PerConnectionBypass(16, _stats, _watcher),
            new EmcOnlyBypass(emc, 16, _stats, _watcher),
            new MegaflowBypass(emc, _stats),
        };
        foreach (var bypass in modes)
        {
            _passes.Run(bypass, 40000);
            Assert.Equal(1, bypass.Count);
        }

        _passes.Original.MarkDead();
        foreach (var bypass in modes)
        {
            bypass.OnMegaflowsRemoved();
            Assert.Equal(0, bypass.Count);
        }

        Assert.Equal(3, _stats.BypassRevocations);
    }

    [Fact]
    public void Emc_only_puts_its_flow_in_the_emc_and_looks_nothing_up_itself()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 0);
        var bypass = new EmcOnlyBypass(emc, 16, _stats, _watcher);

        _passes.Run(bypass, 40000);

        var (packet, key, hash) = _passes.Receive(40000);
        var found = emc.Lookup(in key, hash);
        Assert.NotNull(found);
        Assert.True(found.IsBypassFlow);
        Assert.Equal(0, bypass.LookupBeforeEmc([packet], [key], [hash], new Megaflow?[1]));
        Assert.Single(_watcher.Watched);
    }

    [Fact]
    public void Emc_only_puts_an_evicted_flow_back_when_the_connection_recirculates_again()
    {
        var emc = new ExactMatchCache(insertInverseProbability: 0);
        var bypass = new EmcOnlyBypass(emc, 16, _stats, _watcher);
        _passes.Run(bypass, 40000);
        emc.InvalidateAll();

        _passes.Run(bypass, 40000);

        var (_, key, hash) = _passes.Receive(40000);
        Assert.NotNull(emc.Lookup(in key, hash));
        Assert.Equal(1, _stats.BypassInstalls);
        Assert.Single(_watcher.Watched);
    }

    [Fact]
    public void Megaflow_mode_shares_one_masked_flow_among_connections_found_after_an_emc_miss()
    {
        var bypass = new MegaflowBypass(null, _stats);

        _passes.Run(bypass, 40000);
        _passes.Run(bypass, 40001);

        Assert.Equal(1, bypass.Count);
        Assert.Equal(1, _stats.BypassInstalls);
        var (_, key, hash) = _passes.Receive(40002);
        var misses = new[] { 0 };
        var flows = new Megaflow?[1];
        Assert.Equal(0, bypass.LookupAfterEmc([key], [hash], misses, 1, flows));
        Assert.True(flows[0]!.IsBypassFlow);
        Assert.Equal(1, _stats.BypassHits);
    }

    [Fact]
    public void Megaflow_mode_keeps_its_shared_flow_through_revocations_and_failed_guards()
    {
        var bypass = new MegaflowBypass(null, _stats);
        _passes.Run(bypass, 40000);
        var connection = _passes.Connection(40000, out uint hash);
        var (packet, _, _) = _passes.Receive(40000);

        Assert.Equal(0, bypass.Revoke(in connection, hash));
        bypass.OnGuardFailed(packet);

        Assert.Equal(1, bypass.Count);
        Assert.Equal(0, _stats.BypassRevocations);
    }

    [Fact]
    public void A_first_pass_notes_only_a_flow_that_ends_in_ct_and_recirc()
    {
        var bypass = new MegaflowBypass(null, _stats);
        var (packet, key, _) = _passes.Receive(40000);

        bypass.OnClassified([packet], [_passes.Original], [key]);
        Assert.Same(_passes.Original, packet.PassNote);

        bypass.OnClassified([packet], [_passes.Recirculated], [key]);
        Assert.Null(packet.PassNote);
    }
}
