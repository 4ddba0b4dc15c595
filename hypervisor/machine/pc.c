#include <inttypes.h>
#include "chipset.h"
#include "pc_chipset.h"
#include "config/pc_layout.h"
#include "core/e820.h"
#include "bootorder.h"
#include "firmware.h"
#include "upper_memory.h"
#include "pci/pci_host.h"
#include "core/smm.h"
#include "pc_devices.h"
#include "device_registry.h"
#include "core/vm_core.h"
#include "core/vcpu.h"
#include "boot/linux.h"
#include "boot/kernel_cache.h"
#include "chardev/chardev.h"
#include "devices/uart16550.h"
#include "devices/i8042.h"
#include "devices/rtc_cmos.h"
#include "devices/pvpanic.h"
#include "pci/pci.h"
#include "acpi/acpi_tables.h"
#include "virtio/virtio_devices.h"
#include "devices/acpi_pm.h"
#include "pci/piix4_pm.h"
#include "devices/fw_cfg.h"
#include "devices/tpm_crb.h"
#include "backends/tpm_swtpm.h"

#include <string.h>
#include <sys/mman.h>
#include <unistd.h>
#include <gio/gio.h>
#include <glib/gi18n.h>

struct serial_port {
    struct pc *pc;
    struct uart16550 *uart;
    struct chardev *chr;
    unsigned irq;
};

/* A PC on either chipset (pc_chipset.h): the common machine first, then
 * what is the PC's. */
struct pc {
    struct machine base;
    const struct pc_chipset_ops *chipset;
    void *chipset_state;
    struct serial_port com[2];
    struct i8042 *i8042;
    struct rtc_cmos *rtc;
    struct pci_bus *pci;
    struct acpi_pm *acpi_pm;
    GPtrArray *blks;
    GMappedFile *kernel;
    GMappedFile *initrd;
    struct acpi_platform acpi;
    bool have_acpi;
    struct upper_memory *upper_memory;
    struct firmware *firmware;
    struct tpm_crb *tpm;
};

/* --- glue between device models and the VM ---------------------------- */

static void serial_set_irq(void *opaque, bool level)
{
    struct serial_port *s = opaque;
    vm_set_irq(s->pc->base.vm, s->irq, level);
}

static void serial_transmit(void *opaque, uint8_t byte)
{
    struct serial_port *s = opaque;
    chardev_write(s->chr, &byte, 1);
}

static void serial_rx_ready(void *opaque)
{
    struct serial_port *s = opaque;
    chardev_accept_input(s->chr);
}

static bool serial_tx_busy(void *opaque)
{
    struct serial_port *s = opaque;
    return chardev_write_busy(s->chr);
}

static void serial_tx_ready(void *opaque)
{
    struct serial_port *s = opaque;
    uart16550_tx_ready(s->uart);
}

static const struct uart16550_ops serial_ops = {
    .set_irq = serial_set_irq,
    .transmit = serial_transmit,
    .rx_ready = serial_rx_ready,
    .tx_busy = serial_tx_busy,
};

static size_t serial_can_receive(void *opaque)
{
    struct serial_port *s = opaque;
    return uart16550_can_receive(s->uart);
}

static void serial_receive(void *opaque, const uint8_t *buf, size_t len)
{
    struct serial_port *s = opaque;
    uart16550_receive(s->uart, buf, len);
}

static void serial_reset(void *opaque)
{
    struct serial_port *s = opaque;
    uart16550_reset(s->uart);
}

static void kbd_set_irq(void *opaque, unsigned irq, bool level)
{
    struct pc *pc = opaque;
    vm_set_irq(pc->base.vm, irq == 12 ? PC_I8042_AUX_IRQ : PC_I8042_KBD_IRQ, level);
}

static void kbd_reset_line(void *opaque)
{
    struct pc *pc = opaque;
    vm_request_reset(pc->base.vm);
}

static const struct i8042_ops kbd_ops = { .set_irq = kbd_set_irq, .reset = kbd_reset_line };

static void kbd_reset(void *opaque)
{
    i8042_reset(opaque);
}

static void rtc_set_irq(void *opaque, bool level)
{
    struct pc *pc = opaque;
    vm_set_irq(pc->base.vm, PC_RTC_IRQ, level);
}

static const struct rtc_cmos_ops rtc_ops = { .set_irq = rtc_set_irq };

