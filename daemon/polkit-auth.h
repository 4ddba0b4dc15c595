/* Asking polkit whether a client process may manage virtual machines: the
 * optional authorization of desktop users on the read-write socket
 * (`--auth-rw polkit`), like libvirtd's auth_unix_rw = "polkit". */
#pragma once

#include <glib.h>
#include <sys/types.h>

#define POLKIT_ACTION_MANAGE "org.oriel.virt.manage"

/* error is NULL when polkit allows it.  Otherwise VIR_ERR_AUTH_FAILED when
 * polkit says no, VIR_ERR_AUTH_UNAVAILABLE when it cannot be asked or wants
 * a password and no authentication agent is there to ask for it. */
typedef void (*PolkitAuthDone) (const GError *error, gpointer data);

/* Asynchronous (the daemon keeps serving while an agent may be prompting
 * the user).  Asks about action for process pid of user uid. */
void polkit_auth_check (pid_t pid, uid_t uid, const char *action, PolkitAuthDone done, gpointer data);

/* The start time of pid (field 22 of /proc/PID/stat), which polkit uses
 * with the pid to know the process was not replaced; 0 if unknown. */
guint64 polkit_process_start_time (pid_t pid);
