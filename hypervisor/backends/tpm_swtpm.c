#include "tpm_swtpm.h"

#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <swtpm/tpm_ioctl.h>

/* Control commands answer at once; TPM commands may generate keys. */
#define CTRL_TIMEOUT_MS 10000
#define DATA_TIMEOUT_MS 120000
#define TPM_HEADER_SIZE 10
#define STATE_BLOB_MAX (16u << 20)
#define TPM_RETRY_RESULT 0x800

static const uint32_t blob_types[] = {
    PTM_BLOB_TYPE_PERMANENT, PTM_BLOB_TYPE_VOLATILE, PTM_BLOB_TYPE_SAVESTATE,
};

struct swtpm {
    struct tpm_backend base;
    char *path;
    int ctrl, data;
    int locality;           /* as last set, or -1 */
    GMutex lock;            /* one exchange at a time on either channel */
};

static bool io_error(GError **error, struct swtpm *sw, const char *what, int err)
{
    g_set_error(error, G_IO_ERROR, g_io_error_from_errno(err),
                _("swtpm at %s: %s: %s"), sw->path, what,
                err ? g_strerror(err) : _("connection closed"));
    return false;
}

static bool wait_fd(int fd, short events, int timeout_ms)
{
    struct pollfd p = { .fd = fd, .events = events };
    for (;;) {
        int n = poll(&p, 1, timeout_ms);
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0)
            errno = ETIMEDOUT;
        return n > 0;
    }
}

static bool read_full(struct swtpm *sw, int fd, void *buf, size_t len, int timeout_ms,
                      const char *what, GError **error)
{
    uint8_t *p = buf;
    while (len) {
        if (!wait_fd(fd, POLLIN, timeout_ms))
            return io_error(error, sw, what, errno);
        ssize_t n = read(fd, p, len);
        if (n < 0 && (errno == EINTR || errno == EAGAIN))
            continue;
        if (n <= 0)
            return io_error(error, sw, what, n < 0 ? errno : 0);
        p += n, len -= (size_t)n;
    }
    return true;
}

static bool write_full(struct swtpm *sw, int fd, const void *buf, size_t len, int pass_fd,
                       const char *what, GError **error)
{
    const uint8_t *p = buf;
    while (len) {
        struct iovec iov = { .iov_base = (void *)p, .iov_len = len };
        char control[CMSG_SPACE(sizeof(int))];
        struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
        if (pass_fd >= 0) {
            memset(control, 0, sizeof control);
            msg.msg_control = control;
            msg.msg_controllen = sizeof control;
            struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
            c->cmsg_level = SOL_SOCKET;
            c->cmsg_type = SCM_RIGHTS;
            c->cmsg_len = CMSG_LEN(sizeof(int));
            memcpy(CMSG_DATA(c), &pass_fd, sizeof(int));
        }
        ssize_t n = sendmsg(fd, &msg, MSG_NOSIGNAL);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return io_error(error, sw, what, n < 0 ? errno : 0);
        pass_fd = -1;       /* the descriptor went with the first bytes */
        p += n, len -= (size_t)n;
    }
    return true;
}

static const char *command_name(uint32_t cmd)
{
    switch (cmd) {
    case CMD_GET_CAPABILITY: return "CMD_GET_CAPABILITY";
    case CMD_INIT: return "CMD_INIT";
    case CMD_STOP: return "CMD_STOP";
    case CMD_SET_LOCALITY: return "CMD_SET_LOCALITY";
    case CMD_SET_DATAFD: return "CMD_SET_DATAFD";
    case CMD_SET_BUFFERSIZE: return "CMD_SET_BUFFERSIZE";
    case CMD_GET_STATEBLOB: return "CMD_GET_STATEBLOB";
    case CMD_SET_STATEBLOB: return "CMD_SET_STATEBLOB";
    default: return "control command";
    }
}

static bool result_error(struct swtpm *sw, uint32_t cmd, uint32_t res, GError **error);

/* Send cmd with its request body; read resp_len bytes of response whose
 * first word (unless it is the capability word) is the TPM result. */
static bool ctrl_unchecked(struct swtpm *sw, uint32_t cmd, const void *req, size_t req_len,
                           int pass_fd, void *resp, size_t resp_len, GError **error)
{
    const char *what = command_name(cmd);
    g_autofree uint8_t *msg = g_malloc(4 + req_len);
    uint32_t be = htobe32(cmd);
    memcpy(msg, &be, 4);
    if (req_len)
        memcpy(msg + 4, req, req_len);
    if (!write_full(sw, sw->ctrl, msg, 4 + req_len, pass_fd, what, error) ||
        !read_full(sw, sw->ctrl, resp, resp_len, CTRL_TIMEOUT_MS, what, error))
        return false;
    return true;
}

static bool result_error(struct swtpm *sw, uint32_t cmd, uint32_t res, GError **error)
{
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED,
                _("swtpm at %s: %s failed with TPM result 0x%x"), sw->path,
                command_name(cmd), res);
    return false;
}

