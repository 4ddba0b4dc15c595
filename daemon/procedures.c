/* The dispatch index over every procedure table, and the helpers and
 * handlers the tables share. */
#include "procedures.h"

#include <glib/gi18n.h>
#include <string.h>

DomainObj *
proc_domain (RpcCall *call, const remote_nonnull_domain *ref, GError **error)
{
  DomainObj *dom = domain_lookup_uuid (DAEMON (call), (const guint8 *) ref->uuid);
  if (!dom)
    {
      char u[37];
      domain_uuid_format ((const guint8 *) ref->uuid, u);
      domain_set_not_found (error, "uuid", u);
    }
  return dom;
}

void
proc_make_domain (remote_nonnull_domain *out, DomainObj *dom)
{
  out->name = g_strdup (dom->def->name);
  memcpy (out->uuid, dom->def->uuid, 16);
  out->id = dom->id;
}

void
proc_set_names (u_int *len, remote_nonnull_string **val, const char *const *names, guint n)
{
  *len = n;
  *val = n ? g_new0 (remote_nonnull_string, n) : NULL;
  for (guint i = 0; i < n; i++)
    (*val)[i] = g_strdup (names[i]);
}

gboolean
proc_void (RpcCall *call, void *args, void *ret, GError **error)
{
  return TRUE;
}

gboolean
proc_int_one (RpcCall *call, void *args, void *ret, GError **error)
{
  ((remote_num_ret *) ret)->num = 1;
  return TRUE;
}

gboolean
proc_int_zero (RpcCall *call, void *args, void *ret, GError **error)
{
  ((remote_num_ret *) ret)->num = 0;
  return TRUE;
}

gboolean
proc_list_default_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_maxnames_args *args = argp;
  remote_names_ret *ret = retp;
  static const char *const names[] = { "default" };
  proc_set_names (&ret->names.names_len, &ret->names.names_val, names, args->maxnames > 0 ? 1 : 0);
  return TRUE;
}

gboolean
proc_list_none (RpcCall *call, void *args, void *ret, GError **error)
{
  return TRUE;
}

/* virConnectListAllStoragePools / Networks filter bits shared by both. */
enum {
  LIST_OBJ_INACTIVE = 1, LIST_OBJ_ACTIVE = 2, LIST_OBJ_PERSISTENT = 4,
  LIST_OBJ_TRANSIENT = 8, LIST_OBJ_AUTOSTART = 16, LIST_OBJ_NO_AUTOSTART = 32,
  LIST_POOLS_DIR = 64,
};

gboolean
proc_default_object_matches (guint32 flags, gboolean is_pool)
{
  if ((flags & (LIST_OBJ_INACTIVE | LIST_OBJ_ACTIVE)) && !(flags & LIST_OBJ_ACTIVE))
    return FALSE;
  if ((flags & (LIST_OBJ_PERSISTENT | LIST_OBJ_TRANSIENT)) && !(flags & LIST_OBJ_PERSISTENT))
    return FALSE;
  if ((flags & (LIST_OBJ_AUTOSTART | LIST_OBJ_NO_AUTOSTART)) && !(flags & LIST_OBJ_AUTOSTART))
    return FALSE;
  if (is_pool && (flags & ~(guint32) 63) && !(flags & LIST_POOLS_DIR))
    return FALSE;
  return TRUE;
}

/* ---------------------------------------------------------------- */

#define MAX_PROC 512

static const RpcProcedure *by_number[MAX_PROC];
static const RpcProcedure *in_order[MAX_PROC];
static gsize n_procedures;

static void
build_index (void)
{
  static gsize initialized;
  if (!g_once_init_enter (&initialized))
    return;
  const struct { const RpcProcedure *t; gsize n; } tables[] = {
    { procedures_host, procedures_host_count },
    { procedures_events, procedures_events_count },
    { procedures_domain, procedures_domain_count },
    { procedures_stats, procedures_stats_count },
    { procedures_save, procedures_save_count },
    { procedures_graphics, procedures_graphics_count },
    { procedures_snapshot, procedures_snapshot_count },
    { procedures_storage, procedures_storage_count },
    { procedures_network, procedures_network_count },
    { procedures_devices, procedures_devices_count },
    { procedures_live, procedures_live_count },
  };
  for (gsize t = 0; t < G_N_ELEMENTS (tables); t++)
    for (gsize i = 0; i < tables[t].n; i++)
      {
        const RpcProcedure *p = &tables[t].t[i];
        g_assert (p->proc > 0 && p->proc < MAX_PROC);
        g_assert (by_number[p->proc] == NULL);
        by_number[p->proc] = p;
        in_order[n_procedures++] = p;
      }
  g_once_init_leave (&initialized, 1);
}

const RpcProcedure *
procedures_lookup (int proc)
{
  build_index ();
  if (proc <= 0 || proc >= MAX_PROC)
    return NULL;
  return by_number[proc];
}

const RpcProcedure *const *
procedures_all (gsize *n)
{
  build_index ();
  *n = n_procedures;
  return in_order;
}
