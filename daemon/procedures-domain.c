/* Domain procedures: listing, lookup, information, define/undefine and the
 * lifecycle calls (the slow ones reply asynchronously). */
#include "procedures.h"
#include "domain-snapshot.h"
#include "domain-save.h"
#include "console-stream.h"
#include "vmm-process.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#define W PROC_FLAG_WRITE

static gboolean
p_list_all_domains (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_list_all_args *args = argp;
  remote_connect_list_all_domains_ret *ret = retp;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GPtrArray) hits = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    if (domain_matches_filter (all->pdata[i], args->flags))
      g_ptr_array_add (hits, all->pdata[i]);
  if (args->need_results && hits->len)
    {
      ret->domains.domains_len = hits->len;
      ret->domains.domains_val = g_new0 (remote_nonnull_domain, hits->len);
      for (guint i = 0; i < hits->len; i++)
        proc_make_domain (&ret->domains.domains_val[i], hits->pdata[i]);
    }
  ret->ret = hits->len;
  return TRUE;
}

static guint
count_domains (Daemon *d, gboolean active)
{
  g_autoptr (GPtrArray) all = domain_list (d);
  guint n = 0;
  for (guint i = 0; i < all->len; i++)
    if (domain_is_active (all->pdata[i]) == active)
      n++;
  return n;
}

static gboolean
p_num_of_domains (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_num_ret *) retp)->num = count_domains (DAEMON (call), TRUE);
  return TRUE;
}

static gboolean
p_num_of_defined_domains (RpcCall *call, void *argp, void *retp, GError **error)
{
  ((remote_num_ret *) retp)->num = count_domains (DAEMON (call), FALSE);
  return TRUE;
}

static gboolean
p_list_domains (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_connect_list_domains_args *args = argp;
  remote_connect_list_domains_ret *ret = retp;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (int));
  for (guint i = 0; i < all->len && (gint32) ids->len < args->maxids; i++)
    if (domain_is_active (all->pdata[i]))
      g_array_append_val (ids, ((DomainObj *) all->pdata[i])->id);
  ret->ids.ids_len = ids->len;
  ret->ids.ids_val = ids->len ? g_memdup2 (ids->data, ids->len * sizeof (int)) : NULL;
  return TRUE;
}

static gboolean
p_list_defined_domains (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_maxnames_args *args = argp;
  remote_names_ret *ret = retp;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < all->len && (gint32) names->len < args->maxnames; i++)
    if (!domain_is_active (all->pdata[i]))
      g_ptr_array_add (names, ((DomainObj *) all->pdata[i])->def->name);
  proc_set_names (&ret->names.names_len, &ret->names.names_val, (const char *const *) names->pdata, names->len);
  return TRUE;
}

static gboolean
p_lookup_by_name (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_lookup_by_name_args *args = argp;
  DomainObj *dom = domain_lookup_name (DAEMON (call), args->name);
  if (!dom)
    {
      domain_set_not_found (error, "name", args->name);
      return FALSE;
    }
  proc_make_domain (&((remote_domain_ret *) retp)->dom, dom);
  return TRUE;
}

static gboolean
p_lookup_by_uuid (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_lookup_by_uuid_args *args = argp;
  DomainObj *dom = domain_lookup_uuid (DAEMON (call), (const guint8 *) args->uuid);
  if (!dom)
    {
      char u[37];
      domain_uuid_format ((const guint8 *) args->uuid, u);
      domain_set_not_found (error, "uuid", u);
      return FALSE;
    }
  proc_make_domain (&((remote_domain_ret *) retp)->dom, dom);
  return TRUE;
}

static gboolean
p_lookup_by_id (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_lookup_by_id_args *args = argp;
  DomainObj *dom = domain_lookup_id (DAEMON (call), args->id);
  if (!dom)
    {
      g_autofree char *s = g_strdup_printf ("%d", args->id);
      domain_set_not_found (error, "id", s);
      return FALSE;
    }
  proc_make_domain (&((remote_domain_ret *) retp)->dom, dom);
  return TRUE;
}

/* Most per-domain calls start with the domain (remote_domain_args and
 * remote_domain_flags_args and many others begin with it). */
#define ARG_DOM(call, argp) proc_domain ((call), (const remote_nonnull_domain *) (argp), error)

static gboolean
p_get_state (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_domain_get_state_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ret->state = dom->state;
  ret->reason = dom->reason;
  return TRUE;
}

static gboolean
p_get_info (RpcCall *call, void *argp, void *retp, GError **error)
{
  remote_domain_get_info_ret *ret = retp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  DomainDef *def = dom->live ? dom->live : dom->def;
  ret->state = dom->state;
  ret->maxMem = def->memory_kib;
  ret->memory = def->current_memory_kib;
  ret->nrVirtCpu = def->vcpus;
  ret->cpuTime = domain_cpu_time_ns (dom);
  return TRUE;
}

