#include "options.h"
#include "pc_layout.h"
#include "chardev_spec.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

G_DEFINE_QUARK(oriel-options-error-quark, options_error)

#define MIB (1024ULL * 1024ULL)

void options_init(struct vmm_options *o)
{
    memset(o, 0, sizeof(*o));
    o->memory = 512 * MIB;
    o->cpus = 1;
    o->disks = g_array_new(FALSE, TRUE, sizeof(struct disk_config));
    o->nets = g_array_new(FALSE, TRUE, sizeof(struct net_config));
}

void options_clear(struct vmm_options *o)
{
    g_free(o->name);
    g_free(o->uuid);
    g_free(o->kernel);
    g_free(o->initrd);
    g_free(o->cmdline);
    g_free(o->kernel_cache);
    g_free(o->cdrom);
    g_free(o->bios);
    uefi_config_clear(&o->uefi);
    g_free(o->boot);
    g_free(o->serial);
    g_free(o->vnc);
    g_free(o->control);
    g_free(o->restore);
    g_free(o->tpm_swtpm);
    if (o->disks) {
        for (guint i = 0; i < o->disks->len; i++)
            disk_config_clear(&g_array_index(o->disks, struct disk_config, i));
        g_array_free(o->disks, TRUE);
    }
    if (o->nets) {
        for (guint i = 0; i < o->nets->len; i++)
            net_config_clear(&g_array_index(o->nets, struct net_config, i));
        g_array_free(o->nets, TRUE);
    }
    memset(o, 0, sizeof(*o));
}

