/* The TPM CRB interface against a real swtpm (Debian's package): TPM2
 * commands through the registers and the buffer as a guest driver sends
 * them, a PCR extended before a state save and read back from a fresh
 * swtpm after the load, malformed command sizes, commands without the
 * locality, and swtpm dying underneath a running VM. */
#include "devices/tpm_crb.h"
#include "backends/tpm_swtpm.h"
#include "core/vm_state.h"
#include "tests/support/test_vm.h"

#include <sys/un.h>
#include <sys/socket.h>
#include <signal.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib.h>
#include <glib/gstdio.h>

struct swtpm_proc {
    char *dir, *ctrl;
    GPid pid;
};

static void swtpm_start(struct swtpm_proc *p)
{
    p->dir = g_dir_make_tmp("tpm-crb-XXXXXX", NULL);
    p->ctrl = g_build_filename(p->dir, "ctrl.sock", NULL);
    g_autofree char *state = g_strdup_printf("dir=%s", p->dir);
    g_autofree char *ctrl = g_strdup_printf("type=unixio,path=%s", p->ctrl);
    const char *argv[] = { "swtpm", "socket", "--tpm2", "--tpmstate", state,
                           "--ctrl", ctrl, "--terminate", NULL };
    g_autoptr(GError) error = NULL;
    g_assert_true(g_spawn_async(NULL, (char **)argv, NULL,
                                G_SPAWN_SEARCH_PATH | G_SPAWN_DO_NOT_REAP_CHILD,
                                NULL, NULL, &p->pid, &error));
    g_assert_no_error(error);
    /* Ready when its control socket accepts a connection: the file
     * appears at bind(), before swtpm listens. */
    bool ready = false;
    for (int i = 0; i < 1000 && !ready; i++) {
        struct sockaddr_un sa = { .sun_family = AF_UNIX };
        g_strlcpy(sa.sun_path, p->ctrl, sizeof(sa.sun_path));
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
        g_assert_cmpint(fd, >=, 0);
        ready = connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0;
        close(fd);
        if (!ready)
            g_usleep(10000);
    }
    g_assert_true(ready);
}

static void swtpm_stop(struct swtpm_proc *p)
{
    if (p->pid) {
        kill(p->pid, SIGKILL);
        waitpid(p->pid, NULL, 0);
        g_spawn_close_pid(p->pid);
        p->pid = 0;
    }
    g_autoptr(GDir) d = g_dir_open(p->dir, 0, NULL);
    const char *name;
    while (d && (name = g_dir_read_name(d))) {
        g_autofree char *f = g_build_filename(p->dir, name, NULL);
        g_unlink(f);
    }
    g_rmdir(p->dir);
    g_free(p->dir);
    g_free(p->ctrl);
}

static struct tpm_crb *crb_on(struct vm *vm, struct swtpm_proc *p)
{
    g_autoptr(GError) error = NULL;
    struct tpm_backend *be = tpm_swtpm_connect(p->ctrl, &error);
    g_assert_no_error(error);
    struct tpm_crb *crb = tpm_crb_create(vm, be, &error);
    g_assert_no_error(error);
    /* As a machine registers it. */
    vm_state_register(vm, "tpm-crb", &tpm_crb_state_ops, crb);
    vm_add_reset_handler(vm, tpm_crb_reset, crb);
    return crb;
}

static uint32_t reg(struct vm *vm, unsigned off) { return (uint32_t)test_mmio_read(vm, TPM_CRB_BASE + off, 4); }
static void set_reg(struct vm *vm, unsigned off, uint32_t v) { test_mmio_write(vm, TPM_CRB_BASE + off, v, 4); }

static uint32_t be32(const uint8_t *p) { return (uint32_t)p[0] << 24 | p[1] << 16 | p[2] << 8 | p[3]; }

/* As a driver does: locality, cmdReady, the command into the buffer,
 * start, poll start until it clears, the response out of the buffer.
 * Returns the response code. */
