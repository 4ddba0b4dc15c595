/* Saving a running domain's state to a file and continuing it from there:
 * virsh save/restore (an image at a path the client names) and managed
 * save (an image the daemon keeps per persistent domain, which the next
 * start continues from). */
#pragma once

#include "domain-driver.h"

/* Pause, write the image (the VMM's state plus the domain XML) and stop the
 * domain (shut off, reason saved).  dxml replaces the XML stored (same name
 * and uuid).  flags: SAVE_RUNNING / SAVE_PAUSED choose the state a restore
 * comes back in (default: the state at save time).  On failure the domain
 * runs on as before. */
void domain_save (DomainObj *dom, const char *path, const char *dxml, guint flags,
                  DomainDoneFn done, gpointer data);

/* Start the domain saved in path again.  FALSE with error when the image
 * cannot be used; otherwise done reports the start. */
gboolean domain_restore (Daemon *d, const char *path, const char *dxml, guint flags,
                         DomainDoneFn done, gpointer data, GError **error);

/* The domain XML stored in a save image. */
char *domain_save_image_xml (const char *path, GError **error);

char *domain_managed_save_path (DomainObj *dom);
gboolean domain_has_managed_save (DomainObj *dom);
void domain_managed_save (DomainObj *dom, guint flags, DomainDoneFn done, gpointer data);
gboolean domain_managed_save_remove (DomainObj *dom, GError **error);
/* Start dom from its managed save image, in the configuration and state it
 * was saved in (paused also when asked), deleting the image once it runs;
 * FALSE (nothing done) when there is no image. */
gboolean domain_managed_start (DomainObj *dom, gboolean paused, DomainDoneFn done, gpointer data);
