/* What the image tests share: running a command, and the stock qemu-img
 * as the judge of the images oriel-vmm writes. */
#pragma once

#include <glib.h>

/* Runs a command line; returns its exit status (-1 if it did not exit),
 * its stdout and stderr together in *out if out is not NULL. */
int test_run(char **out, const char *fmt, ...) G_GNUC_PRINTF(2, 3);

/* qemu-img with these arguments succeeds, or the test fails with its output. */
void test_qemu_img_ok(const char *args);

/* qemu-img check reports neither corruption nor leaked clusters. */
void test_qcow2_assert_clean(const char *img);
