/* A disk as the user configured it (--disk path=P[,if=virtio|ide|ahci|nvme][,format=raw|qcow2|synthetic]
 * [,readonly=on][,serial=S][,discard=on]); the options parser fills it, the
 * device models (virtio-blk, IDE, AHCI, NVMe) consume it. */
#pragma once

#include <stdbool.h>
#include <glib.h>

enum disk_interface {
    DISK_IF_VIRTIO,
    DISK_IF_IDE,
    DISK_IF_AHCI,
    DISK_IF_NVME,
};

enum disk_format {
    DISK_FORMAT_RAW,
    DISK_FORMAT_QCOW2,
    DISK_FORMAT_SYNTHETIC,      /* path is the map file of a synthetic disk */
};

/* virtio-blk GET_ID returns at most this many bytes of the serial. */
#define DISK_SERIAL_MAX 20

struct disk_config {
    char *path;                 /* file or block device; owned (g_free) */
    enum disk_interface iface;
    enum disk_format format;
    bool readonly;              /* open O_RDONLY, refuse guest writes */
    char *serial;               /* NULL: none; owned (g_free) */
    bool discard;               /* pass guest discards to the file (punch holes) */
};

/* Free the owned strings and zero the struct. */
static inline void disk_config_clear(struct disk_config *c)
{
    g_free(c->path);
    g_free(c->serial);
    *c = (struct disk_config){ 0 };
}
