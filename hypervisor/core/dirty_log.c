/* KVM_GET_DIRTY_LOG for one memory slot. */
#include "dirty_log.h"

#include <errno.h>
#include <gio/gio.h>
#include <glib/gi18n.h>
#include <linux/kvm.h>
#include <sys/ioctl.h>

#include "vm.h"

bool vm_get_dirty_log(struct vm *vm, int slot, unsigned long *bitmap, GError **error)
{
    struct kvm_dirty_log log = { .slot = (unsigned)slot, .dirty_bitmap = bitmap };
    if (slot < 0 || ioctl(vm_fd(vm), KVM_GET_DIRTY_LOG, &log) < 0) {
        int e = slot < 0 ? EINVAL : errno;
        g_set_error(error, G_IO_ERROR, g_io_error_from_errno(e),
                    _("Cannot read the dirty page log of memory slot %d: %s"), slot,
                    g_strerror(e));
        return false;
    }
    return true;
}
