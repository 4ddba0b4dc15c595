#include "pci_host.h"

#include <string.h>
#include <glib.h>

#include "core/smm.h"
#include "core/vm.h"
#include "pci.h"
#include "core/state_stream.h"

/* i440FX memory controller registers firmware programs. */
#define I440FX_PMCCFG  0x50
#define I440FX_PAM0    0x59
#define I440FX_PAM6    0x5f
#define I440FX_DRB0    0x60
#define I440FX_DRB7    0x67
#define I440FX_SMRAM   0x72
#define I440FX_SMRAM_DEFAULT 0x02
#define SMRAM_D_OPEN   0x40
#define SMRAM_D_CLS    0x20
#define SMRAM_D_LCK    0x10
#define SMRAM_G_SMRAME 0x08
#define SMRAM_WMASK    (SMRAM_D_OPEN | SMRAM_D_CLS | SMRAM_D_LCK | SMRAM_G_SMRAME)

/* PIIX3 function 0 registers. */
#define PIIX3_PIRQRC   0x60    /* PIRQA-D route control, 4 bytes */
#define PIIX3_PIRQ_DISABLED 0x80
#define PIIX3_TOM      0x69
#define PIIX3_MBIRQ0   0x70
#define PIIX3_SMICNTL  0xa0
#define PIIX3_SMICNTL_CSMIGATE 0x01
#define PIIX3_SMIEN    0xa2
#define PIIX3_SMIEN_APMC 0x80
#define PIIX3_SMIREQ   0xaa
#define PIIX3_SMIREQ_APMS 0x80

#define RCR_SYS_RST  0x02
#define RCR_RST_CPU  0x04
#define RCR_FULL_RST 0x08

struct pci_host {
    struct vm *vm;
    struct pci_device i440fx;
    struct pci_device piix3;
    uint8_t rcr;
    pci_host_pam_fn pam_fn;
    void *pam_opaque;
    bool smm;
};

static void notify_pam(struct pci_host *h)
{
    if (h->pam_fn)
        h->pam_fn(h->pam_opaque, &h->i440fx.config[I440FX_PAM0]);
}

/* The SMRAM register: D_OPEN shows the RAM behind the VGA window to
 * every access, G_SMRAME to those in SMM.  D_LCK closes it and freezes
 * the register until a hard reset.  D_CLS (data accesses from SMM to the
 * VGA) cannot be told from code fetches by KVM: SMM sees RAM. */
static void apply_smram(struct pci_host *h)
{
    uint8_t *r = &h->i440fx.config[I440FX_SMRAM];
    if (*r & SMRAM_D_LCK) {
        *r &= (uint8_t)~SMRAM_D_OPEN;
        h->i440fx.wmask[I440FX_SMRAM] = 0;
    }
    if (h->smm)
        vm_smm_set_legacy(h->vm, *r & SMRAM_G_SMRAME, *r & SMRAM_D_OPEN);
}

static void i440fx_config_written(struct pci_device *d, unsigned offset, unsigned size)
{
    if (offset <= I440FX_PAM6 && offset + size > I440FX_PAM0)
        notify_pam(d->opaque);
    if (offset <= I440FX_SMRAM && offset + size > I440FX_SMRAM)
        apply_smram(d->opaque);
}

/* A hard reset puts the memory controller back to its power-on state:
 * the BIOS area reads from ROM again. */
static void i440fx_reset(void *opaque)
{
    struct pci_host *h = opaque;
    memset(&h->i440fx.config[I440FX_PAM0], 0, I440FX_PAM6 - I440FX_PAM0 + 1);
    h->i440fx.config[I440FX_SMRAM] = I440FX_SMRAM_DEFAULT;
    h->i440fx.wmask[I440FX_SMRAM] = SMRAM_WMASK;
    notify_pam(h);
    apply_smram(h);
}

/* ---- VM state: the registers live in configuration space, which the PCI
 * layer saves; what follows is what depends on them. */

static bool i440fx_save(struct pci_device *d, struct state_out *o, GError **error)
{
    return true;
}

static bool i440fx_load(struct pci_device *d, struct state_in *in, uint32_t version,
                        GError **error)
{
    notify_pam(d->opaque);
    apply_smram(d->opaque);
    return true;
}

static const struct pci_state_ops i440fx_state = {
    .version = 1, .save = i440fx_save, .load = i440fx_load,
};

static bool piix3_save(struct pci_device *d, struct state_out *o, GError **error)
{
    struct pci_host *h = d->opaque;
    state_out_u8(o, pci_host_rcr_read(h));
    return true;
}

static bool piix3_load(struct pci_device *d, struct state_in *in, uint32_t version,
                       GError **error)
{
    struct pci_host *h = d->opaque;
    __atomic_store_n(&h->rcr, state_in_u8(in) & (RCR_SYS_RST | RCR_FULL_RST), __ATOMIC_RELAXED);
    return true;
}

