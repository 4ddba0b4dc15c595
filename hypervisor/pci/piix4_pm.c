#include "piix4_pm.h"

#include <string.h>
#include <gio/gio.h>

#include "core/vm.h"
#include "pci.h"

struct piix4_pm {
    struct pci_device pci;
    struct piix4_pm_config cfg;
    uint16_t base;          /* last base the listener heard */
};

static uint16_t decoded_base(const struct piix4_pm *pm)
{
    if (!(pm->pci.config[PIIX4_PM_PMREGMISC] & PIIX4_PM_PMIOSE))
        return 0;
    return (uint16_t)(pci_get_word(&pm->pci.config[PIIX4_PM_PMBA]) & PIIX4_PM_PMBA_MASK);
}

static void update(struct piix4_pm *pm, bool force)
{
    uint16_t base = decoded_base(pm);
    if (base == pm->base && !force)
        return;
    pm->base = base;
    if (pm->cfg.set_base)
        pm->cfg.set_base(pm->cfg.opaque, base);
}

static void config_written(struct pci_device *d, unsigned offset, unsigned size)
{
    struct piix4_pm *pm = d->opaque;
    if ((offset < PIIX4_PM_PMBA + 4 && offset + size > PIIX4_PM_PMBA) ||
        (offset <= PIIX4_PM_PMREGMISC && offset + size > PIIX4_PM_PMREGMISC))
        update(pm, false);
}

/* Power-on values of the registers the guest can change. */
static void set_defaults(struct piix4_pm *pm)
{
    uint8_t *c = pm->pci.config;
    memset(c + 0x40, 0, PCI_CONFIG_SIZE - 0x40);
    /* Bit 0 of the two base registers says "I/O space"; fixed. */
    pci_set_long(&c[PIIX4_PM_PMBA], 1u | pm->cfg.reset_base);
    pci_set_long(&c[PIIX4_PM_SMBBA], 1u);
    if (pm->cfg.reset_base)
        c[PIIX4_PM_PMREGMISC] = PIIX4_PM_PMIOSE;
    if (!pm->cfg.smm)
        pci_set_long(&c[PIIX4_PM_DEVACTB], PIIX4_PM_APMC_EN);
}

static void piix4_pm_reset(void *opaque)
{
    struct piix4_pm *pm = opaque;
    pci_device_reset(&pm->pci);
    set_defaults(pm);
    update(pm, true);
}

/* ---- VM state: all in configuration space, saved by the PCI layer. */

static bool pm_save(struct pci_device *d, struct state_out *o, GError **error)
{
    return true;
}

static bool pm_load(struct pci_device *d, struct state_in *in, uint32_t version, GError **error)
{
    update(d->opaque, true);
    return true;
}

static const struct pci_state_ops pm_state = { .version = 1, .save = pm_save, .load = pm_load };

struct piix4_pm *piix4_pm_create(struct pci_bus *bus, const struct piix4_pm_config *config,
                                 GError **error)
{
    struct piix4_pm *pm = g_new0(struct piix4_pm, 1);
    pm->cfg = *config;
    struct pci_device *d = &pm->pci;
    pci_device_init(d, "piix4-pm", 0x8086, 0x7113, 0x068000, 0x03, 0);
    /* Chipset registers: plain storage for the firmware, except the two
     * base registers and PMREGMISC, whose other bits are fixed. */
    for (unsigned o = 0x40; o < PCI_CONFIG_SIZE; o++)
        d->wmask[o] = 0xff;
    pci_set_long(&d->wmask[PIIX4_PM_PMBA], PIIX4_PM_PMBA_MASK);
    pci_set_long(&d->wmask[PIIX4_PM_SMBBA], 0xfff0u);
    d->wmask[PIIX4_PM_PMREGMISC] = PIIX4_PM_PMIOSE;
    set_defaults(pm);
    d->config_written = config_written;
    d->opaque = pm;
    d->state = &pm_state;
    if (!pci_register_device_at(bus, d, PIIX4_PM_SLOT, PIIX4_PM_FUNC, error)) {
        g_free(pm);
        return NULL;
    }
    vm_add_reset_handler(pci_bus_vm(bus), piix4_pm_reset, pm);
    update(pm, true);
    return pm;
}

void piix4_pm_free(struct piix4_pm *pm)
{
    g_free(pm);
}

uint16_t piix4_pm_base(struct piix4_pm *pm)
{
    return pm->base;
}