static bool invalid(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
static bool invalid(GError **error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char *msg = g_strdup_vprintf(fmt, ap);
    va_end(ap);
    g_set_error_literal(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, msg);
    g_free(msg);
    return false;
}

bool options_parse_size(const char *s, uint64_t *bytes, GError **error)
{
    char *end;
    errno = 0;
    if (!s || !g_ascii_isdigit(*s))
        return invalid(error, _("Invalid memory size '%s'"), s ? s : "");
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (errno)
        return invalid(error, _("Invalid memory size '%s'"), s);
    uint64_t mult = MIB;
    if (*end) {
        switch (g_ascii_toupper(*end)) {
        case 'K': mult = 1024; break;
        case 'M': mult = MIB; break;
        case 'G': mult = 1024 * MIB; break;
        case 'T': mult = 1024 * 1024 * MIB; break;
        default:
            return invalid(error, _("Invalid memory size '%s' (use a suffix K, M, G or T)"), s);
        }
        end++;
        if (*end == 'i' && end[1] == 'B')
            end += 2;
        else if (*end == 'B')
            end++;
        if (*end)
            return invalid(error, _("Invalid memory size '%s' (use a suffix K, M, G or T)"), s);
    }
    if (v > UINT64_MAX / mult)
        return invalid(error, _("Memory size '%s' is too large"), s);
    *bytes = v * mult;
    return true;
}

static bool parse_onoff(const char *key, const char *v, bool *out, GError **error)
{
    if (!strcmp(v, "on") || !strcmp(v, "yes") || !strcmp(v, "true"))
        *out = true;
    else if (!strcmp(v, "off") || !strcmp(v, "no") || !strcmp(v, "false"))
        *out = false;
    else
        return invalid(error, _("'%s' takes on or off, not '%s'"), key, v);
    return true;
}

bool options_parse_disk(const char *s, struct disk_config *d, GError **error)
{
    *d = (struct disk_config){ .iface = DISK_IF_VIRTIO, .format = DISK_FORMAT_RAW };
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    for (char **p = parts; *p; p++) {
        char *eq = strchr(*p, '=');
        if (!eq) {
            disk_config_clear(d);
            return invalid(error, _("--disk: '%s' is not KEY=VALUE"), *p);
        }
        *eq = '\0';
        const char *k = *p, *v = eq + 1;
        bool ok = true;
        if (!strcmp(k, "path")) {
            if (!*v)
                ok = invalid(error, _("--disk: empty path"));
            else {
                g_free(d->path);
                d->path = g_strdup(v);
            }
        } else if (!strcmp(k, "if")) {
            if (!strcmp(v, "virtio")) d->iface = DISK_IF_VIRTIO;
            else if (!strcmp(v, "ide")) d->iface = DISK_IF_IDE;
            else if (!strcmp(v, "ahci")) d->iface = DISK_IF_AHCI;
            else if (!strcmp(v, "nvme")) d->iface = DISK_IF_NVME;
            else ok = invalid(error, _("--disk: unknown interface '%s' (virtio, ide, ahci or nvme)"), v);
        } else if (!strcmp(k, "format")) {
            if (!strcmp(v, "raw"))
                d->format = DISK_FORMAT_RAW;
            else if (!strcmp(v, "qcow2"))
                d->format = DISK_FORMAT_QCOW2;
            else if (!strcmp(v, "synthetic"))
                d->format = DISK_FORMAT_SYNTHETIC;
            else
                ok = invalid(error, _("--disk: unsupported format '%s' (raw, qcow2 or synthetic)"), v);
        } else if (!strcmp(k, "readonly")) {
            ok = parse_onoff("readonly", v, &d->readonly, error);
        } else if (!strcmp(k, "discard")) {
            if (!strcmp(v, "unmap"))
                d->discard = true;
            else if (!strcmp(v, "ignore"))
                d->discard = false;
            else
                ok = parse_onoff("discard", v, &d->discard, error);
        } else if (!strcmp(k, "serial")) {
            if (strlen(v) > DISK_SERIAL_MAX)
                ok = invalid(error, _("--disk: serial '%s' is longer than %d characters"), v,
                             DISK_SERIAL_MAX);
            else {
                g_free(d->serial);
                d->serial = g_strdup(v);
            }
        } else {
            ok = invalid(error, _("--disk: unknown key '%s'"), k);
        }
        if (!ok) {
            disk_config_clear(d);
            return false;
        }
    }
    if (!d->path) {
        disk_config_clear(d);
        return invalid(error, _("--disk needs path=FILE"));
    }
    /* Discarded blocks must read as zeros afterwards (NVMe's DLFEAT), and
     * a synthetic disk does not discard on the partitions it passes
     * through in real mode. */
    if (d->format == DISK_FORMAT_SYNTHETIC && d->discard) {
        disk_config_clear(d);
        return invalid(error, _("--disk: format=synthetic does not take discard=on"));
    }
    return true;
}

static bool parse_port(const char *s, uint16_t *port)
{
    char *end;
    if (!g_ascii_isdigit(*s))
        return false;
    guint64 v = g_ascii_strtoull(s, &end, 10);
    if (*end || v == 0 || v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* tcp:[HOSTADDR]:HOSTPORT-[GUESTADDR]:GUESTPORT (udp: likewise). */
static bool parse_hostfwd(const char *s, struct net_hostfwd *f, GError **error)
{
    memset(f, 0, sizeof(*f));
    const char *rest;
    if (g_str_has_prefix(s, "tcp:"))
        rest = s + 4;
    else if (g_str_has_prefix(s, "udp:"))
        rest = s + 4, f->udp = true;
    else
        return invalid(error, _("--net: hostfwd '%s' must start with tcp: or udp:"), s);
    g_auto(GStrv) sides = g_strsplit(rest, "-", 2);
    if (g_strv_length(sides) != 2)
        goto bad;
    char *addrs[2] = { f->host_addr, f->guest_addr };
    uint16_t *ports[2] = { &f->host_port, &f->guest_port };
    for (int i = 0; i < 2; i++) {
        char *colon = strrchr(sides[i], ':');
        if (!colon)
            goto bad;
        *colon = '\0';
        if (strlen(sides[i]) >= sizeof(f->host_addr) || !parse_port(colon + 1, ports[i]))
            goto bad;
        g_strlcpy(addrs[i], sides[i], sizeof(f->host_addr));
    }
    return true;
bad:
    return invalid(error, _("--net: invalid hostfwd '%s' (expected tcp::HOSTPORT-:GUESTPORT)"), s);
}

static bool parse_mac(const char *s, uint8_t mac[6])
{
    unsigned v[6];
    char extra;
    if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x%c", &v[0], &v[1], &v[2], &v[3], &v[4], &v[5], &extra) != 6)
        return false;
    for (int i = 0; i < 6; i++)
        mac[i] = (uint8_t)v[i];
    return strlen(s) == 17 && !(mac[0] & 1); /* not a multicast address */
}

bool options_parse_net(const char *s, struct net_config *n, GError **error)
{
    *n = (struct net_config){ .model = NET_MODEL_VIRTIO };
    g_auto(GStrv) parts = g_strsplit(s, ",", -1);
    if (!parts[0] || !*parts[0])
        return invalid(error, _("--net needs user or tap=IFNAME"));
    if (!strcmp(parts[0], "user")) {
        n->backend = NET_BACKEND_USER;
    } else if (g_str_has_prefix(parts[0], "tap=") && parts[0][4]) {
        n->backend = NET_BACKEND_TAP;
        if (strlen(parts[0] + 4) >= 16)
            return invalid(error, _("--net: interface name '%s' is too long"), parts[0] + 4);
        n->tap_ifname = g_strdup(parts[0] + 4);
    } else {
        return invalid(error, _("--net: unknown backend '%s' (user or tap=IFNAME)"), parts[0]);
    }
    for (char **p = parts + 1; *p; p++) {
        char *eq = strchr(*p, '=');
        bool ok = true;
        if (!eq) {
            ok = invalid(error, _("--net: '%s' is not KEY=VALUE"), *p);
        } else {
            *eq = '\0';
            const char *k = *p, *v = eq + 1;
            if (!strcmp(k, "hostfwd")) {
                if (n->backend != NET_BACKEND_USER)
                    ok = invalid(error, _("--net: hostfwd needs the user backend"));
                else if (n->n_hostfwd >= NET_MAX_HOSTFWD)
                    ok = invalid(error, _("--net: at most %d hostfwd rules"), NET_MAX_HOSTFWD);
                else
                    ok = parse_hostfwd(v, &n->hostfwd[n->n_hostfwd++], error);
            } else if (!strcmp(k, "mac")) {
                if (!parse_mac(v, n->mac))
                    ok = invalid(error, _("--net: invalid MAC address '%s'"), v);
                n->mac_set = ok;
            } else if (!strcmp(k, "model")) {
                if (!strcmp(v, "virtio"))
                    n->model = NET_MODEL_VIRTIO;
                else if (!strcmp(v, "e1000"))
                    n->model = NET_MODEL_E1000;
                else if (!strcmp(v, "e1000e"))
                    n->model = NET_MODEL_E1000E;
                else
                    ok = invalid(error, _("--net: unknown model '%s' (virtio, e1000 or e1000e)"), v);
            } else {
                ok = invalid(error, _("--net: unknown key '%s'"), k);
            }
        }
        if (!ok) {
            net_config_clear(n);
            return false;
        }
    }
    return true;
}

static void set_str(char **field, const char *v)
{
    g_free(*field);
    *field = g_strdup(v);
}

static bool read_config_file(struct vmm_options *o, const char *path, GError **error)
{
    g_autofree char *text = NULL;
    g_autoptr(GError) local = NULL;
    if (!g_file_get_contents(path, &text, NULL, &local))
        return invalid(error, _("Cannot read the configuration file: %s"), local->message);
    return options_parse_config_text(o, text, path, error);
}

static bool is_known(const char *name)
{
    static const char *const names[] = {
        "name", "uuid", "memory", "cpus", "kernel", "initrd", "cmdline", "kernel-cache",
        "kernel-unpack", "disk", "cdrom",
        "bios", "uefi", "boot", "net", "serial", "vnc", "control", "config",
        "restore", "paused", "no-reboot", "help", "version", "hyperv", "kvm-hidden",
        "rtc-base", "tpm", "machine", "usb",
    };
    for (size_t i = 0; i < G_N_ELEMENTS(names); i++)
        if (!strcmp(name, names[i]))
            return true;
    return false;
}

/* Options that take no value. */
static bool is_flag(const char *name)
{
    return !strcmp(name, "no-reboot") || !strcmp(name, "paused") || !strcmp(name, "help") ||
           !strcmp(name, "version") || !strcmp(name, "kvm-hidden");
}

bool options_apply(struct vmm_options *o, const char *name, const char *value, GError **error)
{
    if (is_flag(name)) {
        if (value)
            return invalid(error, _("--%s takes no value"), name);
        if (!strcmp(name, "no-reboot")) o->no_reboot = true;
        else if (!strcmp(name, "paused")) o->paused = true;
        else if (!strcmp(name, "help")) o->help = true;
        else if (!strcmp(name, "kvm-hidden")) o->cpu.kvm_hidden = true;
        else o->version = true;
        return true;
    }
    if (!value)
        return invalid(error, _("--%s needs a value"), name);

    if (!strcmp(name, "name")) {
        if (!*value || strlen(value) > 64)
            return invalid(error, _("--name must be 1 to 64 characters"));
        set_str(&o->name, value);
    } else if (!strcmp(name, "uuid")) {
        if (!g_uuid_string_is_valid(value))
            return invalid(error, _("--uuid: '%s' is not a UUID"), value);
        set_str(&o->uuid, value);
    } else if (!strcmp(name, "memory")) {
        uint64_t b;
        if (!options_parse_size(value, &b, error))
            return false;
        o->memory = b;
    } else if (!strcmp(name, "cpus")) {
        char *end;
        guint64 n = g_ascii_strtoull(value, &end, 10);
        if (!g_ascii_isdigit(*value) || *end || n < 1 || n > OPTIONS_MAX_CPUS)
            return invalid(error, _("--cpus must be a number from 1 to %d, not '%s'"),
                           OPTIONS_MAX_CPUS, value);
        o->cpus = (unsigned)n;
    } else if (!strcmp(name, "kernel")) {
        set_str(&o->kernel, value);
    } else if (!strcmp(name, "initrd")) {
        set_str(&o->initrd, value);
    } else if (!strcmp(name, "cmdline")) {
        set_str(&o->cmdline, value);
    } else if (!strcmp(name, "kernel-cache")) {
        if (!*value)
            return invalid(error, _("--kernel-cache needs a directory or 'none'"));
        set_str(&o->kernel_cache, value);
    } else if (!strcmp(name, "kernel-unpack")) {
        if (strcmp(value, "host") && strcmp(value, "guest"))
            return invalid(error, _("--kernel-unpack must be 'host' or 'guest', not '%s'"), value);
        o->kernel_unpack_guest = !strcmp(value, "guest");
    } else if (!strcmp(name, "disk")) {
        struct disk_config d;
        if (!options_parse_disk(value, &d, error))
            return false;
        g_array_append_val(o->disks, d);
    } else if (!strcmp(name, "cdrom")) {
        set_str(&o->cdrom, value);
    } else if (!strcmp(name, "bios")) {
        set_str(&o->bios, value);
    } else if (!strcmp(name, "uefi")) {
        return uefi_config_parse(value, &o->uefi, error);
    } else if (!strcmp(name, "boot")) {
        g_auto(GStrv) items = g_strsplit(value, ",", -1);
        for (char **i = items; *i; i++)
            if (strcmp(*i, "cdrom") && strcmp(*i, "disk") && strcmp(*i, "menu"))
                return invalid(error, _("--boot: unknown device '%s' (cdrom, disk, menu)"), *i);
        set_str(&o->boot, value);
    } else if (!strcmp(name, "net")) {
        struct net_config n;
        if (!options_parse_net(value, &n, error))
            return false;
        g_array_append_val(o->nets, n);
    } else if (!strcmp(name, "serial")) {
        g_autoptr(GError) local = NULL;
        enum chardev_backend backend;
        const char *path;
        if (!chardev_spec_parse(value, &backend, &path, &local))
            return invalid(error, "--serial: %s", local->message);
        set_str(&o->serial, value);
    } else if (!strcmp(name, "vnc")) {
        if (!g_str_has_prefix(value, "unix:") && !g_str_has_prefix(value, "127.0.0.1:"))
            return invalid(error, _("--vnc takes unix:PATH or 127.0.0.1:PORT, not '%s'"), value);
        set_str(&o->vnc, value);
    } else if (!strcmp(name, "control")) {
        set_str(&o->control, value);
    } else if (!strcmp(name, "restore")) {
        if (!*value)
            return invalid(error, _("--restore needs a file name"));
        set_str(&o->restore, value);
    } else if (!strcmp(name, "hyperv")) {
        return cpu_config_parse_hyperv(&o->cpu, value, error);
    } else if (!strcmp(name, "tpm")) {
        if (!g_str_has_prefix(value, "swtpm=") || !value[6])
            return invalid(error, _("--tpm takes swtpm=PATH (swtpm's control socket), not '%s'"),
                           value);
        set_str(&o->tpm_swtpm, value + 6);
    } else if (!strcmp(name, "rtc-base")) {
        if (strcmp(value, "utc") && strcmp(value, "localtime"))
            return invalid(error, _("--rtc-base must be 'utc' or 'localtime', not '%s'"), value);
        o->rtc_localtime = !strcmp(value, "localtime");
    } else if (!strcmp(name, "machine")) {
        return options_parse_machine(value, &o->machine, &o->smm, error);
    } else if (!strcmp(name, "usb")) {
        if (!strcmp(value, "uhci"))
            o->usb = USB_CONTROLLER_UHCI;
        else if (!strcmp(value, "xhci"))
            o->usb = USB_CONTROLLER_XHCI;
        else
            return invalid(error, _("--usb must be 'uhci' or 'xhci', not '%s'"), value);
    } else if (!strcmp(name, "config")) {
        return read_config_file(o, value, error);
    } else {
        return invalid(error, _("Unknown option --%s"), name);
    }
    return true;
}

bool options_parse_machine(const char *s, enum machine_type *type, bool *smm, GError **error)
{
    g_auto(GStrv) items = g_strsplit(s, ",", -1);
    if (!items[0] || (strcmp(items[0], "pc") && strcmp(items[0], "q35")))
        return invalid(error, _("--machine must be 'pc' or 'q35', not '%s'"), items[0] ? items[0] : "");
    bool want_smm = false;
    for (char **i = items + 1; *i; i++) {
        if (!strcmp(*i, "smm=on"))
            want_smm = true;
        else if (!strcmp(*i, "smm=off"))
            want_smm = false;
        else
            return invalid(error, _("--machine: unknown setting '%s' (smm=on or smm=off)"), *i);
    }
    *type = !strcmp(items[0], "q35") ? MACHINE_Q35 : MACHINE_PC;
    *smm = want_smm;
    return true;
}

bool options_parse_config_text(struct vmm_options *o, const char *text, const char *source,
                               GError **error)
{
    g_auto(GStrv) lines = g_strsplit(text, "\n", -1);
    unsigned lineno = 0;
    for (char **l = lines; *l; l++) {
        lineno++;
        char *line = g_strstrip(*l);
        if (!*line || *line == '#')
            continue;
        char *eq = strchr(line, '=');
        const char *value = NULL;
        if (eq) {
            *eq = '\0';
            value = g_strstrip(eq + 1);
            g_strstrip(line);
        }
        if (!strcmp(line, "config")) {
            return invalid(error, _("%s:%u: a configuration file cannot include another"),
                           source, lineno);
        }
        g_autoptr(GError) local = NULL;
        if (!options_apply(o, line, value, &local)) {
            g_set_error(error, OPTIONS_ERROR, local->code, "%s:%u: %s", source, lineno,
                        local->message);
            return false;
        }
    }
    return true;
}

bool options_parse_args(struct vmm_options *o, int argc, char **argv, GError **error)
{
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i];
        if (!g_str_has_prefix(arg, "--") || !arg[2]) {
            if (!strcmp(arg, "-h"))
                return options_apply(o, "help", NULL, error);
            return invalid(error, _("Unexpected argument '%s'"), arg);
        }
        g_autofree char *name = g_strdup(arg + 2);
        char *eq = strchr(name, '=');
        const char *value = NULL;
        if (eq) {
            *eq = '\0';
            value = eq + 1;
        }
        if (!is_known(name))
            return invalid(error, _("Unknown option --%s"), name);
        if (!eq && !is_flag(name)) {
            if (i + 1 >= argc)
                return invalid(error, _("--%s needs a value"), name);
            value = argv[++i];
        }
        if (!options_apply(o, name, value, error))
            return false;
    }
    return true;
}

static bool unavailable(GError **error, const char *option)
{
    g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_UNAVAILABLE,
                _("%s is not supported by this version of oriel-vmm yet"), option);
    return false;
}

