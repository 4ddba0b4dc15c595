#include "pci_state.h"
#include "pci.h"
#include "core/vm_state.h"

#include <string.h>
#include <glib/gi18n.h>

#define BUS_VERSION 1u
#define FUNCTION_VERSION 1u

static bool bus_save(void *opaque, struct state_out *o, GError **error)
{
    state_out_u32(o, pci_bus_config_address(opaque));
    return true;
}

static bool bus_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    pci_bus_set_config_address(opaque, state_in_u32(in));
    return true;
}

static const struct vm_state_ops bus_ops = {
    .version = BUS_VERSION, .stage = VM_STATE_STAGE_DEVICE,
    .save = bus_save, .load = bus_load,
};

void pci_state_register_bus(struct vm *vm, struct pci_bus *bus)
{
    vm_state_register(vm, "pci-bus", &bus_ops, bus);
}

static bool function_save(void *opaque, struct state_out *o, GError **error)
{
    struct pci_device *dev = opaque;
    /* The device model's part first: finishing pending work there may
     * still change the configuration space (interrupt status). */
    struct state_out model;
    state_out_init(&model);
    if (!dev->state->save(dev, &model, error)) {
        state_out_clear(&model);
        return false;
    }
    state_out_bytes(o, dev->config, PCI_CONFIG_SIZE);
    state_out_bool(o, dev->intx_level);
    state_out_u32(o, dev->state->version);
    state_out_bytes(o, model.buf->data, model.buf->len);
    state_out_clear(&model);
    return true;
}

static bool function_load(void *opaque, struct state_in *in, uint32_t version, GError **error)
{
    struct pci_device *dev = opaque;
    const uint8_t *config = state_in_ptr(in, PCI_CONFIG_SIZE);
    bool intx = state_in_bool(in);
    uint32_t model_version = state_in_u32(in);
    if (in->short_read)
        return state_in_invalid(in, error, _("the configuration space is truncated"));
    /* The slot must hold the same kind of function. */
    if (memcmp(config, dev->config, 4) != 0 ||
        memcmp(config + PCI_REVISION_ID, dev->config + PCI_REVISION_ID, 4) != 0)
        return state_in_invalid(in, error, _("a different PCI device was saved in this slot"));
    if (model_version != dev->state->version)
        return state_in_invalid(in, error, _("version %u of the device state; this oriel-vmm reads %u"),
                                model_version, dev->state->version);
    pci_device_restore_config(dev, config, intx);
    return dev->state->load(dev, in, model_version, error);
}

static const struct vm_state_ops function_ops = {
    .version = FUNCTION_VERSION, .stage = VM_STATE_STAGE_DEVICE,
    .save = function_save, .load = function_load,
};

void pci_state_register_device(struct vm *vm, struct pci_device *dev)
{
    g_autofree char *name = g_strdup_printf("pci:%02x.%u:%s", dev->slot, dev->func, dev->name);
    for (char *p = name; *p; p++) {
        *p = g_ascii_tolower(*p);
        if (!g_ascii_isalnum(*p) && !strchr("._:-", *p))
            *p = '-';
    }
    name[MIN(strlen(name), 63u)] = '\0';
    if (dev->state)
        vm_state_register(vm, name, &function_ops, dev);
    else
        vm_state_refuse(vm, name);
}
