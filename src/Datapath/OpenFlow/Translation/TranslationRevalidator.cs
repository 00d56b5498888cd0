using Datapath.Caches;
using Datapath.Upcalls;

namespace Datapath.OpenFlow.Translation;

/// <summary>
/// Revalidation against one <see cref="Translator"/> (the analogue of ofproto-dpif-upcall.c's
/// revalidate_ukey with the statistics push of xlate_push_stats).
///
/// <para>Why a megaflow's own key can be re-translated: the key is the masked key, which agrees
/// with every packet the megaflow covers on every bit of the mask, and the translator puts into
/// the mask every key bit it reads before acting on it (rule matches up to the winner, in_port,
/// recirc_id, eth_type and nw_frag always, Ethernet addresses and VLAN for NORMAL, TTL for
/// dec_ttl, VLAN for tag changes; rewrites are emitted without reading old values). Translation
/// is deterministic given the key, the tables, the ports, the learned MACs and the continuation
/// of recirc_id, so with those unchanged the masked key translates exactly as the packet that
/// made the megaflow did; and after a change, if the masked key yields the installed actions
/// and mask, every covered packet agrees with it on all bits the new translation read and so
/// yields them too. One caveat: a ct zone taken from a datapath field (zone=NXM_...[]) is read
/// without being added to the mask; such megaflows are wrong from their upcall, and here they
/// re-translate with the field cleared, so they are removed rather than kept.</para>
///
/// <para>Each megaflow made by the translator carries a <see cref="TranslationOrigin"/>; one
/// without (made by another handler) is always re-translated and never released here.</para>
/// </summary>
public sealed class TranslationRevalidator : IFlowRevalidator
{
    private readonly Translator _translator;

    public TranslationRevalidator(Translator translator)
    {
        ArgumentNullException.ThrowIfNull(translator);
        _translator = translator;
    }

    /// <summary>Megaflows actually re-translated (the rest depended on nothing that changed).</summary>
    public long Retranslations { get; private set; }

    public void PushStatistics(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Origin is not TranslationOrigin origin)
        {
            return;
        }

        var (packets, bytes) = origin.TakeUnpushed(in flow.Stats);
        if (packets != 0 || bytes != 0)
        {
            _translator.Tables.Credit(origin.Rules, packets, bytes);
        }
    }

    public bool Revalidate(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        PushStatistics(flow);

        // The continuation a recirculated megaflow resumes died with the megaflows that held it.
        if (flow.Key.RecircId != 0 && _translator.Recirc.References(flow.Key.RecircId) == 0)
        {
            return false;
        }

        var origin = flow.Origin as TranslationOrigin;
        if (origin is not null && !origin.IsStale(_translator.Tables.Version, _translator.PortsVersion, _translator.Macs.Generation))
        {
            return true;
        }

        Retranslations++;
        var result = _translator.Translate(in flow.Key, trace: null, mayLearn: false);

        // The installed actions keep their own references; these were only for the comparison.
        _translator.Recirc.ReleaseAll(result.Actions);
        bool same = !result.UnknownRecirculation
            && result.Mask == flow.Mask
            && result.Actions.Actions.SequenceEqual(flow.Actions.Actions);
        if (same)
        {
            origin?.Refresh(result, _translator.PortsVersion);
        }

        return same;
    }

    public void Uninstalled(Megaflow flow)
    {
        ArgumentNullException.ThrowIfNull(flow);
        if (flow.Origin is not TranslationOrigin origin || origin.Released)
        {
            return;
        }

        PushStatistics(flow);
        origin.Released = true;
        _translator.Recirc.ReleaseAll(flow.Actions);
    }
}
