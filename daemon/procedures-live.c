/* Per-domain procedures that the running VMM answers: disk and network
 * I/O statistics (domblkstat, domifstat, virt-manager's graphs), growing a disk
 * (blockresize), keys (send-key) and screenshots (screenshot, whose
 * image travels over a stream). */
#include "procedures.h"
#include "domain-live.h"
#include "keycodes.h"

#include <glib/gi18n.h>

#define W PROC_FLAG_WRITE

/* virTypedParameterFlags: STRING_OKAY, which clients set freely. */
#define TYPED_PARAM_STRING_OKAY 4u
/* virDomainBlockResizeFlags */
#define BLOCK_RESIZE_BYTES 1u
/* virTypedParameterType: LLONG */
#define PARAM_LLONG 3

#define ARG_DOM(call, argp) proc_domain ((call), (const remote_nonnull_domain *) (argp), error)

static gboolean
check_flags (guint32 flags, guint32 known, const char *func, GError **error)
{
  if (flags & ~known)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("unsupported flags (0x%x) in function %s"),
                   flags & ~known, func);
      return FALSE;
    }
  return TRUE;
}

/* ---- block statistics ---- */

static void
block_stats_done (DomainObj *dom, const DomainBlockStats *st, const GError *error, gpointer data)
{
  RpcCall *call = data;
  remote_domain_block_stats_ret ret = { 0 };
  if (st)
    {
      ret.rd_req = (gint64) st->rd_req;
      ret.rd_bytes = (gint64) st->rd_bytes;
      ret.wr_req = (gint64) st->wr_req;
      ret.wr_bytes = (gint64) st->wr_bytes;
      ret.errs = (gint64) st->errs;
    }
  rpc_call_complete (call, st ? &ret : NULL, error);
  rpc_call_unref (call);
}

static gboolean
p_block_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_block_stats_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  domain_block_stats (dom, args->path, block_stats_done, rpc_call_defer (call));
  return TRUE;
}

/* The typed parameters of virDomainBlockStatsFlags, in libvirt's order. */
#define BLOCK_STATS_NPARAMS 9

typedef struct {
  RpcCall *call;
  int nparams;
} StatsFlagsJob;

static void
block_stats_flags_done (DomainObj *dom, const DomainBlockStats *st, const GError *error, gpointer data)
{
  StatsFlagsJob *job = data;
  RpcCall *call = job->call;
  int want = job->nparams;
  g_free (job);
  remote_domain_block_stats_flags_ret ret = { 0 };
  if (st)
    {
      const struct { const char *field; guint64 v; } all[BLOCK_STATS_NPARAMS] = {
        { "rd_operations", st->rd_req }, { "rd_bytes", st->rd_bytes }, { "rd_total_times", st->rd_ns },
        { "wr_operations", st->wr_req }, { "wr_bytes", st->wr_bytes }, { "wr_total_times", st->wr_ns },
        { "flush_operations", st->flush_req }, { "flush_total_times", st->flush_ns }, { "errs", st->errs },
      };
      /* nparams 0 asks how many there are. */
      int n = want == 0 ? 0 : MIN (want, BLOCK_STATS_NPARAMS);
      ret.nparams = want == 0 ? BLOCK_STATS_NPARAMS : n;
      ret.params.params_len = n;
      ret.params.params_val = n ? g_new0 (remote_typed_param, n) : NULL;
      for (int i = 0; i < n; i++)
        {
          ret.params.params_val[i].field = g_strdup (all[i].field);
          ret.params.params_val[i].value.type = PARAM_LLONG;
          ret.params.params_val[i].value.remote_typed_param_value_u.l = (gint64) MIN (all[i].v, (guint64) G_MAXINT64);
        }
    }
  rpc_call_complete (call, st ? &ret : NULL, error);
  rpc_marshal_free ((xdrproc_t) xdr_remote_domain_block_stats_flags_ret, &ret);
  rpc_call_unref (call);
}

static gboolean
p_block_stats_flags (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_block_stats_flags_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, TYPED_PARAM_STRING_OKAY, "virDomainBlockStatsFlags", error))
    return FALSE;
  if (args->nparams < 0 || args->nparams > REMOTE_DOMAIN_BLOCK_STATS_PARAMETERS_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_RPC, _("nparams too large"));
      return FALSE;
    }
  StatsFlagsJob *job = g_new0 (StatsFlagsJob, 1);
  job->call = rpc_call_defer (call);
  job->nparams = args->nparams;
  domain_block_stats (dom, args->path, block_stats_flags_done, job);
  return TRUE;
}

/* ---- interface statistics ---- */

static void
interface_stats_done (DomainObj *dom, const DomainInterfaceStats *st, const GError *error, gpointer data)
{
  RpcCall *call = data;
  remote_domain_interface_stats_ret ret = { 0 };
  if (st)
    {
      ret.rx_bytes = (gint64) st->rx_bytes;
      ret.rx_packets = (gint64) st->rx_packets;
      ret.rx_drop = (gint64) st->rx_drop;
      ret.tx_bytes = (gint64) st->tx_bytes;
      ret.tx_packets = (gint64) st->tx_packets;
    }
  rpc_call_complete (call, st ? &ret : NULL, error);
  rpc_call_unref (call);
}

static gboolean
p_interface_stats (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_interface_stats_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom)
    return FALSE;
  domain_interface_stats (dom, args->path, interface_stats_done, rpc_call_defer (call));
  return TRUE;
}

/* ---- growing a disk ---- */