static gboolean
p_get_xml_desc (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_xml_ret *) retp)->xml = domain_get_xml (dom, (args->flags & DOMAIN_XML_INACTIVE) != 0);
  return TRUE;
}

static gboolean
p_is_active (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = domain_is_active (dom);
  return TRUE;
}

static gboolean
p_is_persistent (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = dom->persistent;
  return TRUE;
}

/* Snapshots, "updated", messages, security label: Oriel has none of them
 * yet, so the zeroed result (0, empty lists) is the answer once the domain
 * exists. */
static gboolean
p_dom_empty (RpcCall *call, void *argp, void *retp, GError **error)
{
  return ARG_DOM (call, argp) != NULL;
}

static gboolean
p_get_autostart (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = dom->autostart;
  return TRUE;
}

static gboolean
p_set_autostart (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_set_autostart_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  return dom && domain_set_autostart (dom, args->autostart != 0, error);
}

static gboolean
p_get_os_type (RpcCall *call, void *argp, void *retp, GError **error)
{
  if (!ARG_DOM (call, argp))
    return FALSE;
  ((remote_domain_get_os_type_ret *) retp)->type = g_strdup ("hvm");
  return TRUE;
}

static gboolean
p_get_max_memory (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_domain_get_max_memory_ret *) retp)->memory = dom->def->memory_kib;
  return TRUE;
}

static gboolean
p_get_max_vcpus (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = dom->def->vcpus;
  return TRUE;
}

static gboolean
p_get_vcpus_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = (dom->live ? dom->live : dom->def)->vcpus;
  return TRUE;
}

static gboolean
define (RpcCall *call, const char *xml, void *retp, GError **error)
{
  DomainObj *dom = domain_define (DAEMON (call), xml, error);
  if (!dom)
    return FALSE;
  proc_make_domain (&((remote_domain_ret *) retp)->dom, dom);
  return TRUE;
}

static gboolean
p_define_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  return define (call, ((const remote_domain_define_xml_args *) argp)->xml, retp, error);
}

static gboolean
p_define_xml_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  return define (call, ((const remote_domain_define_xml_flags_args *) argp)->xml, retp, error);
}

static gboolean
undefine (RpcCall *call, const remote_nonnull_domain *ref, guint32 flags, GError **error)
{
  DomainObj *dom = proc_domain (call, ref, error);
  if (!dom)
    return FALSE;
  guint32 known = UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM
                | UNDEFINE_KEEP_NVRAM | UNDEFINE_CHECKPOINTS_METADATA | UNDEFINE_TPM | UNDEFINE_KEEP_TPM;
  if (flags & ~known)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"), flags & ~known);
      return FALSE;
    }
  if ((flags & UNDEFINE_TPM) && (flags & UNDEFINE_KEEP_TPM))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("cannot both keep and remove the TPM state"));
      return FALSE;
    }
  if ((flags & UNDEFINE_NVRAM) && (flags & UNDEFINE_KEEP_NVRAM))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("cannot both keep and remove the NVRAM file"));
      return FALSE;
    }
  if (!domain_undefine_check (dom, flags, error))
    return FALSE;
  if (domain_has_managed_save (dom))
    {
      if (!(flags & UNDEFINE_MANAGED_SAVE))
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                       _("Requested operation is not valid: Refusing to undefine while domain managed save image exists"));
          return FALSE;
        }
      if (!domain_managed_save_remove (dom, error))
        return FALSE;
    }
  /* As libvirt: the snapshots' descriptions go only when asked to; the
   * images keep the snapshots themselves. */
  guint snapshots = domain_snapshot_count (DAEMON (call), dom->def->name);
  if (snapshots > 0 && !(flags & UNDEFINE_SNAPSHOTS_METADATA))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: cannot delete inactive domain with %u snapshots"),
                   snapshots);
      return FALSE;
    }
  g_autofree char *name = g_strdup (dom->def->name);
  if (!domain_undefine (dom, flags, error))
    return FALSE;
  return snapshots == 0 || domain_snapshot_forget_all (DAEMON (call), name, error);
}

static gboolean
p_undefine (RpcCall *call, void *argp, void *retp, GError **error)
{
  return undefine (call, &((const remote_domain_args *) argp)->dom, 0, error);
}

static gboolean
p_undefine_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  return undefine (call, &args->dom, args->flags, error);
}

/* ---- asynchronous lifecycle ---- */

/* The reply of a deferred call whose result is void. */
static void
reply_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  rpc_call_complete (call, NULL, error);
  rpc_call_unref (call);
}

