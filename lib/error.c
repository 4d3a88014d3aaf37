/* SPDX-License-Identifier: GPL-2.0-or-later */
#include "lib/error.h"

#include <string.h>

#include "lib/banned.h"

static const char *const messages[] = {
	[CT_EZOMBIE - CT_E_FIRST] = "process is a zombie",
	[CT_EKTHREAD - CT_E_FIRST] = "process is a kernel thread",
	[CT_ESELF - CT_E_FIRST] = "process is ctrace itself",
	[CT_ETRACED - CT_E_FIRST] = "process is already traced",
	[CT_EBADDUMP - CT_E_FIRST] = "not a thread dump ctrace understands",
	[CT_ENODEBUG - CT_E_FIRST] = "debug information is missing",
};

const char *ct_strerror(int err)
{
	if (err < 0)
		err = -err;
	if (err >= CT_E_FIRST && err < CT_E_LAST)
		return messages[err - CT_E_FIRST];
	return strerror(err);
}