static const struct pci_state_ops piix3_state = {
    .version = 1, .save = piix3_save, .load = piix3_load,
};

static void init_i440fx(struct pci_device *d)
{
    pci_device_init(d, "i440fx", 0x8086, 0x1237, 0x060000, 0x02, 0);
    pci_set_word(&d->config[PCI_COMMAND], PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&d->config[PCI_STATUS], 0x0280); /* fast back-to-back, medium DEVSEL */
    d->wmask[I440FX_PMCCFG] = 0xff;
    d->wmask[I440FX_PMCCFG + 1] = 0xff;
    for (unsigned o = I440FX_PAM0; o <= I440FX_PAM6; o++)
        d->wmask[o] = 0x33;   /* read/write enable for each half */
    d->wmask[I440FX_PAM0] = 0x30;
    for (unsigned o = I440FX_DRB0; o <= I440FX_DRB7; o++)
        d->wmask[o] = 0xff;
    d->config[I440FX_SMRAM] = I440FX_SMRAM_DEFAULT;
    /* D_OPEN, D_CLS, D_LCK, G_SMRAME; the base segment bits are fixed. */
    d->wmask[I440FX_SMRAM] = SMRAM_WMASK;
}

static void init_piix3(struct pci_device *d)
{
    pci_device_init(d, "piix3", 0x8086, 0x7000, 0x060100, 0x00, 0);
    pci_set_word(&d->config[PCI_COMMAND], PCI_COMMAND_IO | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER);
    pci_set_word(&d->config[PCI_STATUS], 0x0200);
    /* Multi-function: the IDE, USB and power-management functions sit at
     * 01.1 and up. */
    d->config[PCI_HEADER_TYPE] = 0x80;
    /* The chipset-specific registers (ISA timing, PIRQ routing, top of
     * memory, SMI control ...) are plain storage for firmware. */
    for (unsigned o = 0x4c; o < PCI_CONFIG_SIZE; o++)
        d->wmask[o] = 0xff;
    for (unsigned i = 0; i < 4; i++)
        d->config[PIIX3_PIRQRC + i] = PIIX3_PIRQ_DISABLED;
    d->config[PIIX3_TOM] = 0x02;
    d->config[PIIX3_MBIRQ0] = PIIX3_PIRQ_DISABLED;
    d->config[PIIX3_MBIRQ0 + 1] = PIIX3_PIRQ_DISABLED;
}

struct pci_host *pci_host_create(struct pci_bus *bus, struct vm *vm)
{
    struct pci_host *h = g_new0(struct pci_host, 1);
    h->vm = vm;
    init_i440fx(&h->i440fx);
    h->i440fx.config_written = i440fx_config_written;
    h->i440fx.opaque = h;
    h->i440fx.state = &i440fx_state;
    init_piix3(&h->piix3);
    h->piix3.opaque = h;
    h->piix3.state = &piix3_state;
    g_autoptr(GError) err = NULL;
    if (!pci_register_device_at(bus, &h->i440fx, 0, 0, &err) ||
        !pci_register_device_at(bus, &h->piix3, 1, 0, &err))
        g_error("%s", err->message);
    vm_add_reset_handler(vm, i440fx_reset, h);
    return h;
}

void pci_host_free(struct pci_host *host)
{
    g_free(host);
}

void pci_host_enable_smm(struct pci_host *host)
{
    host->smm = true;
    apply_smram(host);
}

void pci_host_apm_written(struct pci_host *host)
{
    if (!host->smm)
        return;
    const uint8_t *c = host->piix3.config;
    if (!(c[PIIX3_SMICNTL] & PIIX3_SMICNTL_CSMIGATE) || !(c[PIIX3_SMIEN] & PIIX3_SMIEN_APMC))
        return;
    __atomic_or_fetch(&host->piix3.config[PIIX3_SMIREQ], PIIX3_SMIREQ_APMS, __ATOMIC_RELAXED);
    /* On the PIIX the SMI goes to the processor that wrote the port. */
    vm_smm_raise(host->vm, SMM_CURRENT_VCPU);
}

void pci_host_set_pam_listener(struct pci_host *host, pci_host_pam_fn fn, void *opaque)
{
    host->pam_fn = fn;
    host->pam_opaque = opaque;
}

uint8_t pci_host_rcr_read(struct pci_host *host)
{
    return __atomic_load_n(&host->rcr, __ATOMIC_RELAXED);
}

void pci_host_rcr_write(struct pci_host *host, uint8_t value)
{
    __atomic_store_n(&host->rcr, value & (RCR_SYS_RST | RCR_FULL_RST), __ATOMIC_RELAXED);
    if (value & RCR_RST_CPU)
        vm_request_reset(host->vm);
}
