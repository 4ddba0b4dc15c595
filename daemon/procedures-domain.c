/* Domain procedures: listing, lookup, information, define/undefine and the
 * lifecycle calls (the slow ones reply asynchronously). */
#include "procedures.h"
#include "domain-save.h"
#include "console-stream.h"
#include "vmm-process.h"

#include <glib/gi18n.h>
#include <string.h>
#include <unistd.h>

#define W PROC_FLAG_WRITE

static gboolean
p_list_all_domains (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 need;
  guint32 flags;
  if (!proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GPtrArray) hits = g_ptr_array_new ();
  for (guint i = 0; i < all->len; i++)
    if (domain_matches_filter (all->pdata[i], flags))
      g_ptr_array_add (hits, all->pdata[i]);
  if (need)
    {
      xdr_put_u32 (ret, hits->len);
      for (guint i = 0; i < hits->len; i++)
        proc_put_domain (ret, hits->pdata[i]);
    }
  else
    xdr_put_u32 (ret, 0);
  xdr_put_u32 (ret, hits->len);
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
p_num_of_domains (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, count_domains (DAEMON (call), TRUE));
  return proc_end (r, error);
}

static gboolean
p_num_of_defined_domains (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  xdr_put_i32 (ret, count_domains (DAEMON (call), FALSE));
  return proc_end (r, error);
}

static gboolean
p_list_domains (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 max;
  if (!xdr_get_i32 (r, &max, error) || !proc_end (r, error))
    return FALSE;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GArray) ids = g_array_new (FALSE, FALSE, sizeof (gint32));
  for (guint i = 0; i < all->len && (gint32) ids->len < max; i++)
    if (domain_is_active (all->pdata[i]))
      g_array_append_val (ids, ((DomainObj *) all->pdata[i])->id);
  xdr_put_u32 (ret, ids->len);
  for (guint i = 0; i < ids->len; i++)
    xdr_put_i32 (ret, g_array_index (ids, gint32, i));
  return TRUE;
}

static gboolean
p_list_defined_domains (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 max;
  if (!xdr_get_i32 (r, &max, error) || !proc_end (r, error))
    return FALSE;
  g_autoptr (GPtrArray) all = domain_list (DAEMON (call));
  g_autoptr (GPtrArray) names = g_ptr_array_new ();
  for (guint i = 0; i < all->len && (gint32) names->len < max; i++)
    if (!domain_is_active (all->pdata[i]))
      g_ptr_array_add (names, ((DomainObj *) all->pdata[i])->def->name);
  xdr_put_u32 (ret, names->len);
  for (guint i = 0; i < names->len; i++)
    xdr_put_string (ret, names->pdata[i]);
  return TRUE;
}

static gboolean
p_lookup_by_name (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *name = NULL;
  if (!xdr_get_string (r, RPC_STRING_MAX, &name, error) || !proc_end (r, error))
    return FALSE;
  DomainObj *dom = domain_lookup_name (DAEMON (call), name);
  if (!dom)
    {
      domain_set_not_found (error, "name", name);
      return FALSE;
    }
  proc_put_domain (ret, dom);
  return TRUE;
}

static gboolean
p_lookup_by_uuid (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  guint8 uuid[16];
  if (!xdr_get_fixed_opaque (r, uuid, 16, error) || !proc_end (r, error))
    return FALSE;
  DomainObj *dom = domain_lookup_uuid (DAEMON (call), uuid);
  if (!dom)
    {
      char u[37];
      domain_uuid_format (uuid, u);
      domain_set_not_found (error, "uuid", u);
      return FALSE;
    }
  proc_put_domain (ret, dom);
  return TRUE;
}

static gboolean
p_lookup_by_id (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  gint32 id;
  if (!xdr_get_i32 (r, &id, error) || !proc_end (r, error))
    return FALSE;
  DomainObj *dom = domain_lookup_id (DAEMON (call), id);
  if (!dom)
    {
      g_autofree char *s = g_strdup_printf ("%d", id);
      domain_set_not_found (error, "id", s);
      return FALSE;
    }
  proc_put_domain (ret, dom);
  return TRUE;
}