static bool ctrl(struct swtpm *sw, uint32_t cmd, const void *req, size_t req_len, int pass_fd,
                 void *resp, size_t resp_len, GError **error)
{
    if (!ctrl_unchecked(sw, cmd, req, req_len, pass_fd, resp, resp_len, error))
        return false;
    uint32_t res;
    memcpy(&res, resp, 4);
    if (cmd != CMD_GET_CAPABILITY && be32toh(res) != 0)
        return result_error(sw, cmd, be32toh(res), error);
    return true;
}

static bool ctrl_simple(struct swtpm *sw, uint32_t cmd, const void *req, size_t req_len,
                        GError **error)
{
    uint32_t res;
    return ctrl(sw, cmd, req, req_len, -1, &res, sizeof res, error);
}

static bool set_buffer_size(struct swtpm *sw, size_t size, GError **error)
{
    uint32_t req = htobe32((uint32_t)size);
    uint32_t resp[4];       /* result, buffer size, minimum, maximum */
    if (!ctrl(sw, CMD_SET_BUFFERSIZE, &req, sizeof req, -1, resp, sizeof resp, error))
        return false;
    if (be32toh(resp[1]) < size) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("swtpm at %s: buffer size %u is smaller than the %zu the interface needs"),
                    sw->path, be32toh(resp[1]), size);
        return false;
    }
    return true;
}

static bool init_tpm(struct swtpm *sw, GError **error)
{
    uint32_t flags = htobe32(PTM_INIT_FLAG_DELETE_VOLATILE);
    if (!ctrl_simple(sw, CMD_INIT, &flags, sizeof flags, error))
        return false;
    sw->locality = -1;
    return true;
}

static bool swtpm_startup(struct tpm_backend *be, size_t buffer_size, GError **error)
{
    struct swtpm *sw = (struct swtpm *)be;
    g_mutex_lock(&sw->lock);
    /* The buffer size can only change while the TPM is stopped. */
    bool ok = ctrl_simple(sw, CMD_STOP, NULL, 0, error) &&
              set_buffer_size(sw, buffer_size, error) &&
              init_tpm(sw, error);
    g_mutex_unlock(&sw->lock);
    return ok;
}

static bool swtpm_transmit(struct tpm_backend *be, uint8_t locality, const uint8_t *cmd,
                           size_t len, uint8_t *resp, size_t resp_max, size_t *resp_len,
                           GError **error)
{
    struct swtpm *sw = (struct swtpm *)be;
    bool ok = false;
    g_mutex_lock(&sw->lock);
    if (sw->locality != locality) {
        if (!ctrl_simple(sw, CMD_SET_LOCALITY, &locality, 1, error))
            goto out;
        sw->locality = locality;
    }
    if (!write_full(sw, sw->data, cmd, len, -1, _("sending a TPM command"), error) ||
        !read_full(sw, sw->data, resp, TPM_HEADER_SIZE, DATA_TIMEOUT_MS,
                   _("reading a TPM response"), error))
        goto out;
    uint32_t size;
    memcpy(&size, resp + 2, 4);
    size = be32toh(size);
    if (size < TPM_HEADER_SIZE || size > resp_max) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                    _("swtpm at %s: a response of %u bytes does not fit the %zu-byte buffer"),
                    sw->path, size, resp_max);
        goto out;
    }
    if (!read_full(sw, sw->data, resp + TPM_HEADER_SIZE, size - TPM_HEADER_SIZE,
                   DATA_TIMEOUT_MS, _("reading a TPM response"), error))
        goto out;
    *resp_len = size;
    ok = true;
out:
    g_mutex_unlock(&sw->lock);
    return ok;
}

/* The three blobs, each as type, flags, length and bytes (big-endian). */
static GBytes *swtpm_get_state(struct tpm_backend *be, GError **error)
{
    struct swtpm *sw = (struct swtpm *)be;
    g_autoptr(GByteArray) out = g_byte_array_new();
    bool ok = true;
    g_mutex_lock(&sw->lock);
    for (unsigned i = 0; ok && i < G_N_ELEMENTS(blob_types); i++) {
        uint32_t req[3] = { 0, htobe32(blob_types[i]), 0 };   /* flags, type, offset */
        uint32_t head[4];   /* result, flags, total length, length */
        ok = ctrl_unchecked(sw, CMD_GET_STATEBLOB, req, sizeof req, -1, head, sizeof head, error);
        if (!ok)
            break;
        /* A blob the TPM does not have (no save-state before a
         * TPM2_Shutdown(STATE)) answers TPM_RETRY: it is left out. */
        if (be32toh(head[0]) == TPM_RETRY_RESULT)
            continue;
        if (head[0] != 0) {
            ok = result_error(sw, CMD_GET_STATEBLOB, be32toh(head[0]), error);
            break;
        }
        uint32_t len = be32toh(head[3]);
        if (len > STATE_BLOB_MAX || len != be32toh(head[2])) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                        _("swtpm at %s: a state blob of %u bytes"), sw->path, len);
            ok = false;
            break;
        }
        uint32_t rec[3] = { htobe32(blob_types[i]), head[1], head[3] };
        g_byte_array_append(out, (const guint8 *)rec, sizeof rec);
        guint at = out->len;
        g_byte_array_set_size(out, at + len);
        ok = read_full(sw, sw->ctrl, out->data + at, len, CTRL_TIMEOUT_MS,
                       command_name(CMD_GET_STATEBLOB), error);
    }
    g_mutex_unlock(&sw->lock);
    return ok ? g_byte_array_free_to_bytes(g_steal_pointer(&out)) : NULL;
}

