/* Save and restore procedures: virsh save/restore (the old flag-less calls
 * and the _FLAGS ones), save-image-dumpxml, and managed save. */
#include "procedures.h"
#include "domain-save.h"

#include <glib/gi18n.h>

#define W PROC_FLAG_WRITE

static void
reply_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  rpc_call_complete (call, NULL, error);
  rpc_call_unref (call);
}

static gboolean
save (RpcCall *call, const remote_nonnull_domain *ref, const char *to, const char *dxml, guint32 flags,
      GError **error)
{
  DomainObj *dom = proc_domain (call, ref, error);
  if (!dom)
    return FALSE;
  domain_save (dom, to, dxml, flags, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_save (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_save_args *args = argp;
  return save (call, &args->dom, args->to, NULL, 0, error);
}

static gboolean
p_save_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_save_flags_args *args = argp;
  return save (call, &args->dom, args->to, args->dxml ? *args->dxml : NULL, args->flags, error);
}

static gboolean
restore (RpcCall *call, const char *from, const char *dxml, guint32 flags, GError **error)
{
  RpcCall *deferred = rpc_call_defer (call);
  if (!domain_restore (DAEMON (call), from, dxml, flags, reply_done, deferred, error))
    {
      rpc_call_unref (deferred);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_restore (RpcCall *call, void *argp, void *retp, GError **error)
{
  return restore (call, ((const remote_domain_restore_args *) argp)->from, NULL, 0, error);
}

static gboolean
p_restore_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_restore_flags_args *args = argp;
  return restore (call, args->from, args->dxml ? *args->dxml : NULL, args->flags, error);
}

static gboolean
p_save_image_get_xml_desc (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_save_image_get_xml_desc_args *args = argp;
  char *xml = domain_save_image_xml (args->file, error);
  ((remote_xml_ret *) retp)->xml = xml;
  return xml != NULL;
}

static gboolean
p_managed_save (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  domain_managed_save (dom, args->flags, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_has_managed_save_image (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  if (!dom)
    return FALSE;
  ((remote_num_ret *) retp)->num = domain_has_managed_save (dom);
  return TRUE;
}

static gboolean
p_managed_save_remove (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_flags_args *args = argp;
  DomainObj *dom = proc_domain (call, &args->dom, error);
  return dom && domain_managed_save_remove (dom, error);
}

const RpcProcedure procedures_save[] = {
  PROC_ROW (DOMAIN_SAVE, W, remote_domain_save_args, rpc_void, p_save),
  PROC_ROW (DOMAIN_SAVE_FLAGS, W, remote_domain_save_flags_args, rpc_void, p_save_flags),
  PROC_ROW (DOMAIN_RESTORE, W, remote_domain_restore_args, rpc_void, p_restore),
  PROC_ROW (DOMAIN_RESTORE_FLAGS, W, remote_domain_restore_flags_args, rpc_void, p_restore_flags),
  PROC_ROW (DOMAIN_SAVE_IMAGE_GET_XML_DESC, W, remote_domain_save_image_get_xml_desc_args, remote_xml_ret,
            p_save_image_get_xml_desc),
  PROC_ROW (DOMAIN_MANAGED_SAVE, W, remote_domain_flags_args, rpc_void, p_managed_save),
  PROC_ROW (DOMAIN_HAS_MANAGED_SAVE_IMAGE, 0, remote_domain_flags_args, remote_num_ret, p_has_managed_save_image),
  PROC_ROW (DOMAIN_MANAGED_SAVE_REMOVE, W, remote_domain_flags_args, rpc_void, p_managed_save_remove),
};
const gsize procedures_save_count = G_N_ELEMENTS (procedures_save);
