/* Translation of a domain definition into an oriel-vmm configuration file
 * (the `--config FILE` format of hypervisor/OPTIONS.md). */
#pragma once

#include "domain-def.h"

/* def must carry live facts already chosen (VNC port).  Returns the file
 * text, or NULL with a CONFIG_UNSUPPORTED error naming what cannot run. */
char *vmm_config_build (const DomainDef *def, const char *control_path, GError **error);

/* A free TCP port on 127.0.0.1 from 5900 up, skipping ports in `taken`. */
int vmm_config_pick_vnc_port (GHashTable *taken);