static void rtc_reset(void *opaque)
{
    rtc_cmos_reset(opaque);
}

/* POST code port 0x80 and the delay port 0xED: writes go nowhere. */
static uint64_t sink_read(void *opaque, uint64_t offset, unsigned size) { return 0xff; }
static void sink_write(void *opaque, uint64_t offset, uint64_t value, unsigned size) { }
static const struct io_ops sink_ops = { .read = sink_read, .write = sink_write };

static bool claim(struct pc *pc, uint64_t base, uint64_t len, const struct io_ops *ops,
                  void *opaque, const char *name, GError **error)
{
    if (!iobus_register(vm_pio_bus(pc->base.vm), base, len, ops, opaque, name)) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("Port 0x%" PRIx64 " for %s is already taken"), base, name);
        return false;
    }
    return true;
}

static bool add_serial(struct pc *pc, unsigned idx, const char *spec, uint16_t port,
                       unsigned irq, GError **error)
{
    struct serial_port *s = &pc->com[idx];
    s->pc = pc;
    s->irq = irq;
    if (spec && strcmp(spec, "none") != 0) {
        g_autofree char *label = g_strdup_printf("serial%u", idx);
        s->chr = chardev_open(spec, label, vm_main_context(pc->base.vm), error);
        if (!s->chr)
            return false;
    }
    s->uart = uart16550_new(&serial_ops, s);
    if (s->chr) {
        chardev_set_receiver(s->chr, serial_can_receive, serial_receive, s);
        chardev_set_write_ready(s->chr, serial_tx_ready, s);
        pc->base.serial[idx] = s->chr;
    }
    device_registry_add(pc->base.registry, idx ? "com2" : "com1", s->uart, &uart16550_state_ops,
                        serial_reset, s);
    return claim(pc, port, 8, &uart16550_io_ops, s->uart, idx ? "com2" : "com1", error);
}

static bool add_legacy_devices(struct pc *pc, GError **error)
{
    const char *serial = pc->base.opts->serial ? pc->base.opts->serial : "stdio";
    if (!add_serial(pc, 0, serial, PC_COM1_PORT, PC_COM1_IRQ, error) ||
        !add_serial(pc, 1, NULL, PC_COM2_PORT, PC_COM2_IRQ, error))
        return false;

    pc->i8042 = i8042_new(&kbd_ops, pc);
    device_registry_add(pc->base.registry, "i8042", pc->i8042, &i8042_state_ops, kbd_reset, pc->i8042);
    if (!claim(pc, PC_I8042_DATA_PORT, 1, &i8042_data_io_ops, pc->i8042, "i8042", error) ||
        !claim(pc, PC_I8042_CMD_PORT, 1, &i8042_cmd_io_ops, pc->i8042, "i8042", error))
        return false;

    pc->rtc = rtc_cmos_new(&rtc_ops, pc, vm_main_context(pc->base.vm));
    const struct guest_memory *m = vm_memory(pc->base.vm);
    rtc_cmos_set_platform_info(pc->rtc, m->low_size, m->high_size, vm_cpu_count(pc->base.vm));
    if (pc->base.opts->rtc_localtime) {
        /* The host's zone now; a guest keeping local time corrects for
         * daylight saving itself. */
        g_autoptr(GDateTime) now = g_date_time_new_now_local();
        rtc_cmos_set_offset(pc->rtc, (int64_t)g_date_time_get_utc_offset(now));
    }
    device_registry_add(pc->base.registry, "rtc", pc->rtc, &rtc_cmos_state_ops, rtc_reset, pc->rtc);
    if (!claim(pc, PC_RTC_PORT, 2, &rtc_cmos_io_ops, pc->rtc, "rtc", error))
        return false;

    if (!pvpanic_create(pc->base.vm, PC_PVPANIC_PORT, error))
        return false;
    return claim(pc, 0x80, 1, &sink_ops, pc, "post", error) &&
           claim(pc, 0xed, 1, &sink_ops, pc, "io-delay", error);
}

