/* An AML byte-code writer for the DSDT (ACPI 6.x, chapter 20).
 *
 * Objects that enclose others (Scope, Device, Method, Package, Buffer) are
 * opened, filled and closed; closing computes and inserts the PkgLength
 * (and a Buffer's size), so callers never count bytes.  Errors (unbalanced
 * close, bad name, too deep) are sticky and reported by aml_finish(). */
#pragma once

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <glib.h>

#define AML_MAX_DEPTH 16

struct aml {
    GArray *buf;                 /* guint8 */
    size_t open[AML_MAX_DEPTH];  /* where each open object's PkgLength goes */
    uint8_t kind[AML_MAX_DEPTH];
    unsigned depth;
    bool failed;
};

void aml_init(struct aml *a);
/* Hand out the finished byte code (g_free it) or NULL with *error set if
 * the builder saw a mistake; the builder is empty afterwards either way. */
uint8_t *aml_finish(struct aml *a, size_t *len, GError **error);
void aml_clear(struct aml *a);

/* PkgLength encoding (20.2.4) of a package whose body (everything after
 * the PkgLength) is body_len bytes.  Writes 1-4 bytes to out and returns
 * how many, or 0 if the package is too large (>= 2^28 bytes). */
unsigned aml_pkglength_encode(size_t body_len, uint8_t out[4]);

/* Names: "ABCD", "_SB_", short segments padded ("PWR" -> "PWR_"),
 * absolute "\\_SB_.PCI0", relative "PCI0.COM1", parent prefixes "^^X". */
void aml_name_string(struct aml *a, const char *path);

/* Data objects. */
void aml_integer(struct aml *a, uint64_t v);  /* Zero/One/Ones or the smallest prefix */
void aml_string(struct aml *a, const char *s);
void aml_eisaid(struct aml *a, const char *id); /* "PNP0A03" -> compressed DWord */

/* Name(path, <data object that the caller appends next>) */
void aml_name(struct aml *a, const char *path);
void aml_name_integer(struct aml *a, const char *path, uint64_t v);
void aml_name_string_value(struct aml *a, const char *path, const char *s);
void aml_name_eisaid(struct aml *a, const char *path, const char *id);

/* Enclosing objects; each must be closed with aml_close(). */
void aml_scope_open(struct aml *a, const char *path);
void aml_device_open(struct aml *a, const char *path);
void aml_method_open(struct aml *a, const char *path, unsigned nargs, bool serialized);
void aml_package_open(struct aml *a, unsigned nelements); /* nelements <= 255 */
void aml_buffer_open(struct aml *a);
void aml_close(struct aml *a);

/* Statements for method bodies. */
void aml_return(struct aml *a);                      /* Return(<next object>) */
void aml_notify(struct aml *a, const char *path, uint64_t value);

/* Resource descriptors (6.4) for a ResourceTemplate: a Buffer whose last
 * descriptor is the end tag.  aml_rt_open/aml_rt_close wrap buffer open,
 * end tag and close. */
void aml_rt_open(struct aml *a);
void aml_rt_close(struct aml *a);
void aml_res_io(struct aml *a, uint16_t min, uint16_t max, uint8_t align, uint8_t len);
void aml_res_irq(struct aml *a, uint16_t irq_mask);  /* IRQNoFlags: edge, active high */
void aml_res_word_bus(struct aml *a, uint16_t min, uint16_t max);
void aml_res_word_io(struct aml *a, uint16_t min, uint16_t max);
/* Memory32Fixed: a fixed MMIO range of a device (not a bridge window). */
void aml_res_memory32_fixed(struct aml *a, uint32_t base, uint32_t len, bool writable);
void aml_res_dword_memory(struct aml *a, uint32_t min, uint32_t max, bool cacheable);
void aml_res_qword_memory(struct aml *a, uint64_t min, uint64_t max, bool cacheable);
