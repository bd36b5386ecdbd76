/* SPDX-License-Identifier: MIT */
/*
 * libstasis_vmctl: QEMU VMs over QMP, and the instance directories that
 * describe them (one folder per VM under an instances root).
 */
#ifndef STASIS_VMCTL_H
#define STASIS_VMCTL_H

#include <stddef.h>

/* A VM name is also a folder name and part of socket paths: 1-32 characters
 * of [A-Za-z0-9_.-], not starting with '.' or '-'. 0 or -EINVAL. */
int vmctl__name_valid(const char *name);
/* "ROOT/NAME" into @buf. -EINVAL for a bad name, -ENAMETOOLONG. */
int vmctl__instance_dir(const char *root, const char *name, char *buf, size_t len);

#endif
