/* What the offline registry and the NTFS volume say about a Windows
 * installation: edition, build, boot-start storage drivers, hibernation. */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

typedef struct {
  int partition;           /* number of the partition holding it */
  gboolean bitlocker;      /* encrypted: nothing below could be read */
  char *read_error;        /* why the volume or a hive could not be read, or NULL */
  /* SOFTWARE\Microsoft\Windows NT\CurrentVersion (NULL when absent) */
  char *product_name;      /* "Windows 10 Pro" */
  char *edition_id;        /* "Professional" */
  char *current_build;     /* "19045" */
  char *display_version;   /* "22H2" */
  /* SYSTEM hive */
  int control_set;         /* Select\Current, 0 when unknown */
  int stornvme_start;      /* effective Start of the service, -1 when unknown */
  int storahci_start;
  /* NTFS volume */
  gboolean has_hiberfil;
  char hiberfil_magic[5];  /* first 4 bytes of hiberfil.sys, NUL-terminated */
  gboolean hibernated;     /* hiberfil.sys holds an image Windows will resume */
  gboolean volume_dirty;
  gboolean logfile_unclean;
} OrielWindowsInstall;

OrielWindowsInstall *oriel_windows_install_new (int partition);
void oriel_windows_install_free (OrielWindowsInstall *win);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (OrielWindowsInstall, oriel_windows_install_free)

/* Service Start values (HKLM\SYSTEM\CurrentControlSet\Services\X\Start). */
enum { ORIEL_SERVICE_START_BOOT = 0 };

/* Reads the SYSTEM hive file at hive_path into win (control set, stornvme
 * and storahci Start, honouring StartOverride\0 as Windows does). */
gboolean oriel_windows_read_system_hive (const char *hive_path, OrielWindowsInstall *win, GError **error);
/* Reads product name, edition, build and display version from SOFTWARE. */
gboolean oriel_windows_read_software_hive (const char *hive_path, OrielWindowsInstall *win, GError **error);

/* TRUE when the first bytes of hiberfil.sys mean a hibernation image that
 * Windows will resume ("hibr", "HIBR", "wake"); a zeroed header is not. */
gboolean oriel_hiberfil_magic_is_hibernated (const guint8 *buf, gsize len);

/* Reads the installation from the NTFS volume at [offset, offset + size) of
 * fd: returns NULL (no error) when the volume holds no
 * Windows/System32/config/SYSTEM. */
OrielWindowsInstall *oriel_windows_install_read (int fd, guint64 offset, guint64 size, int partition,
                                                 GError **error);

G_END_DECLS
