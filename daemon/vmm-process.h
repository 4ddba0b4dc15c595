/* One oriel-vmm process: spawning it in its own session, following its
 * exit (as our child, or through a pidfd when re-adopted after a daemon
 * restart) and talking JSON over its control socket. */
#pragma once

#include <glib.h>
#include <json-glib/json-glib.h>
#include <sys/types.h>

typedef struct VmmProcess VmmProcess;

typedef struct {
  /* An asynchronous event ("STOP", "SHUTDOWN", ...). */
  void (*event) (VmmProcess *vmm, const char *name, JsonObject *data, gpointer user);
  /* The process is gone.  status is a wait status, or -1 if unknown. */
  void (*exited) (VmmProcess *vmm, int status, gpointer user);
} VmmCallbacks;

/* ready: called once, with the process connected, or with an error (the
 * process is then already dead and freed). */
typedef void (*VmmReadyFn) (VmmProcess *vmm, const GError *error, gpointer data);
/* reply: result is the "return" member; on failure error is set. */
typedef void (*VmmReplyFn) (VmmProcess *vmm, JsonNode *result, const GError *error, gpointer data);

/* keep_fd >= 0: the VMM inherits it as descriptor 3 and keeps it open for
 * its lifetime (a lock that must last as long as the VM). */
void vmm_process_spawn (const char *vmm_path, const char *config_path, const char *control_path,
                        const char *log_path, int keep_fd, const VmmCallbacks *cb, gpointer user,
                        VmmReadyFn ready, gpointer data);
/* Re-adopt a VMM left running by a previous daemon. */
VmmProcess *vmm_process_adopt (pid_t pid, const char *control_path, const VmmCallbacks *cb,
                               gpointer user, GError **error);

void vmm_process_command (VmmProcess *vmm, const char *command, VmmReplyFn reply, gpointer data);
/* The same with an "arguments" object (not taken). */
void vmm_process_command_args (VmmProcess *vmm, const char *command, JsonObject *args,
                               VmmReplyFn reply, gpointer data);
pid_t vmm_process_pid (VmmProcess *vmm);
void vmm_process_kill (VmmProcess *vmm, int sig);
/* Stop watching (the process itself is left alone). */
void vmm_process_free (VmmProcess *vmm);

/* The last lines a failed VMM wrote to its log, for error messages. */
char *vmm_log_tail (const char *log_path);
