/* The VM state file as a container (SAVE.md): magic, format version, the
 * caller's opaque header, then named, versioned, length-prefixed sections,
 * an end marker and a CRC-32 over everything before it.
 *
 * Writing goes to a temporary file next to the target, which is fsync'ed
 * and renamed over it only when complete: a failed save never leaves a
 * partial file under the target's name.  Reading checks the magic, the
 * version, the recorded file size (truncation), the checksum (corruption)
 * and that every section lies inside the file before anything is used. */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define STATE_MAGIC "ORIELSAV"
#define STATE_MAGIC_LEN 8
#define STATE_FORMAT_VERSION 1u
#define STATE_HEADER_MAX (16u << 20)
#define STATE_NAME_MAX 63

#define STATE_ERROR (state_error_quark())
GQuark state_error_quark(void);

enum state_error_code {
    STATE_ERROR_IO,          /* the file cannot be written or read */
    STATE_ERROR_FORMAT,      /* not a state file, truncated, corrupted, bad values */
    STATE_ERROR_MISMATCH,    /* the saved VM is not configured like this one */
    STATE_ERROR_UNSUPPORTED, /* a device cannot be saved */
};

/* Set a STATE_ERROR_FORMAT error; returns false. */
bool state_format_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);
/* Set a STATE_ERROR_MISMATCH error; returns false. */
bool state_mismatch_error(GError **error, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* ---- writing ---- */

struct state_file_writer;

struct state_file_writer *state_file_writer_new(void);
void state_file_writer_free(struct state_file_writer *w);

/* Start a section (name: 1 to STATE_NAME_MAX characters of [a-z0-9._:-]). */
void state_file_writer_begin(struct state_file_writer *w, const char *name, uint32_t version);
/* Append bytes to the current section.  add_ref keeps only the pointer:
 * the memory must stay unchanged until state_file_write() returns (guest
 * RAM, with the vCPUs paused); add_bytes takes the array. */
void state_file_writer_add_ref(struct state_file_writer *w, const void *data, size_t len);
void state_file_writer_add_bytes(struct state_file_writer *w, GByteArray *bytes);

/* Write everything to path (see above).  Messages name the path and the
 * system's reason, e.g. "cannot write /x/y.sav: No space left on device". */
bool state_file_write(struct state_file_writer *w, const char *path, const char *header,
                      GError **error);

/* ---- reading ---- */

struct state_section {
    char name[STATE_NAME_MAX + 1];
    uint32_t version;
    const uint8_t *data;
    size_t len;
};

struct state_file;

/* Check and index len bytes at data (kept by the caller while the result
 * lives). */
struct state_file *state_file_parse(const void *data, size_t len, GError **error);
/* The same for a file, mapped; messages start with the path. */
struct state_file *state_file_open(const char *path, GError **error);
void state_file_free(struct state_file *f);
typedef struct state_file state_file;
G_DEFINE_AUTOPTR_CLEANUP_FUNC(state_file, state_file_free)

const char *state_file_header(const struct state_file *f);
unsigned state_file_section_count(const struct state_file *f);
const struct state_section *state_file_section_at(const struct state_file *f, unsigned i);
const struct state_section *state_file_find(const struct state_file *f, const char *name);

/* The CRC-32 the file uses (that of zlib), exposed for tests and fuzzing. */
uint32_t state_file_crc(uint32_t crc, const void *data, size_t len);