bool options_validate(const struct vmm_options *o, GError **error)
{
    /* Firmware loading a kernel from fw_cfg needs a boot option ROM. */
    if (o->bios && o->kernel)
        return unavailable(error, "--kernel with --bios");
    if (o->uefi.code && o->kernel)
        return unavailable(error, "--kernel with --uefi");
    if (o->uefi.code && o->bios)
        return invalid(error, _("--uefi and --bios exclude each other: give one firmware"));
    /* The Secure Boot builds keep the store safe through SMM, which OVMF
     * supports on Q35 only. */
    if (o->uefi.secure && (o->machine != MACHINE_Q35 || !o->smm))
        return invalid(error, _("--uefi secure=on needs --machine q35,smm=on"));

    if (!o->kernel && !o->bios && !o->uefi.code)
        return invalid(error, _("--kernel, --bios or --uefi is required"));
    if (o->boot && !o->bios && !o->uefi.code)
        return invalid(error, _("--boot needs --bios or --uefi"));
    if (o->uefi.code && !uefi_config_check(&o->uefi, error))
        return false;
    if ((o->initrd || o->cmdline) && !o->kernel)
        return invalid(error, _("--initrd and --cmdline need --kernel"));
    if (o->memory < 16 * MIB || o->memory % MIB)
        return invalid(error, _("--memory must be a whole number of MiB, at least 16M"));
    if (o->memory > (1ULL << 40))
        return invalid(error, _("--memory must be at most 1T"));
    if (o->machine == MACHINE_Q35) {
        /* RAM below 4 GiB ends at 3 GiB on this platform; on Q35 it must
         * also leave the ECAM window free. */
        if (o->memory > PC_Q35_ECAM_BASE)
            return invalid(error, _("--machine q35 takes at most 2816M of --memory yet (more would "
                                    "cover the PCI Express configuration window at 0x%llx)"),
                           (unsigned long long)PC_Q35_ECAM_BASE);
        for (guint i = 0; i < o->disks->len; i++)
            if (g_array_index(o->disks, struct disk_config, i).iface == DISK_IF_IDE)
                return invalid(error, _("--machine q35 has no IDE controller: use if=ahci "
                                        "or if=virtio"));
    }
    return true;
}