/* Most per-domain calls take the domain and maybe flags. */
static gboolean
get_dom_flags (RpcCall *call, XdrReader *r, DomainObj **dom, guint32 *flags, GError **error)
{
  *flags = 0;
  return proc_get_domain (call, r, dom, error) && (!flags || proc_get_flags (r, flags, error))
      && proc_end (r, error);
}

static gboolean
get_dom (RpcCall *call, XdrReader *r, DomainObj **dom, GError **error)
{
  return proc_get_domain (call, r, dom, error) && proc_end (r, error);
}

static gboolean
p_get_state (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  xdr_put_i32 (ret, dom->state);
  xdr_put_i32 (ret, dom->reason);
  return TRUE;
}

static gboolean
p_get_info (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  DomainDef *def = dom->live ? dom->live : dom->def;
  xdr_put_u32 (ret, dom->state);
  xdr_put_u64 (ret, def->memory_kib);
  xdr_put_u64 (ret, def->current_memory_kib);
  xdr_put_u32 (ret, def->vcpus);
  xdr_put_u64 (ret, domain_cpu_time_ns (dom));
  return TRUE;
}

static gboolean
p_get_xml_desc (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  g_autofree char *xml = domain_get_xml (dom, (flags & DOMAIN_XML_INACTIVE) != 0);
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_is_active (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_i32 (ret, domain_is_active (dom));
  return TRUE;
}

static gboolean
p_is_persistent (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_i32 (ret, dom->persistent);
  return TRUE;
}

static gboolean
p_dom_zero (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_i32 (ret, 0);
  return TRUE;
}

static gboolean
p_dom_flags_zero (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  xdr_put_i32 (ret, 0);
  return TRUE;
}

static gboolean
p_snapshot_list_names (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  gint32 max;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !xdr_get_i32 (r, &max, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  return TRUE;
}

static gboolean
p_list_all_snapshots (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  gint32 need;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !proc_get_list_all_args (r, &need, &flags, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  xdr_put_i32 (ret, 0);
  return TRUE;
}

static gboolean
p_get_messages (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  xdr_put_u32 (ret, 0);
  return TRUE;
}

static gboolean
p_get_security_label (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  /* Security model "none": an empty label, not enforcing. */
  xdr_put_u32 (ret, 0);
  xdr_put_i32 (ret, 0);
  return TRUE;
}

static gboolean
p_get_autostart (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_i32 (ret, dom->autostart);
  return TRUE;
}

static gboolean
p_set_autostart (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  gint32 autostart;
  if (!proc_get_domain (call, r, &dom, error) || !xdr_get_i32 (r, &autostart, error)
      || !proc_end (r, error))
    return FALSE;
  return domain_set_autostart (dom, autostart != 0, error);
}

static gboolean
p_get_os_type (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_string (ret, "hvm");
  return TRUE;
}

static gboolean
p_get_max_memory (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_u64 (ret, dom->def->memory_kib);
  return TRUE;
}

static gboolean
p_get_max_vcpus (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  xdr_put_i32 (ret, dom->def->vcpus);
  return TRUE;
}

static gboolean
p_get_vcpus_flags (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  xdr_put_i32 (ret, (dom->live ? dom->live : dom->def)->vcpus);
  return TRUE;
}

static gboolean
p_define_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *xml = NULL;
  guint32 flags = 0;
  if (!xdr_get_string (r, RPC_STRING_MAX, &xml, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_DEFINE_XML_FLAGS && !proc_get_flags (r, &flags, error))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  DomainObj *dom = domain_define (DAEMON (call), xml, error);
  if (!dom)
    return FALSE;
  proc_put_domain (ret, dom);
  return TRUE;
}

static gboolean
p_undefine (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags = 0;
  if (!proc_get_domain (call, r, &dom, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_UNDEFINE_FLAGS && !proc_get_flags (r, &flags, error))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  guint32 known = UNDEFINE_MANAGED_SAVE | UNDEFINE_SNAPSHOTS_METADATA | UNDEFINE_NVRAM
                | UNDEFINE_KEEP_NVRAM | UNDEFINE_CHECKPOINTS_METADATA | UNDEFINE_TPM | UNDEFINE_KEEP_TPM;
  if (flags & ~known)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x)"), flags & ~known);
      return FALSE;
    }
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
  return domain_undefine (dom, error);
}

/* ---- asynchronous lifecycle ---- */

static void
reply_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  int proc = rpc_call_header (call)->proc;
  if (error)
    rpc_call_complete (call, NULL, error);
  else if (proc == PROC_DOMAIN_CREATE_WITH_FLAGS || proc == PROC_DOMAIN_CREATE_XML)
    {
      g_autoptr (GByteArray) ret = g_byte_array_new ();
      proc_put_domain (ret, dom);
      rpc_call_complete (call, ret, NULL);
    }
  else
    rpc_call_complete (call, NULL, NULL);
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
p_create (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags = 0;
  if (!proc_get_domain (call, r, &dom, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_CREATE_WITH_FLAGS && !proc_get_flags (r, &flags, error))
    return FALSE;
  /* FORCE_BOOT: boot afresh, dropping a managed save image. */
  if (!proc_end (r, error) || !check_create_flags (flags, CREATE_PAUSED | CREATE_FORCE_BOOT, error))
    return FALSE;
  domain_start (dom, flags, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_create_xml (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *xml = NULL;
  guint32 flags;
  if (!xdr_get_string (r, RPC_STRING_MAX, &xml, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error) || !check_create_flags (flags, CREATE_PAUSED, error))
    return FALSE;
  RpcCall *deferred = rpc_call_defer (call);
  if (!domain_create_transient (DAEMON (call), xml, flags, reply_done, deferred, error))
    {
      rpc_call_unref (deferred);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_destroy (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags = 0;
  if (!proc_get_domain (call, r, &dom, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_DESTROY_FLAGS && !proc_get_flags (r, &flags, error))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  domain_destroy (dom, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_shutdown (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags = 0;
  if (!proc_get_domain (call, r, &dom, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_SHUTDOWN_FLAGS && !proc_get_flags (r, &flags, error))
    return FALSE;
  if (!proc_end (r, error))
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
p_reboot (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!get_dom_flags (call, r, &dom, &flags, error))
    return FALSE;
  return rpc_call_header (call)->proc == PROC_DOMAIN_RESET ? domain_reset (dom, error) : domain_reboot (dom, error);
}

static gboolean
p_suspend (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  if (!get_dom (call, r, &dom, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_SUSPEND)
    domain_suspend (dom, reply_done, rpc_call_defer (call));
  else
    domain_resume (dom, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_open_console (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  g_autofree char *dev = NULL;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !xdr_get_opt_string (r, RPC_STRING_MAX, &dev, error)
      || !proc_get_flags (r, &flags, error) || !proc_end (r, error))
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
  { PROC_CONNECT_LIST_ALL_DOMAINS, "CONNECT_LIST_ALL_DOMAINS", 0, p_list_all_domains },
  { PROC_CONNECT_NUM_OF_DOMAINS, "CONNECT_NUM_OF_DOMAINS", 0, p_num_of_domains },
  { PROC_CONNECT_LIST_DOMAINS, "CONNECT_LIST_DOMAINS", 0, p_list_domains },
  { PROC_CONNECT_NUM_OF_DEFINED_DOMAINS, "CONNECT_NUM_OF_DEFINED_DOMAINS", 0, p_num_of_defined_domains },
  { PROC_CONNECT_LIST_DEFINED_DOMAINS, "CONNECT_LIST_DEFINED_DOMAINS", 0, p_list_defined_domains },
  { PROC_DOMAIN_LOOKUP_BY_NAME, "DOMAIN_LOOKUP_BY_NAME", 0, p_lookup_by_name },
  { PROC_DOMAIN_LOOKUP_BY_UUID, "DOMAIN_LOOKUP_BY_UUID", 0, p_lookup_by_uuid },
  { PROC_DOMAIN_LOOKUP_BY_ID, "DOMAIN_LOOKUP_BY_ID", 0, p_lookup_by_id },
  { PROC_DOMAIN_GET_STATE, "DOMAIN_GET_STATE", 0, p_get_state },
  { PROC_DOMAIN_GET_INFO, "DOMAIN_GET_INFO", 0, p_get_info },
  { PROC_DOMAIN_GET_XML_DESC, "DOMAIN_GET_XML_DESC", 0, p_get_xml_desc },
  { PROC_DOMAIN_IS_ACTIVE, "DOMAIN_IS_ACTIVE", 0, p_is_active },
  { PROC_DOMAIN_IS_PERSISTENT, "DOMAIN_IS_PERSISTENT", 0, p_is_persistent },
  { PROC_DOMAIN_IS_UPDATED, "DOMAIN_IS_UPDATED", 0, p_dom_zero },
  { PROC_DOMAIN_GET_AUTOSTART, "DOMAIN_GET_AUTOSTART", 0, p_get_autostart },
  { PROC_DOMAIN_GET_SECURITY_LABEL, "DOMAIN_GET_SECURITY_LABEL", 0, p_get_security_label },
  { PROC_DOMAIN_SET_AUTOSTART, "DOMAIN_SET_AUTOSTART", W, p_set_autostart },
  { PROC_DOMAIN_GET_OS_TYPE, "DOMAIN_GET_OS_TYPE", 0, p_get_os_type },
  { PROC_DOMAIN_GET_MAX_MEMORY, "DOMAIN_GET_MAX_MEMORY", 0, p_get_max_memory },
  { PROC_DOMAIN_GET_MAX_VCPUS, "DOMAIN_GET_MAX_VCPUS", 0, p_get_max_vcpus },
  { PROC_DOMAIN_GET_VCPUS_FLAGS, "DOMAIN_GET_VCPUS_FLAGS", 0, p_get_vcpus_flags },
  { PROC_DOMAIN_SNAPSHOT_NUM, "DOMAIN_SNAPSHOT_NUM", 0, p_dom_flags_zero },
  { PROC_DOMAIN_HAS_CURRENT_SNAPSHOT, "DOMAIN_HAS_CURRENT_SNAPSHOT", 0, p_dom_flags_zero },
  { PROC_DOMAIN_SNAPSHOT_LIST_NAMES, "DOMAIN_SNAPSHOT_LIST_NAMES", 0, p_snapshot_list_names },
  { PROC_DOMAIN_LIST_ALL_SNAPSHOTS, "DOMAIN_LIST_ALL_SNAPSHOTS", 0, p_list_all_snapshots },
  { PROC_DOMAIN_GET_MESSAGES, "DOMAIN_GET_MESSAGES", 0, p_get_messages },
  { PROC_DOMAIN_DEFINE_XML, "DOMAIN_DEFINE_XML", W, p_define_xml },
  { PROC_DOMAIN_DEFINE_XML_FLAGS, "DOMAIN_DEFINE_XML_FLAGS", W, p_define_xml },
  { PROC_DOMAIN_UNDEFINE, "DOMAIN_UNDEFINE", W, p_undefine },
  { PROC_DOMAIN_UNDEFINE_FLAGS, "DOMAIN_UNDEFINE_FLAGS", W, p_undefine },
  { PROC_DOMAIN_CREATE, "DOMAIN_CREATE", W, p_create },
  { PROC_DOMAIN_CREATE_WITH_FLAGS, "DOMAIN_CREATE_WITH_FLAGS", W, p_create },
  { PROC_DOMAIN_CREATE_XML, "DOMAIN_CREATE_XML", W, p_create_xml },
  { PROC_DOMAIN_DESTROY, "DOMAIN_DESTROY", W, p_destroy },
  { PROC_DOMAIN_DESTROY_FLAGS, "DOMAIN_DESTROY_FLAGS", W, p_destroy },
  { PROC_DOMAIN_SHUTDOWN, "DOMAIN_SHUTDOWN", W, p_shutdown },
  { PROC_DOMAIN_SHUTDOWN_FLAGS, "DOMAIN_SHUTDOWN_FLAGS", W, p_shutdown },
  { PROC_DOMAIN_REBOOT, "DOMAIN_REBOOT", W, p_reboot },
  { PROC_DOMAIN_RESET, "DOMAIN_RESET", W, p_reboot },
  { PROC_DOMAIN_SUSPEND, "DOMAIN_SUSPEND", W, p_suspend },
  { PROC_DOMAIN_RESUME, "DOMAIN_RESUME", W, p_suspend },
  { PROC_DOMAIN_OPEN_CONSOLE, "DOMAIN_OPEN_CONSOLE", W, p_open_console },
};
const gsize procedures_domain_count = G_N_ELEMENTS (procedures_domain);
