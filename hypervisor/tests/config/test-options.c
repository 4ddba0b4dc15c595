/* Command line and --config parsing: every option, overriding, repeated
 * options, and refusal of malformed input with a message. */
#include <string.h>
#include <unistd.h>
#include <glib.h>
#include <glib/gstdio.h>

#include "config/options.h"

#define MIB (1024ULL * 1024ULL)

static bool parse(struct vmm_options *o, GError **error, ...)
{
    GPtrArray *argv = g_ptr_array_new();
    g_ptr_array_add(argv, (char *)"oriel-vmm");
    va_list ap;
    va_start(ap, error);
    for (const char *a; (a = va_arg(ap, const char *));)
        g_ptr_array_add(argv, (char *)a);
    va_end(ap);
    g_ptr_array_add(argv, NULL);
    bool ok = options_parse_args(o, (int)argv->len - 1, (char **)argv->pdata, error);
    g_ptr_array_free(argv, TRUE);
    return ok;
}

static void test_full_command_line(void)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_true(parse(&o, &error, "--name", "demo", "--memory", "512M", "--cpus", "2",
                        "--kernel", "vmlinuz", "--initrd", "initrd.img",
                        "--cmdline", "console=ttyS0 root=/dev/vda",
                        "--disk", "path=root.img,if=virtio",
                        "--disk=path=data.img,if=virtio,readonly=on,serial=DATA1,discard=on",
                        "--disk", "path=win.img,if=nvme,serial=NV1",
                        "--disk", "path=win.map,if=ahci,format=synthetic,serial=SYN1",
                        "--net", "user,hostfwd=tcp::2222-:22,mac=52:54:00:ab:cd:ef",
                        "--serial", "stdio", "--control", "/run/oriel/demo.ctl",
                        "--uuid", "6f0c1f0e-8d55-4a7e-9c1e-0f4f8d3c2b1a", "--no-reboot",
                        "--kernel-cache", "/var/cache/k", "--kernel-unpack", "guest",
                        "--usb", "xhci", NULL));
    g_assert_no_error(error);
    g_assert_cmpstr(o.name, ==, "demo");
    g_assert_cmpint(o.usb, ==, USB_CONTROLLER_XHCI);
    g_assert_cmpuint(o.memory, ==, 512 * MIB);
    g_assert_cmpuint(o.cpus, ==, 2);
    g_assert_cmpstr(o.kernel, ==, "vmlinuz");
    g_assert_cmpstr(o.initrd, ==, "initrd.img");
    g_assert_cmpstr(o.cmdline, ==, "console=ttyS0 root=/dev/vda");
    g_assert_cmpuint(o.disks->len, ==, 4);
    struct disk_config *d0 = &g_array_index(o.disks, struct disk_config, 0);
    struct disk_config *d1 = &g_array_index(o.disks, struct disk_config, 1);
    g_assert_cmpstr(d0->path, ==, "root.img");
    g_assert_false(d0->readonly);
    g_assert_cmpstr(d1->path, ==, "data.img");
    g_assert_true(d1->readonly);
    g_assert_true(d1->discard);
    g_assert_cmpstr(d1->serial, ==, "DATA1");
    struct disk_config *d2 = &g_array_index(o.disks, struct disk_config, 2);
    g_assert_cmpint(d2->iface, ==, DISK_IF_NVME);
    g_assert_cmpstr(d2->serial, ==, "NV1");
    g_assert_cmpint(d2->format, ==, DISK_FORMAT_RAW);
    struct disk_config *d3 = &g_array_index(o.disks, struct disk_config, 3);
    g_assert_cmpint(d3->format, ==, DISK_FORMAT_SYNTHETIC);
    g_assert_cmpint(d3->iface, ==, DISK_IF_AHCI);
    g_assert_cmpstr(d3->serial, ==, "SYN1");
    g_assert_cmpuint(o.nets->len, ==, 1);
    struct net_config *n = &g_array_index(o.nets, struct net_config, 0);
    g_assert_cmpint(n->backend, ==, NET_BACKEND_USER);
    g_assert_cmpuint(n->n_hostfwd, ==, 1);
    g_assert_cmpuint(n->hostfwd[0].host_port, ==, 2222);
    g_assert_cmpuint(n->hostfwd[0].guest_port, ==, 22);
    g_assert_false(n->hostfwd[0].udp);
    g_assert_true(n->mac_set);
    g_assert_cmphex(n->mac[5], ==, 0xef);
    g_assert_cmpstr(o.serial, ==, "stdio");
    g_assert_cmpstr(o.control, ==, "/run/oriel/demo.ctl");
    g_assert_true(o.no_reboot);
    g_assert_cmpstr(o.kernel_cache, ==, "/var/cache/k");
    g_assert_true(o.kernel_unpack_guest);
    g_assert_true(options_validate(&o, &error));
    g_assert_no_error(error);
    options_clear(&o);
}