static bool add_pci_devices(struct pc *pc, GError **error)
{
    pc->pci = pc->chipset->create_bus(pc->base.vm, pc->base.opts, &pc->chipset_state, error);
    if (!pc->pci)
        return false;
    for (guint i = 0; i < pc->base.opts->disks->len; i++) {
        const struct disk_config *d = &g_array_index(pc->base.opts->disks, struct disk_config, i);
        if (d->iface != DISK_IF_VIRTIO)
            continue;   /* pc_devices.c */
        struct virtio_blk *blk = virtio_blk_create(pc->base.vm, pc->pci, d, error);
        if (!blk)
            return false;
        g_ptr_array_add(pc->blks, blk);
        machine_drive_add(&pc->base, machine_drive_name("vd", pc->blks->len - 1), "virtio", d->path,
                          d->readonly, false);
    }
    for (guint i = 0; i < pc->base.opts->nets->len; i++) {
        const struct net_config *n = &g_array_index(pc->base.opts->nets, struct net_config, i);
        if (n->model == NET_MODEL_E1000 || n->model == NET_MODEL_E1000E)
            continue;   /* pc_devices.c */
        if (!virtio_net_create(pc->base.vm, pc->pci, n, error))
            return false;
    }
    /* An entropy source costs nothing and spares guests a slow boot
     * waiting for randomness. */
    return virtio_rng_create(pc->base.vm, pc->pci, error) != NULL;
}

/* The TPM the guest measures into: swtpm, which the caller (the daemon)
 * started with the VM's TPM state, behind the CRB interface. */
static bool add_tpm(struct pc *pc, GError **error)
{
    const char *ctrl = pc->base.opts->tpm_swtpm;
    if (!ctrl)
        return true;
    struct tpm_backend *be = tpm_swtpm_connect(ctrl, error);
    if (!be)
        return false;
    pc->tpm = tpm_crb_create(pc->base.vm, be, error);
    if (!pc->tpm)
        return false;
    device_registry_add(pc->base.registry, "tpm-crb", pc->tpm, &tpm_crb_state_ops,
                        tpm_crb_reset, pc->tpm);
    return true;
}

static bool has_firmware(const struct pc *pc)
{
    return pc->base.opts->bios || pc->base.opts->uefi.code;
}

static bool add_acpi(struct pc *pc, GError **error)
{
    pc->acpi_pm = pc->chipset->create_acpi_pm(pc->chipset_state, pc->base.vm, pc->base.registry,
                                              error);
    if (!pc->acpi_pm)
        return false;
    pc->acpi = (struct acpi_platform){
        .ncpus = vm_cpu_count(pc->base.vm),
        .has_pci = true,
        .has_com1 = true,
        .has_com2 = true,
        .has_i8042 = true,
        .has_rtc = true,
        .has_pvpanic = true,
        .has_fw_cfg = has_firmware(pc),
        .has_tpm_crb = pc->tpm != NULL,
    };
    pc->chipset->describe_acpi(pc->chipset_state, &pc->acpi);
    pc->have_acpi = true;
    /* Firmware gets the tables through fw_cfg (firmware.c) and owns the
     * BIOS area. */
    if (has_firmware(pc))
        return true;
    return acpi_tables_install(vm_memory(pc->base.vm), &pc->acpi, error);
}

static GMappedFile *map_file(const char *path, const char *what, GError **error)
{
    g_autoptr(GError) local = NULL;
    GMappedFile *f = g_mapped_file_new(path, FALSE, &local);
    if (!f)
        g_set_error(error, OPTIONS_ERROR, OPTIONS_ERROR_INVALID, _("Cannot read the %s: %s"), what,
                    local->message);
    return f;
}

/* Once the kernel and initrd are copied into guest RAM their file pages
 * are dead weight until the next reset: drop them from this process (they
 * fault back in from the page cache or the file when a reset reloads). */
static void release_file_pages(GMappedFile *f)
{
    if (f && g_mapped_file_get_length(f))
        madvise(g_mapped_file_get_contents(f), g_mapped_file_get_length(f), MADV_DONTNEED);
}

/* The kernel proper of --kernel, so that the guest need not unpack it at
 * every boot; NULL (the bzImage boots as it is) when it cannot be unpacked. */
