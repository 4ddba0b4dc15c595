/* Opening /dev/kvm: the checks that decide whether this host can run an
 * unmodified PC guest at all, with a message a user can act on. */
#pragma once

#include <stdbool.h>
#include <glib.h>

#define KVM_ERROR (kvm_error_quark())
GQuark kvm_error_quark(void);

enum kvm_error_code {
    KVM_ERROR_MISSING,      /* no /dev/kvm */
    KVM_ERROR_ACCESS,       /* permission denied or open failed */
    KVM_ERROR_PVM,          /* the PVM backend: no hardware virtualization */
    KVM_ERROR_UNSUPPORTED,  /* API version or a required capability missing */
};

/* Open device (normally "/dev/kvm"), refusing PVM backends detected under
 * sysfs_module_dir (normally "/sys/module").  Returns the fd or -1. */
int kvm_open(const char *device, const char *sysfs_module_dir, GError **error);

/* KVM_CHECK_EXTENSION on the system fd; 0 when absent. */
int kvm_check_cap(int kvm_fd, long cap);
