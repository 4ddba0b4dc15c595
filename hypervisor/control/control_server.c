#include "control_server.h"
#include "control_parser.h"
#include "control_balloon.h"
#include "control_block.h"
#include "control_display.h"
#include "control_input.h"
#include "control_media.h"
#include "control_state.h"
#include "control_vm.h"
#include "machine/machine.h"
#include "core/vm_core.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <glib-unix.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

#ifndef ORIEL_VERSION
#define ORIEL_VERSION "0.1.0"
#endif

struct client {
    struct control_server *srv;
    int fd;
    GString *in;
    GString *out;
    GSource *in_source;
    GSource *out_source;
    bool closing;   /* close once out is flushed */
};

struct control_server {
    struct machine *machine;
    char *path;
    int listen_fd;
    GSource *listen_source;
    GList *clients;
};

static void client_free(struct client *c)
{
    if (c->in_source) {
        g_source_destroy(c->in_source);
        g_source_unref(c->in_source);
    }
    if (c->out_source) {
        g_source_destroy(c->out_source);
        g_source_unref(c->out_source);
    }
    close(c->fd);
    g_string_free(c->in, TRUE);
    g_string_free(c->out, TRUE);
    g_free(c);
}

static void client_drop(struct client *c)
{
    c->srv->clients = g_list_remove(c->srv->clients, c);
    client_free(c);
}

static gboolean on_client_out(gint fd, GIOCondition cond, gpointer data);

/* Write what we can; the rest waits for POLLOUT.  Returns false if the
 * client is gone (and freed). */
static bool client_flush(struct client *c)
{
    while (c->out->len) {
        ssize_t n = send(c->fd, c->out->str, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            if (errno == EAGAIN) {
                if (!c->out_source) {
                    c->out_source = g_unix_fd_source_new(c->fd, G_IO_OUT);
                    g_source_set_callback(c->out_source, (GSourceFunc)(void (*)(void))on_client_out,
                                          c, NULL);
                    g_source_attach(c->out_source, NULL);
                }
                return true;
            }
            client_drop(c);
            return false;
        }
        g_string_erase(c->out, 0, n);
    }
    if (c->closing) {
        client_drop(c);
        return false;
    }
    return true;
}

static gboolean on_client_out(gint fd, GIOCondition cond, gpointer data)
{
    struct client *c = data;
    g_source_unref(c->out_source);
    c->out_source = NULL;
    client_flush(c);
    return G_SOURCE_REMOVE;
}

static void client_send_node(struct client *c, JsonNode *node)
{
    g_autoptr(JsonGenerator) gen = json_generator_new();
    json_generator_set_root(gen, node);
    g_autofree char *text = json_generator_to_data(gen, NULL);
    g_string_append(c->out, text);
    g_string_append_c(c->out, '\n');
}

static void send_return(struct client *c, JsonNode *value, JsonNode *id)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "return");
    json_builder_add_value(b, value);
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    client_send_node(c, root);
}

static void send_error(struct client *c, const char *cls, const char *desc, JsonNode *id)
{
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "error");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "class");
    json_builder_add_string_value(b, cls);
    json_builder_set_member_name(b, "desc");
    json_builder_add_string_value(b, desc);
    json_builder_end_object(b);
    if (id) {
        json_builder_set_member_name(b, "id");
        json_builder_add_value(b, json_node_copy(id));
    }
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    client_send_node(c, root);
}

/* Every command: one row each, in CONTROL.md's order.  Commands marked
 * no_args are refused with arguments before their handler runs; the others
 * check their own. */
static const struct control_command {
    const char *name;
    void (*handler)(struct machine *machine, JsonObject *args, struct control_result *res);
    bool no_args;
} commands[] = {
    { "query-status", control_query_status, true },
    { "stop", control_stop, true },
    { "cont", control_cont, true },
    { "system_powerdown", control_system_powerdown, true },
    { "system_reset", control_system_reset, true },
    { "quit", control_quit, true },
    { "query-cpus", control_query_cpus, true },
    { "query-block", control_query_block, true },
    { "query-chardev", control_query_chardev, true },
    { "query-net", control_query_net, true },
    { "screendump", control_screendump, false },
    { "eject", control_eject, false },
    { "change-medium", control_change_medium, false },
    { "save", control_save, false },
    { "query-vnc", control_query_vnc, false },
    { "query-blockstats", control_query_blockstats, true },
    { "block_resize", control_block_resize, false },
    { "send-key", control_send_key, false },
    { "balloon", control_balloon, false },
    { "query-balloon", control_query_balloon, true },
    { "balloon-stats-period", control_balloon_stats_period, false },
};