static bool swtpm_set_state(struct tpm_backend *be, GBytes *state, size_t buffer_size,
                            GError **error)
{
    struct swtpm *sw = (struct swtpm *)be;
    gsize left;
    const uint8_t *p = g_bytes_get_data(state, &left);
    g_mutex_lock(&sw->lock);
    bool ok = ctrl_simple(sw, CMD_STOP, NULL, 0, error) &&
              set_buffer_size(sw, buffer_size, error);
    while (ok && left) {
        uint32_t rec[3];
        if (left < sizeof rec)
            goto bad;
        memcpy(rec, p, sizeof rec);
        uint32_t len = be32toh(rec[2]);
        if (len > left - sizeof rec)
            goto bad;
        /* ptm_setstate's request: flags, type, length, then the blob. */
        g_autofree uint8_t *req = g_malloc(sizeof rec + len);
        uint32_t head[3] = { rec[1], rec[0], rec[2] };
        memcpy(req, head, sizeof head);
        memcpy(req + sizeof head, p + sizeof rec, len);
        ok = ctrl_simple(sw, CMD_SET_STATEBLOB, req, sizeof head + len, error);
        p += sizeof rec + len, left -= sizeof rec + len;
    }
    ok = ok && init_tpm(sw, error);
    g_mutex_unlock(&sw->lock);
    return ok;
bad:
    g_mutex_unlock(&sw->lock);
    g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                _("The saved TPM state is damaged"));
    return false;
}

static void swtpm_free(struct tpm_backend *be)
{
    struct swtpm *sw = (struct swtpm *)be;
    if (sw->ctrl >= 0)
        close(sw->ctrl);
    if (sw->data >= 0)
        close(sw->data);
    g_mutex_clear(&sw->lock);
    g_free(sw->path);
    g_free(sw);
}

static const struct tpm_backend_ops swtpm_ops = {
    .startup = swtpm_startup,
    .transmit = swtpm_transmit,
    .get_state = swtpm_get_state,
    .set_state = swtpm_set_state,
    .free = swtpm_free,
};

struct tpm_backend *tpm_swtpm_connect(const char *ctrl_path, GError **error)
{
    struct swtpm *sw = g_new0(struct swtpm, 1);
    sw->base.ops = &swtpm_ops;
    sw->path = g_strdup(ctrl_path);
    sw->ctrl = sw->data = -1;
    sw->locality = -1;
    g_mutex_init(&sw->lock);

    struct sockaddr_un addr = { .sun_family = AF_UNIX };
    if (strlen(ctrl_path) >= sizeof addr.sun_path) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_FILENAME,
                    _("The swtpm socket path %s is too long"), ctrl_path);
        goto fail;
    }
    strcpy(addr.sun_path, ctrl_path);
    sw->ctrl = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (sw->ctrl < 0 || connect(sw->ctrl, (struct sockaddr *)&addr, sizeof addr) < 0) {
        io_error(error, sw, _("cannot connect"), errno);
        goto fail;
    }

    uint64_t caps;
    if (!ctrl(sw, CMD_GET_CAPABILITY, NULL, 0, -1, &caps, sizeof caps, error))
        goto fail;
    caps = be64toh(caps);
    const uint64_t needed = PTM_CAP_INIT | PTM_CAP_STOP | PTM_CAP_SET_LOCALITY |
                            PTM_CAP_SET_DATAFD | PTM_CAP_SET_BUFFERSIZE |
                            PTM_CAP_GET_STATEBLOB | PTM_CAP_SET_STATEBLOB;
    if ((caps & needed) != needed) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("swtpm at %s lacks control commands the TPM device needs "
                      "(capabilities 0x%" PRIx64 ")"), ctrl_path, caps);
        goto fail;
    }

    int pair[2];
    if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, pair) < 0) {
        io_error(error, sw, _("socketpair"), errno);
        goto fail;
    }
    uint32_t res;
    bool ok = ctrl(sw, CMD_SET_DATAFD, NULL, 0, pair[1], &res, sizeof res, error);
    close(pair[1]);         /* swtpm holds its own copy now */
    sw->data = pair[0];
    if (!ok)
        goto fail;
    return &sw->base;
fail:
    swtpm_free(&sw->base);
    return NULL;
}
