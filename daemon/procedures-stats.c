/* CONNECT_GET_ALL_DOMAIN_STATS: the bulk statistics that `virsh domstats`,
 * virt-manager and oriel's manager window sample every second, for every
 * domain in one round trip: state, total CPU time, balloon (current and
 * maximum memory) and vCPU counts, as typed parameters. */
#include "procedures.h"

#include <glib/gi18n.h>

/* virDomainStatsTypes */
#define STATS_STATE     (1u << 0)
#define STATS_CPU_TOTAL (1u << 1)
#define STATS_BALLOON   (1u << 2)
#define STATS_VCPU      (1u << 3)
#define STATS_SUPPORTED (STATS_STATE | STATS_CPU_TOTAL | STATS_BALLOON | STATS_VCPU)

/* virConnectGetAllDomainStatsFlags: the low byte filters like
 * CONNECT_LIST_ALL_DOMAINS; NOWAIT and BACKING change nothing here. */
#define STATS_FILTERS        0xffu
#define STATS_NOWAIT         (1u << 29)
#define STATS_BACKING        (1u << 30)
#define STATS_ENFORCE        (1u << 31)

/* virTypedParameterType */
enum { PARAM_INT = 1, PARAM_UINT = 2, PARAM_ULLONG = 4 };

typedef struct {
  GByteArray *buf;
  guint count;
} ParamList;

/* One remote_typed_param: INT and UINT travel as 4 bytes, ULLONG as 8. */
static void
put_param (ParamList *l, const char *field, int type, guint64 v)
{
  xdr_put_string (l->buf, field);
  xdr_put_i32 (l->buf, type);
  if (type == PARAM_ULLONG)
    xdr_put_u64 (l->buf, v);
  else
    xdr_put_u32 (l->buf, (guint32) v);
  l->count++;
}

/* One remote_domain_stats_record: the domain, then its parameters. */
static void
put_record (GByteArray *ret, DomainObj *dom, guint32 stats)
{
  DomainDef *def = dom->live ? dom->live : dom->def;
  gboolean active = domain_is_active (dom);
  g_autoptr (GByteArray) params = g_byte_array_new ();
  ParamList l = { params, 0 };

  if (stats & STATS_STATE)
    {
      put_param (&l, "state.state", PARAM_INT, (guint32) dom->state);
      put_param (&l, "state.reason", PARAM_INT, (guint32) dom->reason);
    }
  if ((stats & STATS_CPU_TOTAL) && active)
    put_param (&l, "cpu.time", PARAM_ULLONG, domain_cpu_time_ns (dom));
  if (stats & STATS_BALLOON)
    {
      put_param (&l, "balloon.current", PARAM_ULLONG, def->current_memory_kib);
      put_param (&l, "balloon.maximum", PARAM_ULLONG, def->memory_kib);
    }
  if (stats & STATS_VCPU)
    {
      put_param (&l, "vcpu.current", PARAM_UINT, def->vcpus);
      put_param (&l, "vcpu.maximum", PARAM_UINT, def->vcpus);
    }
  proc_put_domain (ret, dom);
  xdr_put_u32 (ret, l.count);
  g_byte_array_append (ret, params->data, params->len);
}

static gboolean
p_get_all_domain_stats (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  guint32 ndoms, stats, flags;
  if (!xdr_get_u32 (r, &ndoms, error))
    return FALSE;
  if (ndoms > RPC_LIST_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC,
                   _("too many domains requested: %u (at most %u)"), ndoms, RPC_LIST_MAX);
      return FALSE;
    }
  g_autoptr (GPtrArray) doms = g_ptr_array_new ();
  for (guint32 i = 0; i < ndoms; i++)
    {
      DomainObj *dom;
      if (!proc_get_domain (call, r, &dom, error))
        return FALSE;
      g_ptr_array_add (doms, dom);
    }
  if (!xdr_get_u32 (r, &stats, error) || !xdr_get_u32 (r, &flags, error) || !proc_end (r, error))
    return FALSE;

  if ((flags & STATS_ENFORCE) && (stats & ~STATS_SUPPORTED))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("Argument unsupported: requested statistics 0x%x are not supported by oriel"),
                   stats & ~STATS_SUPPORTED);
      return FALSE;
    }
  if (flags & ~(STATS_FILTERS | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x) in function %s"),
                   flags & ~(STATS_FILTERS | STATS_NOWAIT | STATS_BACKING | STATS_ENFORCE),
                   "virConnectGetAllDomainStats");
      return FALSE;
    }
  if (ndoms > 0 && (flags & STATS_FILTERS))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: domain filtering flags cannot be used with a list of domains"));
      return FALSE;
    }
  /* No types asked for means every type there is. */
  if (stats == 0)
    stats = STATS_SUPPORTED;

  g_autoptr (GPtrArray) all = NULL;
  if (ndoms == 0)
    {
      all = domain_list (DAEMON (call));
      for (guint i = 0; i < all->len; i++)
        if (domain_matches_filter (all->pdata[i], flags & STATS_FILTERS))
          g_ptr_array_add (doms, all->pdata[i]);
    }
  xdr_put_u32 (ret, doms->len);
  for (guint i = 0; i < doms->len; i++)
    put_record (ret, doms->pdata[i], stats);
  return TRUE;
}

const RpcProcedure procedures_stats[] = {
  { PROC_CONNECT_GET_ALL_DOMAIN_STATS, "CONNECT_GET_ALL_DOMAIN_STATS", 0, p_get_all_domain_stats },
};
const gsize procedures_stats_count = G_N_ELEMENTS (procedures_stats);
