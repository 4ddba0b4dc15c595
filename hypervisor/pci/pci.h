/* The PCI bus of the PC: configuration mechanism #1 (ports 0xCF8/0xCFC),
 * devices with a 256-byte type-0 configuration header, BARs placed on the
 * VM's I/O buses, INTx wired to IOAPIC pins, capability lists.
 *
 * Only bus 0 and conventional (non-extended) configuration space exist.  A device embeds struct pci_device, fills its
 * IDs with pci_device_init(), declares BARs and capabilities, then
 * pci_register_device() gives it a slot and addresses for its BARs. */
#pragma once

#include <stdbool.h>
#include <stdint.h>
#include <glib.h>

#include "core/iobus.h"

struct vm;
struct pci_bus;
struct pci_device;
struct pci_host;
struct state_out;
struct state_in;

/* Standard configuration header offsets. */
#define PCI_VENDOR_ID        0x00
#define PCI_DEVICE_ID        0x02
#define PCI_COMMAND          0x04
#define PCI_STATUS           0x06
#define PCI_REVISION_ID      0x08
#define PCI_CLASS_PROG       0x09
#define PCI_CLASS_DEVICE     0x0a
#define PCI_CACHE_LINE_SIZE  0x0c
#define PCI_LATENCY_TIMER    0x0d
#define PCI_HEADER_TYPE      0x0e
#define PCI_BAR0             0x10
#define PCI_SUBSYSTEM_VENDOR_ID 0x2c
#define PCI_SUBSYSTEM_ID     0x2e
#define PCI_ROM_ADDRESS      0x30
#define PCI_CAPABILITY_LIST  0x34
#define PCI_INTERRUPT_LINE   0x3c
#define PCI_INTERRUPT_PIN    0x3d

#define PCI_COMMAND_IO          0x0001
#define PCI_COMMAND_MEMORY      0x0002
#define PCI_COMMAND_MASTER      0x0004
#define PCI_COMMAND_SERR        0x0100
#define PCI_COMMAND_INTX_DISABLE 0x0400
#define PCI_STATUS_INTERRUPT    0x0008
#define PCI_STATUS_CAP_LIST     0x0010

#define PCI_CAP_ID_MSIX   0x11
#define PCI_CAP_ID_VNDR   0x09

#define PCI_CONFIG_SIZE 256
#define PCI_NUM_BARS    6
#define PCI_MAX_SLOTS   32
#define PCI_MAX_FUNCS   8

enum pci_bar_type {
    PCI_BAR_NONE,
    PCI_BAR_IO,
    PCI_BAR_MEM32,
    PCI_BAR_MEM64,  /* uses this BAR and the next one */
};

struct pci_bar {
    enum pci_bar_type type;
    bool prefetch;
    uint64_t size;              /* power of two; 0 = unused */
    const struct io_ops *ops;
    void *opaque;
    /* Where the BAR currently decodes, if it does. */
    bool mapped;
    uint64_t mapped_addr;
};

/* The device model's own state, saved after the function's configuration
 * space (pci_state.c).  load() runs with the configuration restored and
 * the BARs decoding as it says. */
struct pci_state_ops {
    uint32_t version;
    bool (*save)(struct pci_device *dev, struct state_out *out, GError **error);
    bool (*load)(struct pci_device *dev, struct state_in *in, uint32_t version, GError **error);
};

struct pci_device {
    /* Filled by the device model before registering. */
    const char *name;
    uint8_t config[PCI_CONFIG_SIZE];
    uint8_t wmask[PCI_CONFIG_SIZE];    /* bits the guest may change */
    uint8_t w1cmask[PCI_CONFIG_SIZE];  /* bits a guest write of 1 clears */
    struct pci_bar bar[PCI_NUM_BARS];

    /* Optional hooks, called with the bus lock held (so a device sees
     * configuration accesses one at a time). */
    void (*config_written)(struct pci_device *dev, unsigned offset, unsigned size);
    /* Before a read of [offset, offset + size): refresh bytes that mirror
     * device state (e.g. a window into a BAR). */
    void (*config_read)(struct pci_device *dev, unsigned offset, unsigned size);
    void (*bar_moved)(struct pci_device *dev, unsigned bar, bool mapped, uint64_t addr);
    void *opaque;
    /* NULL: the device cannot be saved, and saving the VM fails naming it. */
    const struct pci_state_ops *state;

    /* Owned by the bus. */
    struct pci_bus *bus;
    unsigned slot;
    unsigned func;
    bool intx_level;            /* what the device drives */
    bool intx_counted;          /* whether it counts on the shared line */
    uint8_t next_cap;           /* where the next capability goes */
    uint8_t last_cap;           /* offset of the last capability, 0 = none */
};

/* Create bus 0 on the VM: claims ports 0xCF8-0xCFF and adds the i440FX host
 * bridge (00.0) and the PIIX3 ISA bridge (01.0), which also owns the reset
 * control register at 0xCF9. */
struct pci_bus *pci_bus_create(struct vm *vm);
/* Bus 0 without chipset functions, for a chipset that brings its own
 * (q35_host.h); it installs the reset control register with
 * pci_bus_set_reset_control(). */