char *options_help_text(void)
{
    return g_strdup(_(
        "Usage: oriel-vmm [OPTION...]\n"
        "Run one virtual machine on KVM.\n"
        "\n"
        "  --name NAME              VM name\n"
        "  --uuid UUID              firmware UUID\n"
        "  --memory SIZE            guest RAM (suffix K, M, G; default unit MiB)\n"
        "  --cpus N                 number of vCPUs (1-64)\n"
        "  --kernel FILE            Linux kernel (bzImage) to boot directly\n"
        "  --initrd FILE            initial ramdisk\n"
        "  --cmdline STRING         kernel command line\n"
        "  --kernel-cache DIR|none  where unpacked kernels are kept\n"
        "                           (default ~/.cache/oriel/kernels;\n"
        "                           /var/cache/oriel/kernels for root)\n"
        "  --kernel-unpack host|guest\n"
        "                           who unpacks the bzImage (default host)\n"
        "  --disk path=P[,if=virtio|ide|ahci|nvme][,format=raw|qcow2|synthetic][,readonly=on][,serial=S][,discard=on]\n"
        "                           add a disk (repeatable)\n"
        "  --cdrom FILE             ISO image on the IDE CD-ROM\n"
        "  --bios FILE              firmware image\n"
        "  --uefi code=FILE,vars=FILE[,secure=on]\n"
        "                           UEFI firmware (OVMF): code read-only, variables\n"
        "                           kept in vars\n"
        "  --boot cdrom,disk[,menu] firmware boot order; menu: offer the boot menu\n"
        "  --net user[,hostfwd=tcp::HOSTPORT-:GUESTPORT][,mac=M][,model=virtio|e1000|e1000e]\n"
        "  --net tap=IFNAME[,mac=M][,model=virtio|e1000|e1000e]\n"
        "                           add a network card (repeatable)\n"
        "  --serial stdio|pty|file:PATH|unix:PATH|none\n"
        "                           where the first serial port goes\n"
        "  --vnc unix:PATH|127.0.0.1:PORT\n"
        "                           serve the screen over VNC\n"
        "  --control PATH           JSON control socket\n"
        "  --no-reboot              end when the guest reboots\n"
        "  --hyperv LIST            Hyper-V enlightenments: relaxed, vapic,\n"
        "                           spinlocks=N, vpindex, runtime, synic, stimer,\n"
        "                           stimer-direct, reset, vendor-id=S, frequencies,\n"
        "                           reenlightenment, tlbflush, ipi, avic, time\n"
        "  --kvm-hidden             do not show the KVM signature (nor kvmclock)\n"
        "  --rtc-base utc|localtime what the real-time clock keeps (default utc)\n"
        "  --machine pc|q35[,smm=on]\n"
        "                           chipset: i440FX (pc, default) or Q35 with ICH9;\n"
        "                           smm=on: System Management Mode\n"
        "  --usb uhci|xhci          USB controller of the tablet (xhci: and a USB\n"
        "                           keyboard); default: UHCI with the display\n"
        "  --tpm swtpm=PATH         TPM 2.0 (CRB) run by the swtpm whose control\n"
        "                           socket is PATH\n"
        "  --restore FILE           continue the VM saved in FILE instead of booting\n"
        "                           (give the options the saved VM had)\n"
        "  --paused                 start with the vCPUs paused (resume with cont)\n"
        "  --config FILE            read options from FILE (NAME = VALUE lines)\n"
        "  --help                   show this help\n"
        "  --version                show the version\n"
        "\n"
        "Exit status: 0 guest powered off or quit, 1 runtime failure,\n"
        "2 bad option or configuration, 3 KVM unusable.\n"));
}
