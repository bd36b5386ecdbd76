// SPDX-License-Identifier: MIT
/* Kernel release parsing (loader) and VM name rules (vmctl). */
#include <errno.h>
#include <string.h>
#include "loader/loader.h"
#include "vmctl/vmctl.h"
#include "tests/unit/unit.h"

UNIT_TEST(kernel_release_parse)
{
	int maj, min;

	EXPECT(loader__parse_release("6.1.0-56-cloud-amd64", &maj, &min) == 0 &&
	       maj == 6 && min == 1);
	EXPECT(loader__parse_release("5.10.0", &maj, &min) == 0 && maj == 5 && min == 10);
	EXPECT(loader__parse_release("6.18.44-fc-v595", &maj, &min) == 0 && min == 18);
	EXPECT(loader__parse_release("garbage", &maj, &min) == -EINVAL);
	EXPECT(loader__parse_release("6", &maj, &min) == -EINVAL);
	EXPECT(loader__parse_release(NULL, &maj, &min) == -EINVAL);
}

UNIT_TEST(kernel_check_runs)
{
	char rel[128] = "";
	int r = loader__kernel_check(rel, sizeof(rel));

	EXPECT(r == 0 || r == -ENOTSUP);
	EXPECT(rel[0] != 0);
}

UNIT_TEST(vm_names)
{
	char buf[64];

	EXPECT(vmctl__name_valid("guest-a_1.x") == 0);
	EXPECT(vmctl__name_valid("") == -EINVAL);
	EXPECT(vmctl__name_valid(".hidden") == -EINVAL);
	EXPECT(vmctl__name_valid("-opt") == -EINVAL);
	EXPECT(vmctl__name_valid("a/b") == -EINVAL);
	EXPECT(vmctl__name_valid("a b") == -EINVAL);
	EXPECT(vmctl__name_valid("..") == -EINVAL);
	EXPECT(vmctl__name_valid("0123456789012345678901234567890123") == -EINVAL);
	EXPECT(vmctl__instance_dir("/var/lib/stasis", "a", buf, sizeof(buf)) == 0 &&
	       strcmp(buf, "/var/lib/stasis/a") == 0);
	EXPECT(vmctl__instance_dir("/x", "../etc", buf, sizeof(buf)) == -EINVAL);
	EXPECT(vmctl__instance_dir("/a/very/long/root/folder/name/that/does/not/fit",
				   "guest", buf, 20) == -ENAMETOOLONG);
}
