/* KVM_GET_DIRTY_LOG for one memory slot. */
#include "dirty_log.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "vm_core.h"

static bool get_log(struct vm *vm, int kvm_slot, unsigned long *bitmap)
{
    struct kvm_dirty_log log = { .slot = (unsigned)kvm_slot, .dirty_bitmap = bitmap };
    return ioctl(vm_fd(vm), KVM_GET_DIRTY_LOG, &log) >= 0;
}

bool vm_get_dirty_log(struct vm *vm, int slot, unsigned long *bitmap, GError **error)
{
    uint64_t size = 0;
    int normal = slot < 0 ? -1 : vm_kvm_slot_of(vm, slot, MEMSLOT_AS_NORMAL, &size);
    if (normal < 0 || !get_log(vm, normal, bitmap)) {
        int e = normal < 0 ? EINVAL : errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot read the dirty page log of memory slot %d: %s"), slot,
                    g_strerror(e));
        return false;
    }
    /* Writes made in SMM land in the SMM view's twin of the slot. */
    int smm = vm_kvm_slot_of(vm, slot, MEMSLOT_AS_SMM, NULL);
    if (smm >= 0) {
        size_t words = (size_t)((size / 4096 + 63) / 64) * (64 / (8 * sizeof(unsigned long)));
        g_autofree unsigned long *more = g_new0(unsigned long, words);
        if (get_log(vm, smm, more))
            for (size_t i = 0; i < words; i++)
                bitmap[i] |= more[i];
    }
    return true;
}
