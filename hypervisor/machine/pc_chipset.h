/* What differs between the two PCs that pc.c assembles: the i440FX/PIIX3
 * (pc.c) and the Q35 MCH with ICH9 (q35.c).  The serial ports, i8042,
 * RTC, virtio devices, TPM, ACPI tables, firmware and direct Linux boot
 * are common; the chipset brings its PCI functions, its PM block, its
 * storage controllers and how it describes itself to the ACPI tables. */
#pragma once

#include <stdbool.h>
#include <glib.h>

struct vm;
struct pci_bus;
struct acpi_pm;
struct acpi_platform;
struct device_registry;
struct upper_memory;
struct vmm_options;
struct fw_cfg;

/* Where pc_devices.c puts disks and the CD-ROM. */
struct pc_storage_layout {
    bool has_ide;           /* PIIX3 IDE: --cdrom, if=ide, always with --bios */
    int sata_slot;          /* >= 0: the chipset's own AHCI function, always there */
    unsigned sata_func;
};

struct pc_chipset_ops {
    const char *name;               /* for messages */
    const char *smbios_product;
    struct pc_storage_layout storage;
    /* The PCI bus with the chipset's functions on it; *state is the
     * chipset's, passed to the other hooks. */
    struct pci_bus *(*create_bus)(struct vm *vm, const struct vmm_options *o, void **state,
                                  GError **error);
    /* The ACPI PM block, its state registered in r. */
    struct acpi_pm *(*create_acpi_pm)(void *state, struct vm *vm, struct device_registry *r,
                                      GError **error);
    /* Fill in what the ACPI tables say about the chipset. */
    void (*describe_acpi)(void *state, struct acpi_platform *p);
    /* Firmware boot: the PAM registers drive um from now on. */
    void (*listen_pam)(void *state, struct upper_memory *um);
    /* Direct Linux boot, at every reset: what firmware would program. */
    void (*firmware_setup)(void *state);
    /* --machine ...,smm=on, after vm_smm_enable(): the chipset's SMRAM
     * decoding and SMI sources follow the SMM address space.  NULL: the
     * chipset has no SMM. */
    bool (*enable_smm)(void *state, struct vm *vm, struct pci_bus *bus, struct acpi_pm *pm,
                       GError **error);
    /* Firmware boot with SMM: the SMI feature negotiation on fw_cfg.
     * Optional. */
    bool (*smm_fw_cfg)(void *state, struct fw_cfg *fw);
    /* After vm_destroy(). */
    void (*free)(void *state);
};

/* Build a PC on the given chipset (the create functions of chipset.h). */
struct machine *pc_create_chipset(const struct vmm_options *o, int kvm_fd,
                                  const struct pc_chipset_ops *chipset, GError **error);