static void test_sizes(void)
{
    uint64_t b;
    g_assert_true(options_parse_size("512", &b, NULL));
    g_assert_cmpuint(b, ==, 512 * MIB);
    g_assert_true(options_parse_size("2G", &b, NULL));
    g_assert_cmpuint(b, ==, 2048 * MIB);
    g_assert_true(options_parse_size("65536k", &b, NULL));
    g_assert_cmpuint(b, ==, 64 * MIB);
    g_assert_true(options_parse_size("1GiB", &b, NULL));
    g_assert_cmpuint(b, ==, 1024 * MIB);
    const char *bad[] = { "", "M", "12X", "-5", "1.5G", "99999999999999999999", "4G ", "16777216T" };
    for (size_t i = 0; i < G_N_ELEMENTS(bad); i++) {
        g_autoptr(GError) error = NULL;
        g_assert_false(options_parse_size(bad[i], &b, &error));
        g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    }
}

static void expect_bad(const char *opt, const char *value)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_false(parse(&o, &error, opt, value, NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    options_clear(&o);
}

static void test_bad_values(void)
{
    expect_bad("--cpus", "0");
    expect_bad("--cpus", "65");
    expect_bad("--cpus", "two");
    expect_bad("--memory", "lots");
    expect_bad("--disk", "if=virtio");                 /* no path */
    expect_bad("--disk", "path=a,if=scsi");
    expect_bad("--disk", "path=a,format=qcow3");
    /* Discarded blocks would not read as zeros on pass-through partitions. */
    expect_bad("--disk", "path=a.map,format=synthetic,discard=on");
    expect_bad("--disk", "path=a,readonly=maybe");
    expect_bad("--disk", "path=a,serial=123456789012345678901");
    expect_bad("--disk", "path=a,bogus=1");
    expect_bad("--disk", "path=a,noequals");
    expect_bad("--net", "bridge");
    expect_bad("--net", "user,hostfwd=tcp::99999-:22");
    expect_bad("--net", "user,hostfwd=sctp::1-:2");
    expect_bad("--net", "user,mac=01:00:00:00:00:01");   /* multicast */
    expect_bad("--net", "user,mac=52:54:00:ab:cd");
    expect_bad("--net", "tap=eth0,hostfwd=tcp::1-:2");
    expect_bad("--net", "user,model=rtl8139");
    expect_bad("--serial", "telnet:1234");
    expect_bad("--machine", "isapc");
    expect_bad("--machine", "pc,smm=maybe");
    expect_bad("--machine", "pc,acpi=off");
    expect_bad("--machine", "");
    expect_bad("--serial", "file:");
    expect_bad("--vnc", "0.0.0.0:5900");
    expect_bad("--boot", "floppy");
    expect_bad("--uuid", "not-a-uuid");
    expect_bad("--frobnicate", "1");
    expect_bad("--name", "");
    expect_bad("--kernel-cache", "");
    expect_bad("--kernel-unpack", "both");
    expect_bad("--usb", "ehci");

    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_false(parse(&o, &error, "--kernel", NULL));      /* missing value */
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(parse(&o, &error, "--no-reboot=yes", NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_false(parse(&o, &error, "stray", NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    options_clear(&o);
}

static void expect_unavailable(const char *opt, const char *value, const char *named)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_true(parse(&o, &error, "--kernel", "k", opt, value, NULL));
    g_assert_false(options_validate(&o, &error));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_UNAVAILABLE);
    g_assert_nonnull(strstr(error->message, named));
    options_clear(&o);
}

static void test_unavailable(void)
{
    /* --kernel with --bios needs a boot option ROM for the firmware. */
    expect_unavailable("--bios", "bios.bin", "--bios");

    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_false(options_validate(&o, &error));       /* nothing to boot */
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    options_clear(&o);
}

static void test_machine(void)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_cmpint(o.machine, ==, MACHINE_PC);
    g_assert_true(parse(&o, &error, "--kernel", "k", "--machine", "q35", NULL));
    g_assert_cmpint(o.machine, ==, MACHINE_Q35);
    g_assert_false(o.smm);
    g_assert_true(options_validate(&o, &error));
    g_assert_true(parse(&o, &error, "--machine", "pc,smm=off", NULL));
    g_assert_cmpint(o.machine, ==, MACHINE_PC);
    g_assert_true(parse(&o, &error, "--machine", "q35,smm=on", NULL));
    g_assert_true(o.smm);
    g_assert_true(options_validate(&o, &error));
    g_assert_false(parse(&o, &error, "--machine", "q35,smm=maybe", NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_clear_error(&error);

    /* Q35 has no IDE, and RAM must leave the ECAM window free. */
    g_assert_true(parse(&o, &error, "--machine", "q35", "--disk", "path=a,if=ide", NULL));
    g_assert_false(options_validate(&o, &error));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "IDE"));
    g_clear_error(&error);
    options_clear(&o);
    options_init(&o);
    g_assert_true(parse(&o, &error, "--kernel", "k", "--machine", "q35", "--memory", "3G", NULL));
    g_assert_false(options_validate(&o, &error));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_clear_error(&error);
    g_assert_true(parse(&o, &error, "--memory", "2816M", NULL));
    g_assert_true(options_validate(&o, &error));
    options_clear(&o);

    expect_bad("--machine", "isapc");
    expect_bad("--machine", "q35,smm=maybe");
    expect_bad("--machine", "q35,acpi=off");
    expect_bad("--machine", "");
}

static void test_config_file(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *path = NULL;
    int fd = g_file_open_tmp("oriel-options-XXXXXX", &path, &error);
    g_assert_cmpint(fd, >=, 0);
    const char *text =
        "# a VM\n"
        "name = demo\n"
        "memory=1G\n"
        "  cpus =  2  \n"
        "\n"
        "kernel = /boot/vmlinuz\n"
        "cmdline = console=ttyS0 root=/dev/vda\n"
        "disk = path=/images/demo.img,if=virtio\n"
        "disk = path=/images/data.img,readonly=on\n"
        "disk = path=/var/lib/oriel/dualboot/win/disk.map,if=nvme,format=synthetic\n"
        "net = user,mac=52:54:00:ab:cd:ef\n"
        "serial = pty\n"
        "control = /run/oriel/demo.ctl\n"
        "no-reboot\n";
    g_assert_true(g_file_set_contents(path, text, -1, NULL));
    close(fd);

    struct vmm_options o;
    options_init(&o);
    /* Options after --config override it; before it, are overridden. */
    g_assert_true(parse(&o, &error, "--cpus", "4", "--config", path, "--memory", "256M", NULL));
    g_assert_no_error(error);
    g_assert_cmpstr(o.name, ==, "demo");
    g_assert_cmpuint(o.memory, ==, 256 * MIB);
    g_assert_cmpuint(o.cpus, ==, 2);
    g_assert_cmpstr(o.cmdline, ==, "console=ttyS0 root=/dev/vda");
    g_assert_cmpuint(o.disks->len, ==, 3);
    g_assert_true(g_array_index(o.disks, struct disk_config, 1).readonly);
    struct disk_config *syn = &g_array_index(o.disks, struct disk_config, 2);
    g_assert_cmpint(syn->format, ==, DISK_FORMAT_SYNTHETIC);
    g_assert_cmpint(syn->iface, ==, DISK_IF_NVME);
    g_assert_cmpstr(syn->path, ==, "/var/lib/oriel/dualboot/win/disk.map");
    g_assert_cmpuint(o.nets->len, ==, 1);
    g_assert_cmpstr(o.serial, ==, "pty");
    g_assert_true(o.no_reboot);
    options_clear(&o);
    g_unlink(path);

    /* Errors name the file and line. */
    options_init(&o);
    g_assert_false(options_parse_config_text(&o, "name = x\ncpus = 0\n", "vm.conf", &error));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_assert_nonnull(strstr(error->message, "vm.conf:2"));
    g_clear_error(&error);
    g_assert_false(options_parse_config_text(&o, "bogus = 1\n", "vm.conf", &error));
    g_assert_nonnull(strstr(error->message, "vm.conf:1"));
    g_clear_error(&error);
    g_assert_false(options_parse_config_text(&o, "kernel\n", "vm.conf", &error));
    g_clear_error(&error);
    g_assert_false(options_parse_config_text(&o, "config = other\n", "vm.conf", &error));
    g_clear_error(&error);
    options_clear(&o);

    options_init(&o);
    g_assert_false(parse(&o, &error, "--config", "/nonexistent/oriel.conf", NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    options_clear(&o);
}

static void test_machine_smm(void)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_true(parse(&o, &error, "--bios", "bios.bin", "--machine", "pc", NULL));
    g_assert_false(o.smm);
    g_assert_true(parse(&o, &error, "--machine", "pc,smm=on", NULL));
    g_assert_true(o.smm);
    g_assert_true(parse(&o, &error, "--machine=pc,smm=on,smm=off", NULL));
    g_assert_false(o.smm);
    g_assert_no_error(error);
    options_clear(&o);
}

/* --restore FILE and --paused, on the command line and in a config file. */
static void test_restore_paused(void)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    g_assert_true(parse(&o, &error, "--kernel", "k", NULL));
    g_assert_null(o.restore);
    g_assert_false(o.paused);
    g_assert_true(parse(&o, &error, "--restore", "/var/lib/oriel/save/demo.sav", "--paused", NULL));
    g_assert_cmpstr(o.restore, ==, "/var/lib/oriel/save/demo.sav");
    g_assert_true(o.paused);
    g_assert_true(options_validate(&o, &error));
    g_assert_false(parse(&o, &error, "--paused=yes", NULL));
    g_clear_error(&error);
    g_assert_false(parse(&o, &error, "--restore", "", NULL));
    g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
    g_clear_error(&error);
    options_clear(&o);

    options_init(&o);
    g_assert_true(options_parse_config_text(&o, "restore = /x/y.sav\npaused\n", "vm.conf", &error));
    g_assert_no_error(error);
    g_assert_cmpstr(o.restore, ==, "/x/y.sav");
    g_assert_true(o.paused);
    options_clear(&o);
}

/* A file of size bytes in dir; returns its path. */
static char *sized_file(const char *dir, const char *name, size_t size)
{
    char *path = g_build_filename(dir, name, NULL);
    g_autofree char *data = g_malloc0(size ? size : 1);
    g_assert_true(g_file_set_contents(path, data, (gssize)size, NULL));
    return path;
}

/* Validate "--uefi spec" (and extra options); NULL: must pass, otherwise
 * the error must be OPTIONS_ERROR_INVALID and mention want. */
static void expect_uefi(const char *spec, const char *extra, const char *want)
{
    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    bool ok = parse(&o, &error, "--uefi", spec, extra, extra ? "x" : NULL, NULL) &&
              options_validate(&o, &error);
    if (!want) {
        g_assert_no_error(error);
        g_assert_true(ok);
    } else {
        g_assert_false(ok);
        g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
        if (!strstr(error->message, want))
            g_error("'%s': message '%s' lacks '%s'", spec, error->message, want);
    }
    options_clear(&o);
}

static void test_uefi(void)
{
    g_autoptr(GError) error = NULL;
    g_autofree char *dir = g_dir_make_tmp("oriel-uefi-XXXXXX", &error);
    g_assert_no_error(error);
    /* Debian's 4 MiB build and its template, and the 2 MiB pair. */
    g_autofree char *code4 = sized_file(dir, "code4.fd", 3653632);
    g_autofree char *vars4 = sized_file(dir, "vars4.fd", 540672);
    g_autofree char *code2 = sized_file(dir, "code2.fd", 1966080);
    g_autofree char *vars2 = sized_file(dir, "vars2.fd", 131072);
    g_autofree char *odd = sized_file(dir, "odd.fd", 540672 + 512);
    g_autofree char *empty = sized_file(dir, "empty.fd", 0);
    g_autofree char *huge = sized_file(dir, "huge.fd", 16u << 20);
    g_autofree char *missing = g_build_filename(dir, "missing.fd", NULL);

    struct vmm_options o;
    options_init(&o);
    g_autofree char *spec = g_strdup_printf("code=%s,vars=%s", code4, vars4);
    g_assert_true(parse(&o, &error, "--uefi", spec, "--cdrom", "grub.iso", NULL));
    g_assert_true(options_validate(&o, &error));
    g_assert_no_error(error);
    g_assert_cmpstr(o.uefi.code, ==, code4);
    g_assert_cmpstr(o.uefi.vars, ==, vars4);
    g_assert_false(o.uefi.secure);
    /* The same in a config file; --boot is accepted with --uefi. */
    g_autofree char *text = g_strdup_printf("uefi = code=%s,vars=%s\nboot = cdrom\n", code2, vars2);
    g_assert_true(options_parse_config_text(&o, text, "vm.conf", &error));
    g_assert_true(options_validate(&o, &error));
    g_assert_cmpstr(o.uefi.code, ==, code2);
    options_clear(&o);

    g_autofree char *s = NULL;
#define SPEC(c, v) (g_free(s), s = g_strdup_printf("code=%s,vars=%s", (c), (v)))
    expect_uefi(SPEC(code2, vars2), NULL, NULL);
    /* Syntax. */
    expect_uefi("code=a.fd", NULL, "code=FILE and vars=FILE");
    expect_uefi("vars=b.fd", NULL, "code=FILE and vars=FILE");
    expect_uefi("code=a.fd,vars=b.fd,bogus=1", NULL, "unknown key 'bogus'");
    expect_uefi("code=a.fd,vars", NULL, "KEY=VALUE");
    expect_uefi("code=,vars=b.fd", NULL, "KEY=VALUE");
    expect_uefi("code=a.fd,vars=b.fd,secure=maybe", NULL, "'maybe'");
    /* secure=on needs Q35 with SMM, and is accepted there. */
    g_free(s);
    s = g_strdup_printf("code=%s,vars=%s,secure=on", code4, vars4);
    expect_uefi(s, NULL, "secure=on needs --machine q35,smm=on");
    {
        static const char *const machines[] = { "q35", "pc,smm=on", "q35,smm=on" };
        for (unsigned i = 0; i < G_N_ELEMENTS(machines); i++) {
            options_init(&o);
            bool ok = parse(&o, &error, "--uefi", s, "--machine", machines[i], NULL) &&
                      options_validate(&o, &error);
            if (i < 2) {
                g_assert_false(ok);
                g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID);
                g_assert_nonnull(strstr(error->message, "secure=on needs --machine q35,smm=on"));
                g_clear_error(&error);
            } else {
                g_assert_no_error(error);
                g_assert_true(ok);
                g_assert_true(o.uefi.secure);
            }
            options_clear(&o);
        }
    }
    /* Not with --bios, nor with --kernel. */
    expect_uefi(SPEC(code4, vars4), "--bios", "--bios");
    {
        options_init(&o);
        g_assert_true(parse(&o, &error, "--uefi", s, "--kernel", "k", NULL));
        g_assert_false(options_validate(&o, &error));
        g_assert_error(error, OPTIONS_ERROR, OPTIONS_ERROR_UNAVAILABLE);
        g_clear_error(&error);
        options_clear(&o);
    }
    /* Files: missing, empty, not whole blocks, not a pair, too big. */
    expect_uefi(SPEC(missing, vars4), NULL, missing);
    expect_uefi(SPEC(code4, missing), NULL, missing);
    expect_uefi(SPEC(dir, vars4), NULL, "regular file");
    expect_uefi(SPEC(empty, vars4), NULL, empty);
    expect_uefi(SPEC(code4, odd), NULL, odd);
    expect_uefi(SPEC(code4, vars2), NULL, "does not belong");
    expect_uefi(SPEC(code2, vars4), NULL, vars4);
    expect_uefi(SPEC(huge, vars2), NULL, "16 MiB");
    /* A store the VMM may not write (root may write anything). */
    if (geteuid() != 0) {
        g_assert_cmpint(g_chmod(vars4, 0444), ==, 0);
        expect_uefi(SPEC(code4, vars4), NULL, "read and write");
        g_assert_cmpint(g_chmod(vars4, 0644), ==, 0);
        g_assert_cmpint(g_chmod(code4, 0), ==, 0);
        expect_uefi(SPEC(code4, vars4), NULL, code4);
        g_assert_cmpint(g_chmod(code4, 0644), ==, 0);
    }
#undef SPEC

    /* The size rules alone. */
    struct uefi_config u = { .code = (char *)"c.fd", .vars = (char *)"v.fd" };
    g_assert_true(uefi_config_check_sizes(&u, 3653632, 540672, NULL));
    g_assert_true(uefi_config_check_sizes(&u, 1966080, 131072, NULL));
    g_assert_true(uefi_config_check_sizes(&u, 15u << 20, 1u << 20, NULL));
    g_assert_false(uefi_config_check_sizes(&u, 16u << 20, 16u << 20, NULL));
    g_assert_false(uefi_config_check_sizes(&u, UINT64_MAX - 4095, 8192, NULL));
    g_assert_false(uefi_config_check_sizes(&u, 3653632, 540672 - 4096, NULL));

    for (const char *const *p = (const char *const[]){ code4, vars4, code2, vars2, odd, empty,
                                                       huge, NULL }; *p; p++)
        g_unlink(*p);
    g_rmdir(dir);
}

int main(int argc, char **argv)
{
    g_test_init(&argc, &argv, NULL);
    g_test_add_func("/options/uefi", test_uefi);
    g_test_add_func("/options/restore-paused", test_restore_paused);
    g_test_add_func("/options/machine", test_machine);
    g_test_add_func("/options/full-command-line", test_full_command_line);
    g_test_add_func("/options/sizes", test_sizes);
    g_test_add_func("/options/bad-values", test_bad_values);
    g_test_add_func("/options/unavailable", test_unavailable);
    g_test_add_func("/options/config-file", test_config_file);
    g_test_add_func("/options/machine-smm", test_machine_smm);
    return g_test_run();
}
