/* oriel-vmm: one virtual machine per process.  Parses the options, checks
 * KVM, builds the PC, serves the control socket and runs until the guest
 * powers off or the host asks it to stop. */
#include <locale.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <glib.h>
#include <glib/gi18n.h>

#include "core/kvm.h"
#include "config/options.h"
#include "core/vm_core.h"
#include "core/vm_state.h"
#include "machine/machine.h"
#include "control/control_server.h"
#include "chardev/chardev.h"

#ifndef ORIEL_VERSION
#define ORIEL_VERSION "0.1.0"
#endif

enum {
    EXIT_OK = 0,
    EXIT_RUNTIME = 1,
    EXIT_CONFIG = 2,
    EXIT_KVM = 3,
};

/* Our threads (vCPUs, GLib's worker) need little stack, and an 8 MiB
 * default stack is costly: its top lands in a 2 MiB aligned range that
 * transparent huge pages back with a whole 2 MiB page on first touch.  Below
 * 2 MiB a stack costs only the pages it uses. */
#define THREAD_STACK_SIZE (1024 * 1024)

static void set_default_thread_stack_size(void)
{
    pthread_attr_t attr;
    if (pthread_attr_init(&attr) != 0)
        return;
    if (pthread_attr_setstacksize(&attr, THREAD_STACK_SIZE) == 0)
        pthread_setattr_default_np(&attr);
    pthread_attr_destroy(&attr);
}

int main(int argc, char **argv)
{
    setlocale(LC_ALL, "");
    bindtextdomain(GETTEXT_PACKAGE, LOCALEDIR);
    bind_textdomain_codeset(GETTEXT_PACKAGE, "UTF-8");
    textdomain(GETTEXT_PACKAGE);
    /* Sockets to vanished clients must fail with EPIPE, not kill us. */
    signal(SIGPIPE, SIG_IGN);
    set_default_thread_stack_size();

    struct vmm_options o;
    options_init(&o);
    g_autoptr(GError) error = NULL;
    int code = EXIT_OK;

    if (!options_parse_args(&o, argc, argv, &error)) {
        g_printerr("oriel-vmm: %s\n", error->message);
        g_printerr(_("Try 'oriel-vmm --help'.\n"));
        code = EXIT_CONFIG;
        goto out;
    }
    if (o.help) {
        g_autofree char *help = options_help_text();
        fputs(help, stdout);
        goto out;
    }
    if (o.version) {
        printf("oriel-vmm %s\n", ORIEL_VERSION);
        goto out;
    }
    if (!options_validate(&o, &error)) {
        g_printerr("oriel-vmm: %s\n", error->message);
        code = EXIT_CONFIG;
        goto out;
    }

    const char *dev = g_getenv("ORIEL_KVM_DEVICE");
    int kvm_fd = kvm_open(dev ? dev : "/dev/kvm", "/sys/module", &error);
    if (kvm_fd < 0) {
        g_printerr("oriel-vmm: %s\n", error->message);
        code = EXIT_KVM;
        goto out;
    }

    struct machine *machine = machine_create(&o, kvm_fd, &error);
    if (!machine) {
        g_printerr("oriel-vmm: %s\n", error->message);
        code = error->domain == OPTIONS_ERROR ? EXIT_CONFIG
             : error->domain == KVM_ERROR ? EXIT_KVM : EXIT_RUNTIME;
        goto out;
    }

    if (o.restore && !vm_state_load(machine_vm(machine), o.restore, &error)) {
        g_printerr(_("oriel-vmm: cannot restore: %s\n"), error->message);
        machine_destroy(machine);
        /* A file that is missing, damaged or from another configuration,
         * or values in it that KVM refuses: all are bad input. */
        code = EXIT_CONFIG;
        goto out;
    }
    vm_set_start(machine_vm(machine), !o.restore, o.paused);

    struct control_server *ctl = NULL;
    if (o.control) {
        ctl = control_server_new(machine, o.control, &error);
        if (!ctl) {
            g_printerr("oriel-vmm: %s\n", error->message);
            machine_destroy(machine);
            code = EXIT_RUNTIME;
            goto out;
        }
    }

    code = vm_run(machine_vm(machine));

    control_server_free(ctl);
    machine_destroy(machine);
out:
    chardev_restore_terminal();
    options_clear(&o);
    return code;
}
