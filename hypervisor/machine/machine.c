#include "machine.h"
#include "chipset.h"
#include "device_registry.h"
#include "pc_devices.h"

#include <string.h>


struct machine *machine_create(const struct vmm_options *o, int kvm_fd, GError **error)
{
    switch (o->machine) {
    case MACHINE_Q35:
        return q35_create(o, kvm_fd, error);
    case MACHINE_PC:
    default:
        return pc_create(o, kvm_fd, error);
    }
}

void machine_destroy(struct machine *m)
{
    if (m)
        m->destroy(m);
}

static void drive_free(void *drive)
{
    struct machine_drive *d = drive;
    g_free(d->device);
    g_free(d->file);
    g_free(d);
}

void machine_init(struct machine *m, const struct vmm_options *o)
{
    m->opts = o;
    m->drives = g_ptr_array_new_with_free_func(drive_free);
}

void machine_clear(struct machine *m)
{
    g_clear_pointer(&m->drives, g_ptr_array_unref);
    g_clear_pointer(&m->registry, device_registry_free);
}

struct machine_drive *machine_drive_add(struct machine *m, char *device, const char *bus,
                                        const char *file, bool readonly, bool removable)
{
    struct machine_drive *d = g_new0(struct machine_drive, 1);
    *d = (struct machine_drive){ .device = device, .bus = bus, .file = g_strdup(file),
                                 .readonly = readonly, .removable = removable };
    g_ptr_array_add(m->drives, d);
    return d;
}

char *machine_drive_name(const char *prefix, unsigned index)
{
    char letters[8];
    unsigned n = sizeof(letters) - 1;
    letters[n] = '\0';
    do {
        letters[--n] = (char)('a' + index % 26);
        index /= 26;
    } while (index-- > 0 && n > 0);
    return g_strconcat(prefix, letters + n, NULL);
}

struct machine_drive *machine_drive_find(struct machine *m, const char *name)
{
    for (guint i = 0; i < m->drives->len; i++) {
        struct machine_drive *d = m->drives->pdata[i];
        if (!strcmp(d->device, name))
            return d;
    }
    return NULL;
}

void machine_send_key(struct machine *m, uint16_t scancode, bool down)
{
    pc_devices_send_key(m->devices, scancode, down);
}

struct vm *machine_vm(struct machine *m) { return m->vm; }
struct virtio_balloon *machine_balloon(struct machine *m) { return m->balloon; }
const struct vmm_options *machine_options(struct machine *m) { return m->opts; }
GPtrArray *machine_drives(struct machine *m) { return m->drives; }

struct display *machine_display(struct machine *m)
{
    return m->devices ? pc_devices_display(m->devices) : NULL;
}

unsigned machine_chardev_count(struct machine *m)
{
    unsigned n = 0;
    for (unsigned i = 0; i < MACHINE_MAX_SERIAL; i++)
        n += m->serial[i] != NULL;
    return n;
}

struct chardev *machine_chardev(struct machine *m, unsigned i)
{
    for (unsigned j = 0; j < MACHINE_MAX_SERIAL; j++) {
        if (!m->serial[j])
            continue;
        if (i-- == 0)
            return m->serial[j];
    }
    return NULL;
}

bool machine_cdrom_change_medium(struct machine *m, const char *path, GError **error)
{
    return pc_devices_cdrom_change_medium(m->devices, path, error);
}

bool machine_cdrom_eject(struct machine *m, bool force, GError **error)
{
    return pc_devices_cdrom_eject(m->devices, force, error);
}
