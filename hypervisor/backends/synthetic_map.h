/* The map file of a synthetic disk (format=synthetic, OPTIONS.md): which
 * physical disk the guest sees, in which mode, and how each byte range of
 * it is exposed.  The file is written by virtorield; the parser is strict
 * (a mistake here exposes or masks the wrong partition), so anything it
 * does not understand is refused with the line it is on. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

enum synthetic_mode {
    SYNTHETIC_TRIAL,    /* guest writes go to the trial overlay only */
    SYNTHETIC_REAL,     /* guest writes to pass ranges reach the device */
};

enum synthetic_kind {
    SYNTHETIC_ZERO,     /* not in the file: reads zeros, writes fail */
    SYNTHETIC_TABLE,    /* read from the device, writes fail */
    SYNTHETIC_PASS,     /* the device (real) or the trial overlay (trial) */
    SYNTHETIC_ESP,      /* always the ESP overlay */
};

struct synthetic_range {
    uint64_t offset;    /* bytes, a multiple of 512 */
    uint64_t length;    /* bytes, a multiple of 512, not 0 */
    enum synthetic_kind kind;
    unsigned line;      /* where the file names it, for messages */
};

struct synthetic_map {
    char *name;             /* the file, for messages */
    char *device;           /* paths as written in the file */
    char *esp_overlay;      /* NULL when absent */
    char *trial_overlay;    /* NULL when absent */
    enum synthetic_mode mode;
    struct synthetic_range *ranges;     /* sorted by offset, not overlapping */
    size_t n_ranges;
};

/* Longest map file accepted; real ones are a few hundred bytes. */
#define SYNTHETIC_MAP_MAX_SIZE (64 * 1024)
/* Most ranges accepted: a GPT disk has at most 128 partitions plus its
 * table areas. */
#define SYNTHETIC_MAP_MAX_RANGES 512

/* Parses the text of a map file; name is used in messages.  Refuses
 * (G_IO_ERROR_INVALID_DATA, naming the line) unknown keys, repeated
 * settings, bad numbers, ranges that are empty, not multiples of 512,
 * or overlapping, and files lacking the device, the mode, the trial
 * overlay in trial mode or the ESP overlay when there are esp ranges. */
struct synthetic_map *synthetic_map_parse(const char *text, size_t len, const char *name,
                                          GError **error);

/* Refuses ranges reaching past the end of a device of device_size bytes. */
bool synthetic_map_check_size(const struct synthetic_map *m, uint64_t device_size, GError **error);

/* The range holding byte offset, or (kind SYNTHETIC_ZERO) the gap up to
 * the next range or limit; *len is how many bytes from offset stay in it,
 * at most limit - offset.  offset < limit. */
enum synthetic_kind synthetic_map_lookup(const struct synthetic_map *m, uint64_t offset,
                                         uint64_t limit, uint64_t *len);

const char *synthetic_kind_name(enum synthetic_kind kind);

void synthetic_map_free(struct synthetic_map *m);
typedef struct synthetic_map synthetic_map;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(synthetic_map, synthetic_map_free)
