/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Where glibc's struct pthread keeps its thread's TID, to name the thread of a pthread_t (which is
 * the address of that struct, the thread pointer) without stopping it: CPython before 3.11 knows
 * its threads by pthread_t only. The offset comes from libc's DWARF (libc6-dbg, or a debug file the
 * symbolizer found) when there is one: member "tid" of struct pthread in the CU of pthread_create.
 * Without DWARF it comes from a table of glibc versions whose layout was checked against their
 * DWARF, the version read from libc's banner ("... release version 2.36."); any other glibc has no
 * offset, and its pthread_t's are not named (never a guessed offset). */
#ifndef CT_INTERP_PTHREADTID_H
#define CT_INTERP_PTHREADTID_H

#include <elfutils/libdwfl.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define CT_PTHREAD_MAX_TID_OFF 4096 /* struct pthread's tid is in its first page */

/* How the offset was learned */
enum ct_pthread_tid_how { CT_PTHREAD_TID_DWARF = 1, CT_PTHREAD_TID_TABLE };

/* The offset of tid in the struct pthread of the libc that dwfl's process maps. 0 with *ret_off
 * and *ret_how (unless NULL); -ENOENT (no libc.so.6 mapped), -CT_ENODEBUG (no DWARF and a glibc version the
 * table does not have, or no version found), -EPROTO (DWARF whose struct pthread has no 4-byte
 * tid within CT_PTHREAD_MAX_TID_OFF). */
int ct_pthread_tid_offset(Dwfl *dwfl, size_t *ret_off, enum ct_pthread_tid_how *ret_how);

/* The same from one libc module: its DWARF, else the table */
int ct_pthread_tid_offset_module(Dwfl_Module *libc, size_t *ret_off, enum ct_pthread_tid_how *ret_how);

/* The glibc version in a banner ("GNU C Library (Debian GLIBC 2.36-9+deb12u9) stable release
 * version 2.36."), searched for in buf. 0 or -ENOENT. */
int ct_glibc_banner_version(const char *buf, size_t len, unsigned *ret_major, unsigned *ret_minor);

/* The table: the offset for a glibc version on this architecture, 0 or -ENOENT. */
int ct_pthread_tid_known(unsigned major, unsigned minor, size_t *ret_off);

/* The TID of the thread whose struct pthread is at thread_id in pid, read at off: kept only when
 * pid has a thread of that TID (/proc/PID/task/TID), else 0 (also when off is 0). */
uint64_t ct_pthread_tid_read(pid_t pid, size_t off, uint64_t thread_id);

#endif
