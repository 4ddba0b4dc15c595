/* Tap devices for <interface type='bridge'>: the daemon (root) creates a
 * persistent tap, brings it up and enslaves it to the bridge before the
 * VMM starts (the VMM opens it by name), and removes it when the domain
 * stops. */
#pragma once

#include <glib.h>

/* A new tap device ("vnetN", the kernel picks N) on bridge; returns its
 * name (g_free), or NULL with an error naming what failed. */
char *tap_device_create (const char *bridge, GError **error);
/* Remove a tap made by tap_device_create(); a missing one is no error. */
void tap_device_delete (const char *name);
