/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Separate debug files. By build-id, in the absolute search directories (the administrator's and
 * --debug-dir's), libdwfl looks; everywhere else ctrace looks itself. libdwfl's path search
 * open()s every candidate without O_NONBLOCK, and the candidates are named by the target: its
 * file's directory and .gnu_debuglink, and, for a dwz file (.gnu_debugaltlink), a debug file found
 * there. A FIFO planted at any of them would block ctrace for good, a directory "opens", a device
 * opens. Each candidate here is stat()ed, open()ed with O_NONBLOCK, fstat()ed, and used only when
 * it is a regular file whose build-id (or else CRC) matches.
 *
 * What goes wrong on the way (a candidate not a regular file, a file that does not match, a copy the
 * debug-file cache cannot keep) is handed back for the caller to say: nothing here warns. */
#ifndef CT_DEBUGFIND_H
#define CT_DEBUGFIND_H

#include <elfutils/libdwfl.h>
#include <stdbool.h>

struct ct_debugfind_result {
	bool alt;         /* the lookup was for the module's dwz file (.gnu_debugaltlink), not its debug file */
	bool searched;    /* the files near the module's file were looked at (nothing found by build-id) */
	bool by_build_id; /* they were matched by build-id, else by .gnu_debuglink CRC */
	int cache_err;    /* -errno: a debug file found but its inflated copy not kept (debugcache.h) */
	char *bad;        /* the first candidate that exists but is a FIFO, device or directory */
	char *mismatch;   /* the first regular file that does not match */
};

/* libdwfl's find_debuginfo callback, with search the ':'-separated debuginfo path (NULL: by build-id
 * only). libdwfl asks for a module's debug file while it has none, and for its dwz file once it has
 * one; the answer is an fd and *ret_name, or -1. *ret is filled either way: free it with
 * ct_debugfind_result_free. */
int ct_debugfind(Dwfl_Module *mod, void **userdata, const char *modname, Dwarf_Addr base, const char *file_name,
		 const char *debuglink_file, GElf_Word debuglink_crc, const char *search, char **ret_name,
		 struct ct_debugfind_result *ret);
void ct_debugfind_result_free(struct ct_debugfind_result *r);

#endif