static GBytes *unpacked_kernel(struct pc *pc)
{
    if (pc->base.opts->kernel_unpack_guest)
        return NULL;
    const char *dir = pc->base.opts->kernel_cache;
    g_autofree char *default_dir = dir ? NULL : kernel_cache_default_dir();
    if (dir && !strcmp(dir, "none"))
        dir = NULL;
    else if (!dir)
        dir = default_dir;
    g_autoptr(GError) why = NULL;
    GBytes *vmlinux = kernel_cache_get(dir, pc->base.opts->kernel,
                                       (const uint8_t *)g_mapped_file_get_contents(pc->kernel),
                                       g_mapped_file_get_length(pc->kernel), &why);
    if (!vmlinux)
        g_debug("kernel: booting %s through its own decompressor: %s", pc->base.opts->kernel,
                why->message);
    return vmlinux;
}

/* At power-on and after every reset: lay out the kernel and point the
 * boot processor at it. */
static bool boot_linux(void *opaque, GError **error)
{
    struct pc *pc = opaque;
    struct guest_memory *m = vm_memory(pc->base.vm);

    if (pc->chipset->firmware_setup)
        pc->chipset->firmware_setup(pc->chipset_state);
    if (pc->have_acpi && !has_firmware(pc) && !acpi_tables_install(m, &pc->acpi, error))
        return false;

    struct e820_entry e820[E820_MAX_ENTRIES];
    unsigned n = e820_build(m, e820, G_N_ELEMENTS(e820) - 1);
    /* The PCI Express configuration window is the chipset's: reserved,
     * as firmware reports it. */
    if (n && pc->have_acpi && pc->acpi.ecam_base)
        e820[n++] = (struct e820_entry){ .addr = pc->acpi.ecam_base, .size = pc->acpi.ecam_size,
                                         .type = E820_RESERVED };
    struct linux_e820 table[E820_MAX_ENTRIES];
    for (unsigned i = 0; i < n; i++)
        table[i] = (struct linux_e820){ e820[i].addr, e820[i].size, e820[i].type };

    struct linux_boot_params p = {
        .kernel = (const uint8_t *)g_mapped_file_get_contents(pc->kernel),
        .kernel_size = g_mapped_file_get_length(pc->kernel),
        .cmdline = pc->base.opts->cmdline,
        .e820 = table,
        .n_e820 = n,
        .acpi_rsdp = pc->have_acpi ? pc->acpi.rsdp_addr : 0,
    };
    if (pc->initrd) {
        p.initrd = (const uint8_t *)g_mapped_file_get_contents(pc->initrd);
        p.initrd_size = g_mapped_file_get_length(pc->initrd);
    }
    g_autoptr(GBytes) vmlinux = unpacked_kernel(pc);
    if (vmlinux) {
        p.vmlinux = g_bytes_get_data(vmlinux, NULL);
        p.vmlinux_size = g_bytes_get_size(vmlinux);
    }
    struct linux_boot_layout layout;
    bool loaded = linux_load(m, &p, &layout, error);
    release_file_pages(pc->kernel);
    release_file_pages(pc->initrd);
    if (!loaded) {
        g_prefix_error(error, "%s: ", pc->base.opts->kernel);
        return false;
    }
    return linux_setup_bsp(vm_vcpu(pc->base.vm, 0), &layout, error);
}

/* --- the i440FX and PIIX3 ------------------------------------------------- */

/* The chipset's own state: the bus with the host bridge, and the PIIX4
 * power-management function that places the ACPI PM block. */
struct i440fx {
    struct pci_bus *bus;
    struct piix4_pm *pm_function;
    struct acpi_pm *acpi_pm;
    bool firmware;          /* --bios or --uefi: the firmware programs PMBA */
    bool uefi;
    bool smm;
};

static struct pci_bus *i440fx_create_bus(struct vm *vm, const struct vmm_options *o, void **state,
                                         GError **error)
{
    struct pci_bus *bus = pci_bus_create(vm);
    if (!bus) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot create the PCI bus"));
        return NULL;
    }
    struct i440fx *ch = g_new0(struct i440fx, 1);
    ch->bus = bus;
    ch->firmware = o->bios || o->uefi.code;
    ch->uefi = o->uefi.code != NULL;
    ch->smm = o->smm;
    *state = ch;
    return bus;
}

/* The PIIX4 PM function moved the ACPI PM block (firmware wrote PMBA). */
static void pm_base_changed(void *opaque, uint16_t base)
{
    struct i440fx *ch = opaque;
    acpi_pm_set_base(ch->acpi_pm, base, base != 0);
    if (base && acpi_pm_base(ch->acpi_pm) != base)
        g_warning("The guest put the ACPI PM block at port 0x%x, which is taken", base);
}

