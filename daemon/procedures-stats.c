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

/* At most this many parameters per record (see put_record). */
#define STATS_PARAMS_MAX 7

/* One remote_typed_param: INT and UINT travel as 4 bytes, ULLONG as 8. */
static void
add_param (remote_domain_stats_record *rec, const char *field, int type, guint64 v)
{
  g_assert (rec->params.params_len < STATS_PARAMS_MAX);
  remote_typed_param *p = &rec->params.params_val[rec->params.params_len++];
  p->field = g_strdup (field);
  p->value.type = type;
  if (type == PARAM_ULLONG)
    p->value.remote_typed_param_value_u.ul = v;
  else if (type == PARAM_UINT)
    p->value.remote_typed_param_value_u.ui = (guint32) v;
  else
    p->value.remote_typed_param_value_u.i = (gint32) v;
}

/* One remote_domain_stats_record: the domain, then its parameters. */
static void
fill_record (remote_domain_stats_record *rec, DomainObj *dom, guint32 stats)
{
  DomainDef *def = dom->live ? dom->live : dom->def;
  gboolean active = domain_is_active (dom);
  proc_make_domain (&rec->dom, dom);
  rec->params.params_val = g_new0 (remote_typed_param, STATS_PARAMS_MAX);

  if (stats & STATS_STATE)
    {
      add_param (rec, "state.state", PARAM_INT, (guint32) dom->state);
      add_param (rec, "state.reason", PARAM_INT, (guint32) dom->reason);
    }
  if ((stats & STATS_CPU_TOTAL) && active)
    add_param (rec, "cpu.time", PARAM_ULLONG, domain_cpu_time_ns (dom));
  if (stats & STATS_BALLOON)
    {
      add_param (rec, "balloon.current", PARAM_ULLONG, def->current_memory_kib);
      add_param (rec, "balloon.maximum", PARAM_ULLONG, def->memory_kib);
    }
  if (stats & STATS_VCPU)
    {
      add_param (rec, "vcpu.current", PARAM_UINT, def->vcpus);
      add_param (rec, "vcpu.maximum", PARAM_UINT, def->vcpus);
    }
}

static gboolean
p_get_all_domain_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_get_all_domain_stats_args *args = argp;
  remote_connect_get_all_domain_stats_ret *ret = retp;
  guint32 ndoms = args->doms.doms_len, stats = args->stats, flags = args->flags;
  g_autoptr (GPtrArray) doms = g_ptr_array_new ();
  for (guint32 i = 0; i < ndoms; i++)
    {
      DomainObj *dom = proc_domain (call, &args->doms.doms_val[i], error);
      if (!dom)
        return FALSE;
      g_ptr_array_add (doms, dom);
    }

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
  ret->retStats.retStats_len = doms->len;
  ret->retStats.retStats_val = doms->len ? g_new0 (remote_domain_stats_record, doms->len) : NULL;
  for (guint i = 0; i < doms->len; i++)
    fill_record (&ret->retStats.retStats_val[i], doms->pdata[i], stats);
  return TRUE;
}

const RpcProcedure procedures_stats[] = {
  PROC_ROW (CONNECT_GET_ALL_DOMAIN_STATS, 0, remote_connect_get_all_domain_stats_args,
            remote_connect_get_all_domain_stats_ret, p_get_all_domain_stats),
};
const gsize procedures_stats_count = G_N_ELEMENTS (procedures_stats);