static uint32_t transact(struct vm *vm, const uint8_t *cmd, size_t len, uint8_t *resp)
{
    set_reg(vm, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST);
    g_assert_cmphex(reg(vm, TPM_CRB_LOC_STS) & TPM_CRB_LOC_STS_GRANTED, !=, 0);
    set_reg(vm, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_CMD_READY);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_STS) & TPM_CRB_CTRL_STS_IDLE, ==, 0);
    uint64_t buf = reg(vm, TPM_CRB_CTRL_CMD_LADDR);
    for (size_t i = 0; i < len; i++)
        test_mmio_write(vm, buf + i, cmd[i], 1);
    set_reg(vm, TPM_CRB_CTRL_START, 1);
    gint64 deadline = g_get_monotonic_time() + 60 * G_USEC_PER_SEC;
    while (reg(vm, TPM_CRB_CTRL_START) & 1) {
        g_assert_cmpint(g_get_monotonic_time(), <, deadline);
        g_usleep(1000);
    }
    uint64_t rsp = test_mmio_read(vm, TPM_CRB_BASE + TPM_CRB_CTRL_RSP_ADDR, 8);
    g_assert_cmphex(rsp, ==, buf);
    for (size_t i = 0; i < 10; i++)
        resp[i] = (uint8_t)test_mmio_read(vm, rsp + i, 1);
    uint32_t size = be32(resp + 2);
    g_assert_cmpuint(size, >=, 10);
    g_assert_cmpuint(size, <=, TPM_CRB_DATA_SIZE);
    for (size_t i = 10; i < size; i++)
        resp[i] = (uint8_t)test_mmio_read(vm, rsp + i, 1);
    set_reg(vm, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE);
    return be32(resp + 6);
}

static const uint8_t startup_clear[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x44, 0, 0 };
static const uint8_t get_random_8[] = { 0x80, 0x01, 0, 0, 0, 12, 0, 0, 0x01, 0x7b, 0, 8 };
/* PCR_Read of SHA-256 PCR 16. */
static const uint8_t pcr16_read[] = { 0x80, 0x01, 0, 0, 0, 20, 0, 0, 0x01, 0x7e,
                                      0, 0, 0, 1, 0x00, 0x0b, 3, 0, 0, 1 };

/* PCR_Extend of SHA-256 PCR 16 with 32 bytes of v, password session. */
static size_t pcr16_extend(uint8_t *c, uint8_t v)
{
    static const uint8_t head[] = {
        0x80, 0x02, 0, 0, 0, 65, 0, 0, 0x01, 0x82,
        0, 0, 0, 16,                                    /* PCR 16 */
        0, 0, 0, 9, 0x40, 0, 0, 9, 0, 0, 0, 0, 0,       /* TPM_RS_PW, empty */
        0, 0, 0, 1, 0x00, 0x0b,                         /* one SHA-256 digest */
    };
    memcpy(c, head, sizeof head);
    memset(c + sizeof head, v, 32);
    return sizeof head + 32;
}

static void read_pcr16(struct vm *vm, uint8_t digest[32])
{
    uint8_t resp[TPM_CRB_DATA_SIZE];
    g_assert_cmphex(transact(vm, pcr16_read, sizeof pcr16_read, resp), ==, 0);
    g_assert_cmpuint(be32(resp + 24), ==, 1);           /* one digest */
    memcpy(digest, resp + 30, 32);
}

static const struct vm_state_entry *tpm_entry(struct vm *vm, GPtrArray **keep)
{
    *keep = vm_state_entries(vm_state_registry_of(vm));
    for (guint i = 0; i < (*keep)->len; i++) {
        const struct vm_state_entry *e = g_ptr_array_index(*keep, i);
        if (g_str_equal(e->name, "tpm-crb"))
            return e;
    }
    g_assert_not_reached();
}

static void test_commands_and_state(void)
{
    struct swtpm_proc a = { 0 }, b = { 0 };
    swtpm_start(&a);
    struct vm *vm = test_vm_new(16 << 20);
    struct tpm_crb *crb = crb_on(vm, &a);
    uint8_t resp[TPM_CRB_DATA_SIZE], cmd[128];

    g_assert_cmphex(reg(vm, TPM_CRB_LOC_STATE) & TPM_CRB_LOC_STATE_VALID, !=, 0);
    g_assert_cmphex(reg(vm, TPM_CRB_INTF_ID) & 0xf, ==, 1);     /* CRB */
    g_assert_cmphex(transact(vm, startup_clear, sizeof startup_clear, resp), ==, 0);
    g_assert_cmphex(transact(vm, get_random_8, sizeof get_random_8, resp), ==, 0);
    g_assert_cmpuint(be32(resp + 2), ==, 20);

    uint8_t zero[32] = { 0 }, before[32], after[32];
    read_pcr16(vm, before);
    g_assert_cmpmem(before, 32, zero, 32);
    g_assert_cmphex(transact(vm, cmd, pcr16_extend(cmd, 0x5a), resp), ==, 0);
    read_pcr16(vm, before);
    g_assert_true(memcmp(before, zero, 32) != 0);

    /* Save, then load into a second VM whose swtpm starts empty. */
    g_autoptr(GPtrArray) entries = NULL;
    const struct vm_state_entry *e = tpm_entry(vm, &entries);
    g_autoptr(GError) error = NULL;
    struct state_out o;
    state_out_init(&o);
    bool saved = e->ops->save(e->opaque, &o, &error);
    g_assert_no_error(error);
    g_assert_true(saved);
    tpm_crb_free(crb);
    test_vm_free(vm);
    swtpm_stop(&a);

    swtpm_start(&b);
    struct vm *vm2 = test_vm_new(16 << 20);
    struct tpm_crb *crb2 = crb_on(vm2, &b);
    g_autoptr(GPtrArray) entries2 = NULL;
    e = tpm_entry(vm2, &entries2);
    struct state_in in;
    state_in_init(&in, o.buf->data, o.buf->len, "tpm-crb");
    g_assert_true(e->ops->load(e->opaque, &in, 1, &error));
    g_assert_no_error(error);
    read_pcr16(vm2, after);
    g_assert_cmpmem(after, 32, before, 32);

    /* A damaged blob list is refused with a message. */
    state_in_init(&in, o.buf->data, o.buf->len - 3, "tpm-crb");
    g_assert_false(e->ops->load(e->opaque, &in, 1, &error));
    g_assert_nonnull(error);
    g_clear_error(&error);
    state_out_clear(&o);
    tpm_crb_free(crb2);
    test_vm_free(vm2);
    swtpm_stop(&b);
}

