/* oriel-vmm's command line and --config files (see OPTIONS.md). */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "cpu_config.h"
#include "disk_config.h"
#include "net_config.h"
#include "uefi_config.h"

#define OPTIONS_ERROR (options_error_quark())
GQuark options_error_quark(void);

enum options_error_code {
    OPTIONS_ERROR_INVALID,      /* malformed option or value */
    OPTIONS_ERROR_UNAVAILABLE,  /* the device behind the option is not there yet */
};

#define OPTIONS_MAX_CPUS 64

/* --machine: the chipset the VM is built on. */
enum machine_type {
    MACHINE_PC,     /* i440FX/PIIX3 (default) */
    MACHINE_Q35,    /* Q35 MCH and ICH9 */
};

/* --usb: the controller the USB tablet (and keyboard) plug into. */
enum usb_controller {
    USB_CONTROLLER_DEFAULT,     /* UHCI with a tablet, with the display */
    USB_CONTROLLER_UHCI,
    USB_CONTROLLER_XHCI,
};

struct vmm_options {
    char *name;
    char *uuid;
    uint64_t memory;            /* bytes */
    unsigned cpus;
    char *kernel;
    char *initrd;
    char *cmdline;
    char *kernel_cache;         /* NULL: the default directory; "none": do not keep */
    bool kernel_unpack_guest;   /* --kernel-unpack guest: the bzImage's own decompressor */
    GArray *disks;              /* struct disk_config */
    char *cdrom;
    char *bios;
    struct uefi_config uefi;    /* --uefi; uefi.code NULL: none */
    char *boot;
    GArray *nets;               /* struct net_config */
    char *serial;               /* chardev spec */
    char *vnc;
    char *control;
    char *restore;              /* state file to start from instead of booting */
    bool paused;                /* start with the vCPUs paused */
    bool no_reboot;
    struct cpu_config cpu;      /* --hyperv, --kvm-hidden */
    char *tpm_swtpm;            /* --tpm swtpm=PATH: swtpm's control socket */
    bool rtc_localtime;         /* --rtc-base localtime (Windows keeps local time) */
    enum machine_type machine;  /* --machine pc|q35 */
    bool smm;                   /* --machine ...,smm=on: System Management Mode */
    enum usb_controller usb;    /* --usb */
    bool help;
    bool version;
};

void options_init(struct vmm_options *o);
void options_clear(struct vmm_options *o);

/* Parse argv (argv[0] is the program).  Later options override earlier
 * ones, including those read from a --config file. */
bool options_parse_args(struct vmm_options *o, int argc, char **argv, GError **error);

/* Apply the lines of a config file's text; source names it in messages. */
bool options_parse_config_text(struct vmm_options *o, const char *text, const char *source,
                               GError **error);

/* Apply one option by its long name (without "--"); value is NULL for flags. */
bool options_apply(struct vmm_options *o, const char *name, const char *value, GError **error);

/* Check the combination, and refuse what this build cannot do yet. */
bool options_validate(const struct vmm_options *o, GError **error);

/* Parsers for single values, exposed for tests. */
bool options_parse_size(const char *s, uint64_t *bytes, GError **error);
bool options_parse_disk(const char *s, struct disk_config *d, GError **error);
bool options_parse_net(const char *s, struct net_config *n, GError **error);
bool options_parse_machine(const char *s, enum machine_type *type, bool *smm, GError **error);

/* The --help text (translated). */
char *options_help_text(void);