/* The reply of a deferred call that returns the domain. */
static void
reply_domain_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  if (error)
    rpc_call_complete (call, NULL, error);
  else
    {
      remote_domain_ret ret = { 0 };
      proc_make_domain (&ret.dom, dom);
      rpc_call_complete (call, &ret, NULL);
      rpc_marshal_free ((xdrproc_t) xdr_remote_domain_ret, &ret);
    }
  rpc_call_unref (call);
}

static gboolean
check_create_flags (guint32 flags, guint32 known, GError **error)
{
  if (flags & ~known)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"),
                   flags & ~known);
      return FALSE;
    }
  return TRUE;
}

static gboolean
create (RpcCall *call, const remote_nonnull_domain *ref, guint32 flags, DomainDoneFn done, GError **error)
{
  DomainObj *dom = proc_domain (call, ref, error);
  /* FORCE_BOOT: boot afresh, dropping a managed save image. */
  if (!dom || !check_create_flags (flags, CREATE_PAUSED | CREATE_FORCE_BOOT, error))
    return FALSE;
  domain_start (dom, flags, done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_create (RpcCall *call, void *argp, void *retp, GError **error)
{
  return create (call, &((const remote_domain_args *) argp)->dom, 0, reply_done, error);
}

static gboolean
p_create_with_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  return create (call, &args->dom, args->flags, reply_domain_done, error);
}

static gboolean
p_create_xml (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_create_xml_args *args = argp;
  if (!check_create_flags (args->flags, CREATE_PAUSED, error))
    return FALSE;
  RpcCall *deferred = rpc_call_defer (call);
  if (!domain_create_transient (DAEMON (call), args->xml_desc, args->flags, reply_domain_done, deferred, error))
    {
      rpc_call_unref (deferred);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_destroy (RpcCall *call, void *argp, void *retp, GError **error)
{
  /* DESTROY_FLAGS' flags (graceful) change nothing: quit, then SIGKILL. */
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  domain_destroy (dom, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
shutdown_domain (RpcCall *call, const remote_nonnull_domain *ref, guint32 flags, GError **error)
{
  DomainObj *dom = proc_domain (call, ref, error);
  if (!dom)
    return FALSE;
  /* Modes: 0 default, 1 ACPI power button; Oriel has nothing else. */
  if (flags & ~1u)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("unsupported shutdown mode flags (0x%x): Oriel shuts down through ACPI"), flags);
      return FALSE;
    }
  return domain_shutdown (dom, error);
}

static gboolean
p_shutdown (RpcCall *call, void *argp, void *retp, GError **error)
{
  return shutdown_domain (call, &((const remote_domain_args *) argp)->dom, 0, error);
}

static gboolean
p_shutdown_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  return shutdown_domain (call, &args->dom, args->flags, error);
}

static gboolean
p_reboot (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  return dom && domain_reboot (dom, error);
}

static gboolean
p_reset (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  return dom && domain_reset (dom, error);
}

static gboolean
p_suspend (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  domain_suspend (dom, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_resume (RpcCall *call, void *argp, void *retp, GError **error)
{
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  domain_resume (dom, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_open_console (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_open_console_args *args = argp;
  const char *dev = args->dev_name ? *args->dev_name : NULL;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  if (!domain_is_active (dom) || !dom->live)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_INVALID,
                   _("Requested operation is not valid: domain is not running"));
      return FALSE;
    }
  if (dev && !g_str_equal (dev, "serial0") && !g_str_equal (dev, "console0"))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INTERNAL_ERROR, _("cannot find character device %s"), dev);
      return FALSE;
    }
  if (!dom->live->has_serial || !dom->live->live_pty)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_OPERATION_FAILED, _("the domain has no serial console"));
      return FALSE;
    }
  return console_stream_open (call, dom->live->live_pty, error);
}