static void test_malformed_and_refused(void)
{
    struct swtpm_proc a = { 0 };
    swtpm_start(&a);
    struct vm *vm = test_vm_new(16 << 20);
    struct tpm_crb *crb = crb_on(vm, &a);
    uint8_t resp[TPM_CRB_DATA_SIZE];

    /* Sizes outside the buffer never reach the TPM: TPM_RC_COMMAND_SIZE. */
    uint8_t tiny[12];
    memcpy(tiny, get_random_8, sizeof tiny);
    tiny[5] = 5;
    g_assert_cmphex(transact(vm, tiny, sizeof tiny, resp), ==, 0x142);
    tiny[2] = 0x7f;
    tiny[5] = 12;
    g_assert_cmphex(transact(vm, tiny, sizeof tiny, resp), ==, 0x142);

    /* Without the locality, or while idle, start is ignored. */
    set_reg(vm, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_RELINQUISH);
    g_assert_cmphex(reg(vm, TPM_CRB_LOC_STATE) & TPM_CRB_LOC_STATE_ASSIGNED, ==, 0);
    set_reg(vm, TPM_CRB_CTRL_START, 1);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_START), ==, 0);
    set_reg(vm, TPM_CRB_LOC_CTRL, TPM_CRB_LOC_CTRL_REQUEST);
    set_reg(vm, TPM_CRB_CTRL_REQ, TPM_CRB_CTRL_REQ_GO_IDLE);
    set_reg(vm, TPM_CRB_CTRL_START, 1);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_START), ==, 0);

    /* The buffer's address cannot be moved by the guest. */
    set_reg(vm, TPM_CRB_CTRL_CMD_LADDR, 0x1000);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_CMD_LADDR), ==, TPM_CRB_BASE + TPM_CRB_DATA_OFFSET);

    /* swtpm dies under a running VM: a failure response and the fatal
     * status bit, and the VMM goes on. */
    g_assert_cmphex(transact(vm, startup_clear, sizeof startup_clear, resp), ==, 0);
    /* The device warns that swtpm went away: expected here. */
    g_log_set_always_fatal(G_LOG_FATAL_MASK | G_LOG_LEVEL_CRITICAL);
    kill(a.pid, SIGKILL);
    waitpid(a.pid, NULL, 0);
    g_spawn_close_pid(a.pid);
    a.pid = 0;
    g_assert_cmphex(transact(vm, get_random_8, sizeof get_random_8, resp), ==, 0x101);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_STS) & TPM_CRB_CTRL_STS_FATAL, !=, 0);
    test_vm_platform_reset(vm);
    g_assert_cmphex(reg(vm, TPM_CRB_CTRL_STS) & TPM_CRB_CTRL_STS_FATAL, !=, 0);
    g_assert_cmphex(transact(vm, get_random_8, sizeof get_random_8, resp), ==, 0x101);
    tpm_crb_free(crb);
    test_vm_free(vm);
    swtpm_stop(&a);
}

static void test_connect_refused(void)
{
    g_autoptr(GError) error = NULL;
    g_assert_null(tpm_swtpm_connect("/nonexistent/swtpm.sock", &error));
    g_assert_nonnull(strstr(error->message, "/nonexistent/swtpm.sock"));
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/tpm-crb/connect-refused", test_connect_refused);
    g_test_add_func("/tpm-crb/commands-and-state", test_commands_and_state);
    g_test_add_func("/tpm-crb/malformed-and-refused", test_malformed_and_refused);
    return g_test_run();
}