static void
void_done (DomainObj *dom, const GError *error, gpointer data)
{
  RpcCall *call = data;
  rpc_call_complete (call, NULL, error);
  rpc_call_unref (call);
}

static gboolean
p_block_resize (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_block_resize_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, BLOCK_RESIZE_BYTES, "virDomainBlockResize", error))
    return FALSE;
  guint64 bytes = args->size;
  if (!(args->flags & BLOCK_RESIZE_BYTES))
    {
      if (bytes > G_MAXUINT64 / 1024)
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("size %llu KiB is too large"),
                       (unsigned long long) bytes);
          return FALSE;
        }
      bytes *= 1024;
    }
  /* As libvirt's QEMU driver: up to whole sectors. */
  if (bytes % 512)
    bytes += 512 - bytes % 512;
  if (bytes == 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: a disk cannot be 0 bytes"));
      return FALSE;
    }
  domain_block_resize (dom, args->disk, bytes, void_done, rpc_call_defer (call));
  return TRUE;
}

/* ---- keys ---- */

static gboolean
p_send_key (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_send_key_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, 0, "virDomainSendKey", error))
    return FALSE;
  guint n = args->keycodes.keycodes_len;
  if (n == 0 || n > REMOTE_DOMAIN_SEND_KEY_MAX)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: between 1 and %d keys must be sent, not %u"), REMOTE_DOMAIN_SEND_KEY_MAX, n);
      return FALSE;
    }
  if (!keycode_set_supported (args->codeset))
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_ARGUMENT_UNSUPPORTED,
                   _("Argument unsupported: key code set %u is not supported (use linux, xt, atset1, xt_kbd, "
                     "usb, win32 or qnum)"), args->codeset);
      return FALSE;
    }
  guint qnums[REMOTE_DOMAIN_SEND_KEY_MAX];
  for (guint i = 0; i < n; i++)
    {
      guint code = args->keycodes.keycodes_val[i];
      qnums[i] = keycode_to_qnum (args->codeset, code);
      if (!qnums[i])
        {
          g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                       _("invalid argument: key code %u of set %u has no key on a PC keyboard"), code, args->codeset);
          return FALSE;
        }
    }
  if (args->holdtime > 60000)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG,
                   _("invalid argument: hold time %u ms is longer than a minute"), args->holdtime);
      return FALSE;
    }
  domain_send_keys (dom, qnums, n, args->holdtime, void_done, rpc_call_defer (call));
  return TRUE;
}

/* ---- screenshots ---- */

/* The image is sent whole at once; the client only finishes or aborts. */
static const RpcStreamOps screenshot_stream_ops = { 0 };

static void
screenshot_done (DomainObj *dom, GBytes *png, const GError *error, gpointer data)
{
  RpcCall *call = data;
  if (!png)
    {
      rpc_call_complete (call, NULL, error);
      rpc_call_unref (call);
      return;
    }
  remote_domain_screenshot_ret ret = { 0 };
  ret.mime = g_new0 (char *, 1);
  *ret.mime = g_strdup ("image/png");
  rpc_call_complete (call, &ret, NULL);
  rpc_marshal_free ((xdrproc_t) xdr_remote_domain_screenshot_ret, &ret);
  /* The reply is queued: the data follows on the call's stream (unless
   * the client went away meanwhile: its streams are already closed). */
  if (rpc_client_is_gone (rpc_call_client (call)))
    {
      rpc_call_unref (call);
      return;
    }
  RpcStream *s = rpc_stream_new (call, &screenshot_stream_ops, NULL);
  gsize len;
  const guint8 *bytes = g_bytes_get_data (png, &len);
  rpc_stream_send_data (s, bytes, len);
  rpc_stream_send_eof (s);
  rpc_call_unref (call);
}

static gboolean
p_screenshot (RpcCall *call, void *argp, void *retp, GError **error)
{
  const remote_domain_screenshot_args *args = argp;
  DomainObj *dom = ARG_DOM (call, argp);
  if (!dom || !check_flags (args->flags, 0, "virDomainScreenshot", error))
    return FALSE;
  if (args->screen != 0)
    {
      g_set_error (error, VIRT_ERROR, VIR_ERR_INVALID_ARG, _("invalid argument: the domain has only screen 0, not %u"),
                   args->screen);
      return FALSE;
    }
  domain_screenshot (dom, screenshot_done, rpc_call_defer (call));
  return TRUE;
}

const RpcProcedure procedures_live[] = {
  PROC_ROW (DOMAIN_BLOCK_STATS, 0, remote_domain_block_stats_args, remote_domain_block_stats_ret, p_block_stats),
  PROC_ROW (DOMAIN_BLOCK_STATS_FLAGS, 0, remote_domain_block_stats_flags_args, remote_domain_block_stats_flags_ret,
            p_block_stats_flags),
  PROC_ROW (DOMAIN_INTERFACE_STATS, 0, remote_domain_interface_stats_args, remote_domain_interface_stats_ret,
            p_interface_stats),
  PROC_ROW (DOMAIN_BLOCK_RESIZE, W, remote_domain_block_resize_args, rpc_void, p_block_resize),
  PROC_ROW (DOMAIN_SEND_KEY, W, remote_domain_send_key_args, rpc_void, p_send_key),
  PROC_ROW (DOMAIN_SCREENSHOT, W, remote_domain_screenshot_args, remote_domain_screenshot_ret, p_screenshot),
};
const gsize procedures_live_count = G_N_ELEMENTS (procedures_live);
