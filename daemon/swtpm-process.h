/* The swtpm behind a domain's <tpm>: one process per running VM, started
 * before its VMM with the VM's TPM state directory, reached by the VMM
 * through a control socket in the VM's run directory.  It ends when the
 * VMM closes that socket (--terminate), or when the daemon stops it. */
#pragma once

#include <glib.h>

/* Start swtpm for a TPM 2.0 whose state lives in state_dir (made if
 * missing, mode 0700) and wait until it listens on ctrl_path.  Returns its
 * pid, or 0 with error set (swtpm missing, exited, or not ready in time). */
GPid swtpm_process_start (const char *state_dir, const char *ctrl_path, const char *log_path,
                          GError **error);
void swtpm_process_stop (GPid pid);

/* Remove a TPM state directory and what it holds (undefine). */
gboolean swtpm_state_remove (const char *state_dir, GError **error);