static struct acpi_pm *piix4_create_acpi_pm(void *state, struct vm *vm, struct device_registry *r,
                                            GError **error)
{
    struct i440fx *ch = state;
    struct acpi_pm *pm = acpi_pm_create(vm);
    if (!pm) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS, _("Cannot create the ACPI PM block"));
        return NULL;
    }
    device_registry_add(r, "acpi-pm", pm, &acpi_pm_state_ops, NULL, NULL);
    ch->acpi_pm = pm;
    /* Firmware programs the block's base itself; a kernel booted directly
     * finds it where SeaBIOS would have put it. */
    struct piix4_pm_config pmc = {
        .reset_base = ch->firmware ? 0 : PC_ACPI_PM_BASE,
        .smm = ch->smm,
        .set_base = pm_base_changed,
        .opaque = ch,
    };
    ch->pm_function = piix4_pm_create(ch->bus, &pmc, error);
    if (!ch->pm_function)
        return NULL;
    return pm;
}

static void i440fx_describe_acpi(void *state, struct acpi_platform *p)
{
    struct i440fx *ch = state;
    /* Where the firmware will program PMBA: OVMF has its own value. */
    p->pm_base = ch->uefi ? PC_ACPI_PM_BASE_OVMF : PC_ACPI_PM_BASE;
}

static void pam_changed(void *opaque, const uint8_t *pam)
{
    upper_memory_set_pam(opaque, pam);
}

static void apm_written(void *opaque, uint8_t cmd)
{
    pci_host_apm_written(opaque);
}

/* --machine ...,smm=on: KVM's SMM view, then the chipset's SMRAM and SMI
 * sources. */
static bool add_smm(struct pc *pc, GError **error)
{
    if (!pc->base.opts->smm)
        return true;
    if (!pc->chipset->enable_smm) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                    _("--machine %s has no System Management Mode"), pc->chipset->name);
        return false;
    }
    if (!vm_smm_enable(pc->base.vm, error)) {
        g_prefix_error(error, "--machine smm=on: ");
        return false;
    }
    return pc->chipset->enable_smm(pc->chipset_state, pc->base.vm, pc->pci, pc->acpi_pm, error);
}

/* The i440FX: its SMRAM register and SMIs from the APM port. */
static bool i440fx_enable_smm(void *state, struct vm *vm, struct pci_bus *bus, struct acpi_pm *pm,
                              GError **error)
{
    struct pci_host *host = pci_bus_host(bus);
    pci_host_enable_smm(host);
    acpi_pm_set_apm_listener(pm, apm_written, host);
    return true;
}

static void i440fx_listen_pam(void *state, struct upper_memory *um)
{
    struct i440fx *ch = state;
    pci_host_set_pam_listener(pci_bus_host(ch->bus), pam_changed, um);
}

static void i440fx_free(void *state)
{
    struct i440fx *ch = state;
    /* The bus stays with the VM's buses. */
    piix4_pm_free(ch->pm_function);
    g_free(ch);
}

static const struct pc_chipset_ops i440fx_ops = {
    .name = "pc",
    .smbios_product = "Oriel PC (i440FX + PIIX, 1996)",
    .storage = { .has_ide = true, .sata_slot = -1 },
    .create_bus = i440fx_create_bus,
    .create_acpi_pm = piix4_create_acpi_pm,
    .describe_acpi = i440fx_describe_acpi,
    .listen_pam = i440fx_listen_pam,
    .enable_smm = i440fx_enable_smm,
    .free = i440fx_free,
};

static void pc_destroy(struct machine *m);

struct machine *pc_create(const struct vmm_options *o, int kvm_fd, GError **error)
{
    return pc_create_chipset(o, kvm_fd, &i440fx_ops, error);
}

