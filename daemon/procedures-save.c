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
p_save (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  g_autofree char *to = NULL, *dxml = NULL;
  guint32 flags = 0;
  if (!proc_get_domain (call, r, &dom, error) || !xdr_get_string (r, RPC_STRING_MAX, &to, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_SAVE_FLAGS
      && (!xdr_get_opt_string (r, RPC_STRING_MAX, &dxml, error) || !proc_get_flags (r, &flags, error)))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  domain_save (dom, to, dxml, flags, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_restore (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *from = NULL, *dxml = NULL;
  guint32 flags = 0;
  if (!xdr_get_string (r, RPC_STRING_MAX, &from, error))
    return FALSE;
  if (rpc_call_header (call)->proc == PROC_DOMAIN_RESTORE_FLAGS
      && (!xdr_get_opt_string (r, RPC_STRING_MAX, &dxml, error) || !proc_get_flags (r, &flags, error)))
    return FALSE;
  if (!proc_end (r, error))
    return FALSE;
  RpcCall *deferred = rpc_call_defer (call);
  if (!domain_restore (DAEMON (call), from, dxml, flags, reply_done, deferred, error))
    {
      rpc_call_unref (deferred);
      return FALSE;
    }
  return TRUE;
}

static gboolean
p_save_image_get_xml_desc (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  g_autofree char *file = NULL;
  guint32 flags;
  if (!xdr_get_string (r, RPC_STRING_MAX, &file, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  g_autofree char *xml = domain_save_image_xml (file, error);
  if (!xml)
    return FALSE;
  xdr_put_string (ret, xml);
  return TRUE;
}

static gboolean
p_managed_save (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  domain_managed_save (dom, flags, reply_done, rpc_call_defer (call));
  return TRUE;
}

static gboolean
p_has_managed_save_image (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  xdr_put_i32 (ret, domain_has_managed_save (dom));
  return TRUE;
}

static gboolean
p_managed_save_remove (RpcCall *call, XdrReader *r, GByteArray *ret, GError **error)
{
  DomainObj *dom;
  guint32 flags;
  if (!proc_get_domain (call, r, &dom, error) || !proc_get_flags (r, &flags, error)
      || !proc_end (r, error))
    return FALSE;
  return domain_managed_save_remove (dom, error);
}

const RpcProcedure procedures_save[] = {
  { PROC_DOMAIN_SAVE, "DOMAIN_SAVE", W, p_save },
  { PROC_DOMAIN_SAVE_FLAGS, "DOMAIN_SAVE_FLAGS", W, p_save },
  { PROC_DOMAIN_RESTORE, "DOMAIN_RESTORE", W, p_restore },
  { PROC_DOMAIN_RESTORE_FLAGS, "DOMAIN_RESTORE_FLAGS", W, p_restore },
  { PROC_DOMAIN_SAVE_IMAGE_GET_XML_DESC, "DOMAIN_SAVE_IMAGE_GET_XML_DESC", W, p_save_image_get_xml_desc },
  { PROC_DOMAIN_MANAGED_SAVE, "DOMAIN_MANAGED_SAVE", W, p_managed_save },
  { PROC_DOMAIN_HAS_MANAGED_SAVE_IMAGE, "DOMAIN_HAS_MANAGED_SAVE_IMAGE", 0, p_has_managed_save_image },
  { PROC_DOMAIN_MANAGED_SAVE_REMOVE, "DOMAIN_MANAGED_SAVE_REMOVE", W, p_managed_save_remove },
};
const gsize procedures_save_count = G_N_ELEMENTS (procedures_save);