static void execute(struct client *c, struct control_request *req)
{
    const struct control_command *cmd = NULL;
    for (size_t i = 0; i < G_N_ELEMENTS(commands) && !cmd; i++)
        if (!strcmp(commands[i].name, req->execute))
            cmd = &commands[i];
    if (!cmd) {
        g_autofree char *desc = g_strdup_printf(_("unknown command '%s'"), req->execute);
        send_error(c, "CommandNotFound", desc, req->id);
        return;
    }
    if (cmd->no_args && json_object_get_size(req->arguments) != 0) {
        send_error(c, "InvalidParameter", _("this command takes no arguments"), req->id);
        return;
    }
    struct control_result r = { 0 };
    cmd->handler(c->srv->machine, req->arguments, &r);
    if (r.value)
        send_return(c, r.value, req->id);
    else
        send_error(c, r.error_class, r.error_desc, req->id);
    g_free(r.error_desc);
}

/* Handle one complete line; false when the connection must close. */
static bool handle_line(struct client *c, const char *line, size_t len)
{
    struct control_request req;
    struct control_parse_error err;
    bool fatal;
    if (!control_parse_request(line, len, &req, &err, &fatal)) {
        send_error(c, err.error_class, err.desc, err.id);
        control_parse_error_clear(&err);
        return !fatal;
    }
    execute(c, &req);
    control_request_clear(&req);
    return true;
}

static gboolean on_client_in(gint fd, GIOCondition cond, gpointer data)
{
    struct client *c = data;
    char buf[65536];
    ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
    if (n < 0 && (errno == EINTR || errno == EAGAIN))
        return G_SOURCE_CONTINUE;
    if (n <= 0) {
        g_source_unref(c->in_source);
        c->in_source = NULL;
        client_drop(c);
        return G_SOURCE_REMOVE;
    }
    g_string_append_len(c->in, buf, n);

    size_t start = 0;
    bool keep = true;
    while (keep) {
        char *nl = memchr(c->in->str + start, '\n', c->in->len - start);
        if (!nl)
            break;
        size_t len = (size_t)(nl - (c->in->str + start));
        keep = handle_line(c, c->in->str + start, len);
        start += len + 1;
    }
    g_string_erase(c->in, 0, start);
    if (keep && c->in->len > CONTROL_MAX_LINE) {
        send_error(c, "GenericError", _("message too long"), NULL);
        keep = false;
    }
    if (!keep) {
        /* Stop reading; close once the error reply is out. */
        g_source_unref(c->in_source);
        c->in_source = NULL;
        c->closing = true;
        client_flush(c);
        return G_SOURCE_REMOVE;
    }
    client_flush(c);
    return G_SOURCE_CONTINUE;
}

static void send_greeting(struct client *c)
{
    const struct vmm_options *o = machine_options(c->srv->machine);
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "oriel");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "version");
    json_builder_add_string_value(b, ORIEL_VERSION);
    json_builder_set_member_name(b, "name");
    json_builder_add_string_value(b, o->name ? o->name : "");
    json_builder_set_member_name(b, "pid");
    json_builder_add_int_value(b, getpid());
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);
    client_send_node(c, root);
}

static gboolean on_accept(gint fd, GIOCondition cond, gpointer data)
{
    struct control_server *srv = data;
    int cfd = accept4(fd, NULL, NULL, SOCK_CLOEXEC | SOCK_NONBLOCK);
    if (cfd < 0)
        return G_SOURCE_CONTINUE;
    struct client *c = g_new0(struct client, 1);
    c->srv = srv;
    c->fd = cfd;
    c->in = g_string_new(NULL);
    c->out = g_string_new(NULL);
    c->in_source = g_unix_fd_source_new(cfd, G_IO_IN | G_IO_HUP | G_IO_ERR);
    g_source_set_callback(c->in_source, (GSourceFunc)(void (*)(void))on_client_in, c, NULL);
    g_source_attach(c->in_source, NULL);
    srv->clients = g_list_append(srv->clients, c);
    send_greeting(c);
    client_flush(c);
    return G_SOURCE_CONTINUE;
}

static const char *reason_name(enum vm_shutdown_reason r)
{
    switch (r) {
    case VM_SHUTDOWN_GUEST_POWEROFF: return "guest-shutdown";
    case VM_SHUTDOWN_GUEST_RESET: return "guest-reset";
    case VM_SHUTDOWN_HOST_QUIT: return "host-quit";
    case VM_SHUTDOWN_HOST_SIGNAL: return "host-signal";
    default: return "host-error";
    }
}