struct machine *pc_create_chipset(const struct vmm_options *o, int kvm_fd,
                                  const struct pc_chipset_ops *chipset, GError **error)
{
    struct pc *pc = g_new0(struct pc, 1);
    machine_init(&pc->base, o);
    pc->chipset = chipset;
    pc->base.destroy = pc_destroy;
    pc->blks = g_ptr_array_new();

    if (o->kernel) {
        pc->kernel = map_file(o->kernel, _("kernel"), error);
        if (!pc->kernel)
            goto fail_fd;
    }
    if (o->initrd) {
        pc->initrd = map_file(o->initrd, _("initrd"), error);
        if (!pc->initrd)
            goto fail_fd;
    }

    pc->base.vm = vm_create(kvm_fd, o->memory, o->cpus, &o->cpu, error);
    kvm_fd = -1;
    if (!pc->base.vm)
        goto fail;
    vm_set_no_reboot(pc->base.vm, o->no_reboot);
    pc->base.registry = device_registry_new(pc->base.vm);
    pc->upper_memory = upper_memory_create(pc->base.vm, error);
    if (!pc->upper_memory)
        goto fail;

    if (!add_legacy_devices(pc, error) || !add_pci_devices(pc, error) || !add_tpm(pc, error) ||
        !add_acpi(pc, error) || !add_smm(pc, error))
        goto fail;
    pc->base.devices = pc_devices_create(pc->base.vm, pc->pci, o, &chipset->storage, pc->i8042,
                                         pc->upper_memory, &pc->base, error);
    if (!pc->base.devices)
        goto fail;
    if (o->bios || o->uefi.code) {
        g_autoptr(GPtrArray) virtio_disks = g_ptr_array_new_with_free_func(g_free);
        for (guint i = 0; i < pc->blks->len; i++)
            g_ptr_array_add(virtio_disks, virtio_blk_boot_path(pc->blks->pdata[i]));
        g_ptr_array_add(virtio_disks, NULL);
        /* OVMF too gets the order (default disk, then CD-ROM), as QEMU
         * gives it with libvirt's <boot dev>: without one, OVMF tries
         * boot options of its own first and may never reach the disk. */
        g_autofree char *bootorder = pc_devices_bootorder(pc->base.devices, o->boot,
                                                          (const char *const *)virtio_disks->pdata);
        struct firmware_config fc = {
            .bios_path = o->bios,
            .uefi = o->uefi.code ? &o->uefi : NULL,
            .registry = pc->base.registry,
            .bootorder = bootorder,
            .boot_menu = bootorder_wants_menu(o->boot),
            .boot_menu_ms = 5000,
            .uuid = o->uuid,
            .name = o->name,
            .acpi = pc->have_acpi ? &pc->acpi : NULL,
            .upper_memory = pc->upper_memory,
            .smbios_product = chipset->smbios_product,
        };
        pc->firmware = firmware_create(pc->base.vm, &fc, error);
        if (!pc->firmware)
            goto fail;
        device_registry_add(pc->base.registry, "fw-cfg", firmware_fw_cfg(pc->firmware),
                            &fw_cfg_state_ops, NULL, NULL);
        if (o->smm && chipset->smm_fw_cfg &&
            !chipset->smm_fw_cfg(pc->chipset_state, firmware_fw_cfg(pc->firmware))) {
            g_set_error(error, G_IO_ERROR, G_IO_ERROR_FAILED, _("Cannot add the SMI features to fw_cfg"));
            goto fail;
        }
        chipset->listen_pam(pc->chipset_state, pc->upper_memory);
    } else if (pc->kernel) {
        vm_set_boot_handler(pc->base.vm, boot_linux, pc);
    }
    return &pc->base;

fail_fd:
    if (kvm_fd >= 0)
        close(kvm_fd);
fail:
    pc_destroy(&pc->base);
    return NULL;
}

static void pc_destroy(struct machine *m)
{
    struct pc *pc = (struct pc *)m;
    /* The vCPUs stop first so no device is in use while it goes. */
    vm_destroy(pc->base.vm);
    for (unsigned i = 0; i < G_N_ELEMENTS(pc->com); i++) {
        chardev_close(pc->com[i].chr);
        uart16550_free(pc->com[i].uart);
    }
    i8042_free(pc->i8042);
    rtc_cmos_free(pc->rtc);
    tpm_crb_free(pc->tpm);
    g_ptr_array_free(pc->blks, TRUE);
    pc_devices_free(pc->base.devices);
    machine_clear(&pc->base);
    firmware_free(pc->firmware);
    if (pc->chipset_state)
        pc->chipset->free(pc->chipset_state);
    upper_memory_free(pc->upper_memory);
    if (pc->kernel)
        g_mapped_file_unref(pc->kernel);
    if (pc->initrd)
        g_mapped_file_unref(pc->initrd);
    g_free(pc);
}