const RpcProcedure procedures_domain[] = {
  PROC_ROW (CONNECT_LIST_ALL_DOMAINS, 0, remote_list_all_args, remote_connect_list_all_domains_ret,
            p_list_all_domains),
  PROC_ROW (CONNECT_NUM_OF_DOMAINS, 0, rpc_void, remote_num_ret, p_num_of_domains),
  PROC_ROW (CONNECT_LIST_DOMAINS, 0, remote_connect_list_domains_args, remote_connect_list_domains_ret,
            p_list_domains),
  PROC_ROW (CONNECT_NUM_OF_DEFINED_DOMAINS, 0, rpc_void, remote_num_ret, p_num_of_defined_domains),
  PROC_ROW (CONNECT_LIST_DEFINED_DOMAINS, 0, remote_maxnames_args, remote_names_ret, p_list_defined_domains),
  PROC_ROW (DOMAIN_LOOKUP_BY_NAME, 0, remote_domain_lookup_by_name_args, remote_domain_ret, p_lookup_by_name),
  PROC_ROW (DOMAIN_LOOKUP_BY_UUID, 0, remote_domain_lookup_by_uuid_args, remote_domain_ret, p_lookup_by_uuid),
  PROC_ROW (DOMAIN_LOOKUP_BY_ID, 0, remote_domain_lookup_by_id_args, remote_domain_ret, p_lookup_by_id),
  PROC_ROW (DOMAIN_GET_STATE, 0, remote_domain_flags_args, remote_domain_get_state_ret, p_get_state),
  PROC_ROW (DOMAIN_GET_INFO, 0, remote_domain_args, remote_domain_get_info_ret, p_get_info),
  PROC_ROW (DOMAIN_GET_XML_DESC, 0, remote_domain_flags_args, remote_xml_ret, p_get_xml_desc),
  PROC_ROW (DOMAIN_IS_ACTIVE, 0, remote_domain_args, remote_num_ret, p_is_active),
  PROC_ROW (DOMAIN_IS_PERSISTENT, 0, remote_domain_args, remote_num_ret, p_is_persistent),
  PROC_ROW (DOMAIN_IS_UPDATED, 0, remote_domain_args, remote_num_ret, p_dom_empty),
  PROC_ROW (DOMAIN_GET_AUTOSTART, 0, remote_domain_args, remote_num_ret, p_get_autostart),
  PROC_ROW (DOMAIN_GET_SECURITY_LABEL, 0, remote_domain_args, remote_domain_get_security_label_ret, p_dom_empty),
  PROC_ROW (DOMAIN_SET_AUTOSTART, W, remote_domain_set_autostart_args, rpc_void, p_set_autostart),
  PROC_ROW (DOMAIN_GET_OS_TYPE, 0, remote_domain_args, remote_domain_get_os_type_ret, p_get_os_type),
  PROC_ROW (DOMAIN_GET_MAX_MEMORY, 0, remote_domain_args, remote_domain_get_max_memory_ret, p_get_max_memory),
  PROC_ROW (DOMAIN_GET_MAX_VCPUS, 0, remote_domain_args, remote_num_ret, p_get_max_vcpus),
  PROC_ROW (DOMAIN_GET_VCPUS_FLAGS, 0, remote_domain_flags_args, remote_num_ret, p_get_vcpus_flags),
  PROC_ROW (DOMAIN_GET_MESSAGES, 0, remote_domain_flags_args, remote_domain_get_messages_ret, p_dom_empty),
  PROC_ROW (DOMAIN_DEFINE_XML, W, remote_domain_define_xml_args, remote_domain_ret, p_define_xml),
  PROC_ROW (DOMAIN_DEFINE_XML_FLAGS, W, remote_domain_define_xml_flags_args, remote_domain_ret,
            p_define_xml_flags),
  PROC_ROW (DOMAIN_UNDEFINE, W, remote_domain_args, rpc_void, p_undefine),
  PROC_ROW (DOMAIN_UNDEFINE_FLAGS, W, remote_domain_flags_args, rpc_void, p_undefine_flags),
  PROC_ROW (DOMAIN_CREATE, W, remote_domain_args, rpc_void, p_create),
  PROC_ROW (DOMAIN_CREATE_WITH_FLAGS, W, remote_domain_flags_args, remote_domain_ret, p_create_with_flags),
  PROC_ROW (DOMAIN_CREATE_XML, W, remote_domain_create_xml_args, remote_domain_ret, p_create_xml),
  PROC_ROW (DOMAIN_DESTROY, W, remote_domain_args, rpc_void, p_destroy),
  PROC_ROW (DOMAIN_DESTROY_FLAGS, W, remote_domain_flags_args, rpc_void, p_destroy),
  PROC_ROW (DOMAIN_SHUTDOWN, W, remote_domain_args, rpc_void, p_shutdown),
  PROC_ROW (DOMAIN_SHUTDOWN_FLAGS, W, remote_domain_flags_args, rpc_void, p_shutdown_flags),
  PROC_ROW (DOMAIN_REBOOT, W, remote_domain_flags_args, rpc_void, p_reboot),
  PROC_ROW (DOMAIN_RESET, W, remote_domain_flags_args, rpc_void, p_reset),
  PROC_ROW (DOMAIN_SUSPEND, W, remote_domain_args, rpc_void, p_suspend),
  PROC_ROW (DOMAIN_RESUME, W, remote_domain_args, rpc_void, p_resume),
  PROC_ROW (DOMAIN_OPEN_CONSOLE, W, remote_domain_open_console_args, rpc_void, p_open_console),
};
const gsize procedures_domain_count = G_N_ELEMENTS (procedures_domain);