static void on_vm_event(void *opaque, const struct vm_event *ev)
{
    struct control_server *srv = opaque;
    g_autoptr(JsonBuilder) b = json_builder_new();
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "event");
    static const char *const names[] = {
        [VM_EVENT_STOP] = "STOP", [VM_EVENT_RESUME] = "RESUME", [VM_EVENT_SHUTDOWN] = "SHUTDOWN",
        [VM_EVENT_RESET] = "RESET", [VM_EVENT_GUEST_PANICKED] = "GUEST_PANICKED",
    };
    json_builder_add_string_value(b, names[ev->kind]);
    json_builder_set_member_name(b, "data");
    json_builder_begin_object(b);
    switch (ev->kind) {
    case VM_EVENT_SHUTDOWN:
        json_builder_set_member_name(b, "guest");
        json_builder_add_boolean_value(b, ev->guest);
        json_builder_set_member_name(b, "reason");
        json_builder_add_string_value(b, reason_name(ev->reason));
        break;
    case VM_EVENT_RESET:
        json_builder_set_member_name(b, "guest");
        json_builder_add_boolean_value(b, ev->guest);
        break;
    case VM_EVENT_GUEST_PANICKED:
        json_builder_set_member_name(b, "action");
        json_builder_add_string_value(b, "pause");
        break;
    default:
        break;
    }
    json_builder_end_object(b);
    gint64 now = g_get_real_time();
    json_builder_set_member_name(b, "timestamp");
    json_builder_begin_object(b);
    json_builder_set_member_name(b, "seconds");
    json_builder_add_int_value(b, now / G_USEC_PER_SEC);
    json_builder_set_member_name(b, "microseconds");
    json_builder_add_int_value(b, now % G_USEC_PER_SEC);
    json_builder_end_object(b);
    json_builder_end_object(b);
    g_autoptr(JsonNode) root = json_builder_get_root(b);

    for (GList *l = srv->clients; l;) {
        struct client *c = l->data;
        l = l->next; /* c may go away in flush */
        if (c->closing)
            continue;
        client_send_node(c, root);
        client_flush(c);
    }
}

struct control_server *control_server_new(struct machine *machine, const char *path, GError **error)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    if (strlen(path) >= sizeof(sa.sun_path)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                    _("The control socket path '%s' is too long"), path);
        return NULL;
    }
    g_strlcpy(sa.sun_path, path, sizeof(sa.sun_path));
    int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    if (fd >= 0) {
        unlink(path);
        if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || listen(fd, 16) < 0) {
            int e = errno;
            close(fd);
            fd = -1;
            errno = e;
        }
    }
    if (fd < 0) {
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(errno),
                    _("Cannot listen on the control socket %s: %s"), path, g_strerror(errno));
        return NULL;
    }
    struct control_server *srv = g_new0(struct control_server, 1);
    srv->machine = machine;
    srv->path = g_strdup(path);
    srv->listen_fd = fd;
    srv->listen_source = g_unix_fd_source_new(fd, G_IO_IN);
    g_source_set_callback(srv->listen_source, (GSourceFunc)(void (*)(void))on_accept, srv, NULL);
    g_source_attach(srv->listen_source, NULL);
    vm_add_event_listener(machine_vm(machine), on_vm_event, srv);
    return srv;
}

void control_server_free(struct control_server *srv)
{
    if (!srv)
        return;
    /* Last words (the SHUTDOWN event, a reply to quit) reach the clients. */
    for (GList *l = srv->clients; l; l = l->next) {
        struct client *c = l->data;
        gint64 deadline = g_get_monotonic_time() + G_TIME_SPAN_SECOND;
        while (c->out->len && g_get_monotonic_time() < deadline) {
            ssize_t n = send(c->fd, c->out->str, c->out->len, MSG_NOSIGNAL | MSG_DONTWAIT);
            if (n > 0) {
                g_string_erase(c->out, 0, n);
            } else if (n < 0 && errno == EAGAIN) {
                struct pollfd p = { .fd = c->fd, .events = POLLOUT };
                poll(&p, 1, 100);
            } else if (n < 0 && errno != EINTR) {
                break;
            }
        }
    }
    g_list_free_full(srv->clients, (GDestroyNotify)client_free);
    g_source_destroy(srv->listen_source);
    g_source_unref(srv->listen_source);
    close(srv->listen_fd);
    unlink(srv->path);
    g_free(srv->path);
    g_free(srv);
}
