#include "pvpanic.h"

#include <gio/gio.h>
#include <glib/gi18n.h>

static uint64_t pvpanic_read(void *opaque, uint64_t offset, unsigned size)
{
    /* The events this device reports. */
    return PVPANIC_PANICKED;
}

static void pvpanic_write(void *opaque, uint64_t offset, uint64_t value, unsigned size)
{
    if (value & PVPANIC_PANICKED)
        vm_report_panic(opaque);
}

static const struct io_ops pvpanic_ops = { .read = pvpanic_read, .write = pvpanic_write };

bool pvpanic_create(struct vm *vm, uint16_t port, GError **error)
{
    if (!iobus_register(vm_pio_bus(vm), port, 1, &pvpanic_ops, vm, "pvpanic")) {
        g_set_error(error, G_IO_ERROR, G_IO_ERROR_EXISTS,
                    _("Port 0x%x for pvpanic is already taken"), port);
        return false;
    }
    return true;
}