struct pci_bus *pci_bus_new(struct vm *vm);

/* The reset control register that shares 0xCF8-0xCFF (a byte at 0xCF9),
 * owned by the chipset's ISA or LPC bridge. */
struct pci_reset_control {
    uint8_t (*read)(void *opaque);
    void (*write)(void *opaque, uint8_t value);
};
void pci_bus_set_reset_control(struct pci_bus *bus, const struct pci_reset_control *rc,
                               void *opaque);
void pci_bus_free(struct pci_bus *bus);
struct vm *pci_bus_vm(struct pci_bus *bus);
/* The i440FX host bridge and ISA bridge (pci_host.h); NULL on a bus made
 * with pci_bus_new(). */
struct pci_host *pci_bus_host(struct pci_bus *bus);

/* Zero the header and set IDs, class (base << 16 | sub << 8 | prog-if),
 * revision and the default write masks (command, cache line, latency,
 * interrupt line).  pin: 0 = no INTx, 1..4 = INTA..INTD. */
void pci_device_init(struct pci_device *dev, const char *name,
                     uint16_t vendor, uint16_t device, uint32_t class_code,
                     uint8_t revision, uint8_t pin);
void pci_device_set_subsystem(struct pci_device *dev, uint16_t vendor, uint16_t id);

/* Declare BAR n (before registering).  size is rounded up to a power of two
 * and at least 16 bytes (memory) or 4 bytes (I/O).  A 64-bit BAR takes
 * slots n and n + 1. */
void pci_device_set_bar(struct pci_device *dev, unsigned n, enum pci_bar_type type,
                        bool prefetch, uint64_t size,
                        const struct io_ops *ops, void *opaque);

/* Append a capability of len bytes (including the 2-byte ID/next header)
 * to the list; returns its offset, or 0 if configuration space is full. */
uint8_t pci_device_add_capability(struct pci_device *dev, uint8_t cap_id, uint8_t len);

/* Give the device the next free slot, allocate its BARs inside the PC PCI
 * windows (so a directly booted kernel finds them assigned) and add it to
 * the bus.  Decoding starts when the command register enables it. */
bool pci_register_device(struct pci_bus *bus, struct pci_device *dev, GError **error);

/* Put a specific slot and function to use (the chipset uses 00.0 and 01.0;
 * the PIIX functions 01.1 and up).  A function other than 0 needs the
 * function 0 device to set bit 7 of its header type for guests to look. */
bool pci_register_device_at(struct pci_bus *bus, struct pci_device *dev,
                            unsigned slot, unsigned func, GError **error);

/* Take the device off the bus (BARs stop decoding, INTx lowered). */
void pci_unregister_device(struct pci_device *dev);

/* Platform reset of the PCI function: decoding off (BARs unmapped, their
 * addresses kept so a directly booted kernel finds them again), INTx
 * lowered, status errors cleared. */
void pci_device_reset(struct pci_device *dev);

/* Drive the device's INTx pin.  Several devices share an IOAPIC input, so
 * the bus ORs them.  Ignored while the command register disables INTx
 * (the level is remembered and applied when it is re-enabled). */
void pci_set_irq(struct pci_device *dev, bool level);

/* GSI the device's INTx pin reaches (PC_PCI_INTX_GSI), or -1 without one. */
int pci_device_intx_gsi(const struct pci_device *dev);

/* Configuration accesses as the CPU makes them through 0xCF8/0xCFC; also
 * what the unit tests drive.  Unknown devices read as all ones. */
uint32_t pci_config_read(struct pci_bus *bus, unsigned slot, unsigned func,
                         unsigned offset, unsigned size);
void pci_config_write(struct pci_bus *bus, unsigned slot, unsigned func,
                      unsigned offset, uint32_t value, unsigned size);

/* An access through the PCI Express enhanced configuration window
 * (4 KiB per function): the first 256 bytes are the configuration space
 * above; the extended space of these conventional functions reads as 0
 * (no extended capabilities) and ignores writes.  Absent functions read
 * as all ones. */
#define PCIE_CONFIG_SIZE 4096
uint32_t pci_config_read_ext(struct pci_bus *bus, unsigned slot, unsigned func,
                             unsigned offset, unsigned size);
void pci_config_write_ext(struct pci_bus *bus, unsigned slot, unsigned func,
                          unsigned offset, uint32_t value, unsigned size);

/* For restoring a saved VM: take a saved configuration space the way
 * guest writes would (only writable bits; write-one-to-clear bits as
 * saved), then decode the BARs and drive INTx accordingly. */
void pci_device_restore_config(struct pci_device *dev, const uint8_t *config, bool intx_level);
uint32_t pci_bus_config_address(struct pci_bus *bus);
void pci_bus_set_config_address(struct pci_bus *bus, uint32_t value);

/* Little-endian accessors for a device's own configuration bytes. */
static inline uint16_t pci_get_word(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline uint32_t pci_get_long(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline void pci_set_word(uint8_t *p, uint16_t v) { p[0] = v; p[1] = v >> 8; }
static inline void pci_set_long(uint8_t *p, uint32_t v)
{
    p[0] = v; p[1] = v >> 8; p[2] = v >> 16; p[3] = v >> 24;
}
